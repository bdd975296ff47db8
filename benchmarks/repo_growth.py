"""How big does the git repository get when CI commits check results every 5 minutes for a year?

    python benchmarks/repo_growth.py [--days 365] [--components 20] [--interval 300]
                                     [--rounds-per-commit 1] [--raw-days 90] [--keep DIR]

Method: every scheduled run is simulated exactly as `.github/workflows/check.yml` does it --
results for every component (the plausible model of benchmarks/make_history.py) are appended
with the real `generator.history.append_results`, `generator.history.compact` runs once a day
(raw_days as in site.yaml), and the changed history files become one real git commit. The
commits are written with `git fast-import` rather than `git commit`, which makes the same
objects (blobs, trees, commits) without a process per commit, so a whole year is simulated
literally, not extrapolated. Then `git gc` packs the repository as a long-lived clone would be
packed, and `git count-objects -v` gives the packed size: roughly what `git clone` downloads.

--rounds-per-commit N simulates `heliograph check --repeat N`: N rounds of results, one commit.

Prints one line per simulated month and a summary; the README quotes the summary.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

if __package__ in (None, ""):  # run as a script: make the repository and make_history importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_history import RUN_SKIPPED, _Component, _time_text  # noqa: E402

from generator import history  # noqa: E402
from generator.checks.result import CheckResult  # noqa: E402
from generator.history.codec import loads  # noqa: E402

BOT = b"github-actions[bot] <41898283+github-actions[bot]@users.noreply.github.com>"
SITE_YAML = b"site:\n  title: Growth benchmark\n  base_url: https://status.example/\ncomponents: []\n"


@dataclass(frozen=True)
class Growth:
    days: float
    commits: int
    results: int
    pack_bytes: int
    tree_bytes: int  # history/ as checked out at the end (raw days kept + daily aggregates)
    seconds: float

    @property
    def bytes_per_day(self) -> float:
        return self.pack_bytes / self.days

    def summary(self) -> str:
        return (f"{self.commits:,} commits, {self.results:,} results over {self.days:g} days: "
                f"packed repository {self.pack_bytes / 1e6:.1f} MB after git gc "
                f"({self.bytes_per_day / 1e3:.0f} kB/day, {self.pack_bytes / max(self.commits, 1):.0f} B/commit); "
                f"history/ checked out {self.tree_bytes / 1e6:.1f} MB; simulated in {self.seconds:.0f} s")


class FastImport:
    """A `git fast-import` process fed one commit per simulated CI run."""

    def __init__(self, repository: Path):
        self.process = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done"], cwd=repository, stdin=subprocess.PIPE
        )
        self.stream: BinaryIO = self.process.stdin  # type: ignore[assignment]
        self.commits = 0

    def commit(self, when: float, message: str, changed: dict[str, bytes | None]) -> None:
        """One commit on main; `changed` maps repository paths to new content, or None to delete."""
        write = self.stream.write
        stamp = str(int(when)).encode() + b" +0000"
        body = message.encode()
        write(b"commit refs/heads/main\nauthor " + BOT + b" " + stamp + b"\ncommitter " + BOT + b" " + stamp + b"\n")
        write(b"data " + str(len(body)).encode() + b"\n" + body + b"\n")
        for path, content in sorted(changed.items()):
            if content is None:
                write(b"D " + path.encode() + b"\n")
            else:
                write(b"M 100644 inline " + path.encode() + b"\ndata " + str(len(content)).encode() + b"\n")
                write(content)
                write(b"\n")
        write(b"\n")
        self.commits += 1

    def close(self) -> None:
        self.stream.write(b"done\n")
        self.stream.close()
        if self.process.wait() != 0:
            raise RuntimeError("git fast-import failed")


def packed_size(repository: Path) -> int:
    subprocess.run(["git", "gc", "--quiet", "--prune=now"], cwd=repository, check=True)
    counts = subprocess.run(["git", "count-objects", "-v"], cwd=repository, check=True,
                            capture_output=True, text=True).stdout
    fields = dict(line.split(": ", 1) for line in counts.splitlines())
    return (int(fields["size-pack"]) + int(fields["size"])) * 1024


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def simulate(
    repository: Path,
    *,
    days: float,
    components: int,
    interval_s: int,
    rounds_per_commit: int,
    raw_days: int,
    location: str = "github-actions",
    start: datetime = datetime(2025, 1, 1, tzinfo=timezone.utc),
    progress=print,
) -> Growth:
    began = time.perf_counter()
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(repository)], check=True)
    history_dir = repository / "history"
    ids = [f"comp-{n:02d}" for n in range(1, components + 1)]
    models = [_Component(component, 0, location) for component in ids]
    importer = FastImport(repository)
    importer.commit(start.timestamp(), "Start the status page", {"site.yaml": SITE_YAML})
    history.ensure_gitattributes(history_dir)

    runs = random.Random("runs")
    slot, stop = start.timestamp(), start.timestamp() + days * 86400
    pending: set[Path] = {history_dir / ".gitattributes"}
    rounds = results = 0
    compacted_through = start.date()
    month = (start.year, start.month)
    while slot < stop:
        delay = runs.uniform(2.0, 60.0)  # scheduled runs start late
        if runs.random() >= RUN_SKIPPED:  # and now and then not at all
            batch = []
            for index, model in enumerate(models):
                _, text = _time_text(slot + delay + index * 0.15 + runs.uniform(0.0, 0.1))
                batch.append(CheckResult.from_json(loads(model.line(text))))
            pending.update(history.append_results(history_dir, batch))
            results += len(batch)
            rounds += 1
        now = datetime.fromtimestamp(slot + delay, timezone.utc)
        if now.date() > compacted_through:  # the first run of a UTC day compacts, as check.yml does
            report = history.compact(history_dir, raw_days=raw_days, now=now)
            pending.update(report.removed + report.written)
            compacted_through = now.date()
        if pending and (rounds % rounds_per_commit == 0 or slot + interval_s >= stop):
            changed = {
                path.relative_to(repository).as_posix(): path.read_bytes() if path.exists() else None
                for path in pending
            }
            importer.commit(slot + delay + 5, f"Check results from {location} [skip ci]", changed)
            pending.clear()
        if (now.year, now.month) != month:
            month = (now.year, now.month)
            progress(f"  {now:%Y-%m}: {importer.commits:,} commits so far ({time.perf_counter() - began:.0f} s)")
        slot += interval_s
    importer.close()
    pack = packed_size(repository)
    return Growth(days, importer.commits, results, pack, directory_size(history_dir), time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--interval", type=int, default=300, help="seconds between scheduled runs")
    parser.add_argument("--rounds-per-commit", type=int, default=1, help="as heliograph check --repeat N")
    parser.add_argument("--raw-days", type=int, default=90, help="history.raw_days in site.yaml")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it (must not exist)")
    args = parser.parse_args(argv)
    workdir = None
    if args.keep:
        repository = args.keep
    else:
        workdir = Path(tempfile.mkdtemp(prefix="heliograph-growth-"))
        repository = workdir / "repo"
    try:
        growth = simulate(repository, days=args.days, components=args.components, interval_s=args.interval,
                          rounds_per_commit=args.rounds_per_commit, raw_days=args.raw_days)
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{args.components} components, a run every {args.interval} s, {args.rounds_per_commit} round(s) per commit, "
          f"raw_days {args.raw_days}:")
    print(growth.summary())
    if args.days < 365:
        print(f"linear extrapolation to a year: {growth.bytes_per_day * 365 / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
