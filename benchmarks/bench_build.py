"""Time `heliograph build` on the large synthetic site (issue #7): cold, warm and incremental.

    python benchmarks/bench_build.py [--incidents 1000 10000] [--repeat N] [--raw-days N | --all-raw] [--code DIR] [--work DIR]

For each incident count it makes the site with `make_large_site` (100 components in 10 groups, a
year of 5-minute results, the last 14 days raw (--raw-days) and the rest compacted; --all-raw
leaves the whole year raw, the worst case) and times, each build in a fresh process:

- cold:      no cache (.heliograph-cache/) and no build/, as on a fresh clone
- noop:      the same build again
- check:     one more run of results appended with `history.append_results`, built 5 minutes later
- incident:  one incident's newest update edited, built again at the same `now` (no cache is keyed
             on `now` itself, which only a fixed clock repeats: the history is summed up as in any build)
- incident+10s: edited again and built 10 seconds later, as `serve` or a push right after a deploy is
- incident+5m: edited again and built 5 minutes later, as an edit pushed after a check run is

With --repeat N each warm case runs N times (each check appends another run, each edit edits
again) and the median is printed with the range, then each run's time and files written in
order: this machine's speed varies from minute to minute. The first check after the cold build also re-renders every badge; later ones do not.

It prints the machine's speed (a fixed loop's time) before each site, then wall time, peak RSS
(the largest single process, from RUSAGE_CHILDREN), files written,
the output's size, index.html gzipped and the requests each kind of page makes. --code runs the
build with another checkout's `generator` package (e.g. an export of an older commit), to
compare before and after. The package's bytecode is written first, as an install would. Sites
live under benchmarks/.data/ (git-ignored) unless --work says.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from make_large_site import NOW, RAW_DAYS, component_ids, make_site  # noqa: E402

from generator.checks.result import CheckResult  # noqa: E402
from generator.history import append_results, raw_shard_path  # noqa: E402

_CHILD = """
import json, resource, subprocess, sys, time
began = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - began
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "rss_mb": usage.ru_maxrss / 1024, "rc": done.returncode,
                  "out": done.stdout[-400:], "err": done.stderr[-2000:]}))
"""


def run_build(site: Path, now: datetime, code: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code))
    command = [sys.executable, "-c", _CHILD, sys.executable, "-m", "generator.cli", "--site", str(site), "build",
               "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ")]
    result = json.loads(subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=code).stdout)
    if result["rc"] != 0:
        raise SystemExit(f"build failed:\n{result['err']}")
    match = re.search(r"\((\d+) written", result["out"])
    result["written"] = int(match[1]) if match else None
    return result


def output_figures(build: Path) -> dict:
    total = sum(p.stat().st_size for p in build.rglob("*") if p.is_file())
    index = (build / "index.html").read_bytes()
    return {"output_mb": total / 1e6, "files": sum(1 for p in build.rglob("*") if p.is_file()),
            "index_kb": len(index) / 1024, "index_gz_kb": len(gzip.compress(index, 9)) / 1024}


_FETCHED = re.compile(
    r'<link[^>]*rel="(?:stylesheet|icon|preload|modulepreload)"[^>]*href="([^"]+)"'
    r'|<(?:img|script|iframe|source|video|audio)[^>]*\ssrc="([^"]+)"'
    r'|url\(([^)]+)\)'
)


def requests_per_page(build: Path) -> dict[str, int]:
    """Requests a browser makes to show each kind of page: the HTML plus each distinct
    stylesheet, icon, image, script or frame it references (and what the CSS pulls in)."""
    pages = {"index": "index.html", "incident": next(build.glob("incidents/*/index.html")).relative_to(build).as_posix(),
             "component": next(build.glob("components/*/index.html")).relative_to(build).as_posix(),
             "history": "history/index.html", "embed": "embed/index.html"}
    counts = {}
    for kind, page in pages.items():
        path = build / page
        if not path.is_file():
            continue
        html = path.read_text(encoding="utf-8")
        urls = set()
        for match in _FETCHED.finditer(html):
            url = next(g for g in match.groups() if g)
            if url.startswith(("data:", "#")):
                continue
            urls.add(os.path.normpath(os.path.join(os.path.dirname(page), url)))
        for url in list(urls):
            if url.endswith(".css") and (build / url).is_file():
                for match in re.finditer(r"url\(([^)]+)\)", (build / url).read_text(encoding="utf-8")):
                    if not match[1].strip("'\"").startswith(("data:", "#")):
                        urls.add(match[1])
        counts[kind] = 1 + len(urls)
    return counts


def append_one_run(history: Path, at: datetime) -> None:
    """One `heliograph check` run: a result per component. The shard is first copied, since the
    site's history is hard-linked to the generated master."""
    shard = raw_shard_path(history, at.date())
    if shard.exists():
        data = shard.read_bytes()
        shard.unlink()
        shard.write_bytes(data)
    results = [CheckResult(component=cid, time=at + timedelta(seconds=0.15 * index), status="up", reason="ok",
                           location="ci", message="HTTP 200", latency_ms=120.0 + index)
               for index, cid in enumerate(component_ids(100))]
    append_results(history, results)


def edit_one_incident(incidents: Path) -> str:
    newest = sorted(incidents.glob("*.md"))[-1]
    text = newest.read_text(encoding="utf-8")
    heading_end = text.index("\n", text.index("\n## ") + 1)
    newest.write_text(text[:heading_end + 1] + "Edited: the root cause was a full disk. " + text[heading_end + 1:],
                      encoding="utf-8")
    return newest.name


def _repeated(case: str, builds: list) -> dict:
    runs = [build() for build in builds]
    walls = sorted(run["wall"] for run in runs)
    return {**runs[-1], "case": case, "wall": walls[len(walls) // 2], "walls": walls,
            "in_order": [(run["wall"], run["written"]) for run in runs],
            "rss_mb": max(run["rss_mb"] for run in runs)}


def bench(count: int, *, all_raw: bool, code: Path, work: Path, repeat: int = 1, raw_days: int = RAW_DAYS) -> list[dict]:
    name = f"site-{count}" + ("-raw" if all_raw else "" if raw_days == RAW_DAYS else f"-raw{raw_days}")
    site = make_site(work / name, incidents=count, all_raw=all_raw, raw_days=raw_days)
    # Moved aside, and deleted only after the cold build: deleting 12,000 files just before it
    # made the file system slow to create them again, which a fresh clone does not suffer.
    trash = work / ".trash"
    trash.mkdir(parents=True, exist_ok=True)
    for name in (".heliograph-cache", "build"):
        if (site / name).exists():
            (site / name).rename(trash / f"{site.name}-{name}-{os.getpid()}-{len(list(trash.iterdir()))}")
    rows = []
    label = f"{count} incidents{', whole year raw' if all_raw else '' if raw_days == RAW_DAYS else f', {raw_days} days raw'}"
    rows.append({"case": "cold", **run_build(site, NOW, code)})
    shutil.rmtree(trash, ignore_errors=True)
    rows[-1].update(output_figures(site / "build"))
    rows[-1]["requests"] = requests_per_page(site / "build")
    # Each warm case `repeat` times (the machine is noisy): its median, and its range.
    rows.append(_repeated("noop", [lambda: run_build(site, NOW, code) for _ in range(repeat)]))
    now = NOW

    def check() -> dict:
        nonlocal now
        now += timedelta(minutes=5)
        append_one_run(site / "history", now - timedelta(seconds=30))
        return run_build(site, now, code)

    def edit(seconds: int) -> dict:
        nonlocal now
        now += timedelta(seconds=seconds)
        edit_one_incident(site / "incidents")
        return run_build(site, now, code)

    rows.append(_repeated("check", [check for _ in range(repeat)]))
    rows.append(_repeated("incident", [lambda: edit(0) for _ in range(repeat)]))
    # As it happens in practice: the clock has moved since the last build, by seconds (`serve`,
    # a push right after a deploy) or minutes (an edit pushed after a check run), and with it
    # the rolling 24 hours and the stale-data checks.
    rows.append(_repeated("incident+10s", [lambda: edit(10) for _ in range(repeat)]))
    rows.append(_repeated("incident+5m", [lambda: edit(300) for _ in range(repeat)]))
    for row in rows:
        row["site"] = label
    return rows


def interpreter_start() -> float:
    """Seconds for `python -c pass` in a fresh process: the floor under every build's wall time,
    which on some machines (a slow disk, many .pth files) is a large part of a rebuild."""
    import statistics
    import time

    walls = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        walls.append(time.perf_counter() - began)
    return statistics.median(walls)


def fixed_loop() -> float:
    """Seconds for the same ten million additions: this machine's speed drifts by a third from
    minute to minute, and figures from a slow minute must be read as such."""
    import time

    began = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - began


def compile_package(code: Path) -> None:
    """Write the package's bytecode, as installing it does. Without it, a machine that sets
    PYTHONDONTWRITEBYTECODE (this one does) compiles every module in every build: 0.1 s of each
    rebuild that no installed copy pays."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "generator")], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--all-raw", action="store_true", help="the worst case: a whole year of raw history")
    parser.add_argument("--code", type=Path, default=HERE.parent, help="checkout whose generator/ to run")
    parser.add_argument("--work", type=Path, default=HERE / ".data" / "bench")
    parser.add_argument("--repeat", type=int, default=1, help="run each warm case this many times; print the median")
    parser.add_argument("--raw-days", type=int, default=RAW_DAYS, help="history.raw_days of the site (default: the site default)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args(argv)
    compile_package(args.code.resolve())
    print(f"interpreter start on this machine (python -c pass, median of 5): {interpreter_start():.2f} s"
          " -- part of every build below that no work of ours can save", flush=True)
    rows = []
    for count in args.incidents:
        print(f"machine speed before {count} incidents: a fixed loop takes {fixed_loop():.2f} s", flush=True)
        site_rows = bench(count, all_raw=args.all_raw, code=args.code.resolve(), work=args.work, repeat=args.repeat,
                          raw_days=args.raw_days)
        rows += site_rows
        for row in site_rows:
            extra = ""
            if "index_gz_kb" in row:
                extra = (f"  output {row['output_mb']:.1f} MB in {row['files']} files, index.html {row['index_kb']:.0f} KB"
                         f" ({row['index_gz_kb']:.1f} KB gzipped), requests {row['requests']}")
            if len(row.get("walls", ())) > 1:
                extra += f"  (median of {len(row['walls'])}: {row['walls'][0]:.2f}–{row['walls'][-1]:.2f} s)"
                extra += "\n    each, in order: " + ", ".join(f"{wall:.2f} s ({written} written)"
                                                        for wall, written in row["in_order"])
            print(f"{row['site']:<32} {row['case']:<11} {row['wall']:7.2f} s  peak RSS {row['rss_mb']:6.0f} MB"
                  f"  written {row['written']}{extra}", flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
