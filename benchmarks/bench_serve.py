"""`heliograph serve`'s rebuild after an incident is saved, on the large synthetic site.

    python benchmarks/bench_serve.py [--incidents 1000] [--edits 7] [--work DIR]

Makes the site with `make_large_site` (as `bench_build.py` does: `heliograph init`, then 100
components, a year of history and the incidents), starts `heliograph serve --port 0` on it,
then saves an edit to one incident --edits times, a second apart. For each it prints the
rebuild's own time, as serve reports it ("Built in 0.21 s"), and the wall time from the save
to that line (the file watcher's delay included), then the medians.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from make_large_site import make_site  # noqa: E402

_BUILT = re.compile(r"Built in (\d+\.\d+) s \(incidents/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--work", type=Path, default=HERE / ".data" / "serve")
    args = parser.parse_args(argv)
    site = make_site(args.work / f"site-{args.incidents}", incidents=args.incidents)
    subprocess.run([sys.executable, "-c", "from generator.cli import run; run()", "build"], cwd=site,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    process = subprocess.Popen([sys.executable, "-c", "from generator.cli import run; run()", "serve", "--port", "0"],
                               cwd=site, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONPATH": str(HERE.parent), "NO_COLOR": "1"})
    lines: list[tuple[float, str]] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append((time.perf_counter(), line))
            if "Serving" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(300):
            print("serve did not start:", "".join(line for _, line in lines))
            return 1
        time.sleep(2)  # the first build is done; the watcher is in place
        edited = sorted((site / "incidents").glob("*.md"))[len(list((site / "incidents").glob("*.md"))) // 2]
        original = edited.read_text(encoding="utf-8")
        builds, walls = [], []
        for number in range(args.edits):
            seen = len(lines)
            saved = time.perf_counter()
            edited.write_text(original.replace("\n\n", f"\n\nEdit {number}.\n\n", 1), encoding="utf-8")
            deadline = saved + 120
            while time.perf_counter() < deadline:
                found = [(at, _BUILT.search(line)) for at, line in lines[seen:]]
                found = [(at, match) for at, match in found if match]
                if found:
                    at, match = found[0]
                    builds.append(float(match.group(1)))
                    walls.append(at - saved)
                    print(f"edit {number + 1}: rebuilt in {builds[-1]:.2f} s, seen {walls[-1]:.2f} s after the save",
                          flush=True)
                    break
                time.sleep(0.01)
            else:
                print("no rebuild was reported:", "".join(line for _, line in lines[seen:]))
                return 1
            time.sleep(1)
        edited.write_text(original, encoding="utf-8")
        print(f"{args.incidents} incidents: rebuild after saving an incident, median {statistics.median(builds):.2f} s "
              f"({min(builds):.2f}–{max(builds):.2f}); from save to rebuilt {statistics.median(walls):.2f} s")
    finally:
        process.terminate()
        process.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
