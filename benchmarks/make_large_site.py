"""A synthetic large status site, for timing builds (issue #7).

    python benchmarks/make_large_site.py OUT [--incidents 10000] [--components 100] [--groups 10]
                                             [--days 365] [--raw-days 14] [--all-raw] [--seed 0]

writes OUT/site.yaml (components in groups, each with an http check), OUT/incidents/*.md
(3-6 updates each, about 1% maintenance) and OUT/history/: `--days` of 5-minute results for
every component made by `make_history.generate`, then, unless --all-raw, compacted by the
real `generator.history.compact` with `--raw-days` (default: the site default, 14), as a real
site would be after a year of `heliograph check && heliograph compact` (without the incidents'
maintenance windows, which differ from one incident count to another; timings do not care). The history is the slow part
(about two minutes for a year of 100 components), so it is made once per set of arguments
under benchmarks/.data/ and hard-linked into OUT (hard links: nothing in OUT may be appended
to in place; the benchmark copies a file before it changes it).

The site's clock is fixed: `NOW` (history ends there), so every run gives the same files.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_history import generate  # noqa: E402

from generator.site import config  # noqa: E402
from generator.history import compact  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
DATA = Path(__file__).resolve().parent / ".data"
RAW_DAYS = config.RAW_DAYS  # the site default
STATUSES = ("investigating", "identified", "monitoring", "resolved")


def component_ids(count: int) -> list[str]:
    return [f"svc-{n:03d}" for n in range(1, count + 1)]


def site_yaml(components: int, groups: int, raw_days: int = RAW_DAYS) -> str:
    lines = [
        "site:",
        "  title: Large Example Status",
        "  base_url: https://status.large.example/",
        "  timezone: UTC",
        "display:",
        "  recent_incident_days: 14",
        "  uptime_days: 90",
        "history:",
        "  dir: history",
        f"  raw_days: {raw_days}",
        "checks:",
        "  location: ci",
        "components:",
    ]
    per_group = max(1, components // groups)
    for index, cid in enumerate(component_ids(components)):
        lines += [
            f"  - id: {cid}",
            f"    name: Service {index + 1}",
            f"    group: Group {index // per_group + 1}",
            f'    check: {{type: http, url: "https://{cid}.large.example/health"}}',
        ]
    return "\n".join(lines) + "\n"


def incident_text(number: int, rng: random.Random, ids: list[str], start: datetime, end: datetime) -> tuple[str, str]:
    """(file stem, Markdown) of one incident or maintenance."""
    span = (end - start).total_seconds()
    began = start + timedelta(seconds=int(rng.uniform(0, span - 86400)) // 60 * 60)
    slug = f"{began:%Y-%m-%d}-incident-{number:05d}"
    affected = rng.sample(ids, rng.randint(1, 3))
    if rng.random() < 0.01:
        until = began + timedelta(minutes=rng.choice((30, 60, 120)))
        text = (
            f"---\ntitle: Planned maintenance {number}\ntype: maintenance\ncomponents: [{', '.join(affected)}]\n"
            f"scheduled_for: {began:%Y-%m-%d %H:%M} UTC\nscheduled_until: {until:%Y-%m-%d %H:%M} UTC\n---\n\n"
            f"## {until:%Y-%m-%d %H:%M} UTC · Completed\nThe maintenance is **complete**.\n\n"
            f"## {began:%Y-%m-%d %H:%M} UTC · In progress\nWe are upgrading `{affected[0]}`.\n\n"
            f"## {began - timedelta(days=3):%Y-%m-%d %H:%M} UTC · Scheduled\nWe will upgrade the database.\n"
        )
        return slug, text
    count = rng.randint(3, 6)
    statuses = ["investigating"] + sorted(rng.choices(STATUSES[1:3], k=count - 2), key=STATUSES.index) + ["resolved"]
    moment = began
    updates = []
    for status in statuses:
        updates.append((moment, status))
        moment += timedelta(minutes=rng.randint(5, 90))
    impact = rng.choice(("minor", "major", "critical"))
    body = [
        f"---\ntitle: Elevated error rates on service {number}\nimpact: {impact}\n"
        f"components: [{', '.join(affected)}]\n---\n"
    ]
    for when, status in reversed(updates):
        body.append(
            f"\n## {when:%Y-%m-%d %H:%M} UTC · {status.capitalize()}\n"
            f"We are looking into **elevated 5xx rates** on `/v1/{affected[0]}`; some requests "
            f"[fail](https://status.large.example/). Update {status} for incident {number}.\n"
            + ("\nWhat we know:\n\n- requests to `/v1` time out\n- retries succeed\n" if rng.random() < 0.1 else "")
        )
    return slug, "".join(body)


def write_incidents(directory: Path, count: int, ids: list[str], *, seed: int, days: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}:incidents")
    start = NOW - timedelta(days=days)
    # The newest 3 are all resolved; the site has no open incident (the usual state).
    for number in range(1, count + 1):
        stem, text = incident_text(number, rng, ids, start, NOW - timedelta(hours=12))
        (directory / f"{stem}.md").write_text(text, encoding="utf-8")


def history_master(components: int, days: int, *, all_raw: bool, seed: int, raw_days: int = RAW_DAYS) -> Path:
    """The history directory for these arguments, made once under benchmarks/.data/."""
    name = f"history-c{components}-d{days}-s{seed}-{'raw' if all_raw else f'compacted{raw_days}'}"
    target = DATA / name
    if (target / ".complete").is_file():
        return target
    if target.exists():
        shutil.rmtree(target)
    building = DATA / (name + ".partial")
    if building.exists():
        shutil.rmtree(building)
    ids = component_ids(components)
    began = time.perf_counter()
    raw_master = DATA / f"history-c{components}-d{days}-s{seed}-raw"
    if not all_raw and (raw_master / ".complete").is_file():
        subprocess.run(["cp", "-a", str(raw_master), str(building)], check=True)
        (building / ".complete").unlink()
        count = None
    else:
        count = generate(building, ids, start=NOW - timedelta(days=days), end=NOW, seed=seed)
    made = time.perf_counter()
    print(f"history: {count or 'copied'} results in {made - began:.1f} s", file=sys.stderr)
    if not all_raw:
        report = compact(building, raw_days=raw_days, now=NOW)
        print(f"history: {report} in {time.perf_counter() - made:.1f} s", file=sys.stderr)
    (building / ".complete").write_text("")
    os.replace(building, target)
    return target


def make_site(out: Path, *, incidents: int = 10000, components: int = 100, groups: int = 10, days: int = 365,
              all_raw: bool = False, seed: int = 0, raw_days: int = RAW_DAYS) -> Path:
    out = Path(out)
    # A site as users have one: made by `heliograph init` (its templates/ override included), then
    # given many components, incidents and a year of history.
    subprocess.run([sys.executable, "-c", "from generator.cli import main; main()", "-q", "init", str(out), "--force"],
                   check=True, cwd=Path(__file__).resolve().parent.parent)
    (out / "site.yaml").write_text(site_yaml(components, groups, raw_days), encoding="utf-8")
    if (out / "incidents").exists():
        shutil.rmtree(out / "incidents")
    write_incidents(out / "incidents", incidents, component_ids(components), seed=seed, days=days)
    master = history_master(components, days, all_raw=all_raw, seed=seed, raw_days=raw_days)
    if (out / "history").exists():
        shutil.rmtree(out / "history")
    subprocess.run(["cp", "-al", str(master), str(out / "history")], check=True)
    (out / "history" / ".complete").unlink()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--incidents", type=int, default=10000)
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--raw-days", type=int, default=RAW_DAYS, help="history.raw_days: days kept raw")
    parser.add_argument("--all-raw", action="store_true", help="leave the whole year raw (the worst case)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    make_site(args.out, incidents=args.incidents, components=args.components, groups=args.groups, days=args.days,
              all_raw=args.all_raw, seed=args.seed, raw_days=args.raw_days)
    print(f"site in {args.out} (now = {NOW:%Y-%m-%dT%H:%MZ})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
