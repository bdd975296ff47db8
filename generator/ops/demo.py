"""`heliograph demo`: the repository's demo site, moved in time so that it ends now.

The committed demo (site.yaml, incidents/, history/) is a fixed example of the formats: a fresh
clone built weeks later would show "no data" and stale warnings everywhere. This writes a copy
whose every date moved forward by whole days, so that the demo's last check results fall in the
last day before now, and whose last hours are filled with the same results the day before had at
those times of day. Nothing else changes: the same incidents, the same outages, the same numbers.
A real site never runs this; it is a first look at Heliograph in use.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from generator.engine.atomic import write_atomically

# The repository this package runs from: the demo lives at its root. A wheel has none.
SOURCE_TREE = Path(__file__).resolve().parent.parent.parent
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY = timedelta(days=1)
# In a folder `heliograph demo` wrote: running it again replaces that folder, and no other.
MARK = ".heliograph-demo"


class NoDemo(Exception):
    """This installation has no demo to copy (installed from a wheel)."""


@dataclass(frozen=True)
class DemoShift:
    """How `write_demo` moved the demo: by how many days, and where its history now ends."""

    days: int  # every date moved forward by this many days
    filled_until: datetime  # the last copied result's time: the history ends here


def demo_source(tree: Path = SOURCE_TREE) -> Path:
    if not ((tree / "site.yaml").is_file() and (tree / "incidents").is_dir() and (tree / "history" / "raw").is_dir()):
        raise NoDemo(f"no demo site next to this installation ({tree}): `heliograph demo` runs from a clone of "
                     "Heliograph's repository; `heliograph init` makes a new site anywhere")
    return tree


def replaceable(target: Path) -> bool:
    """Whether `target` may be written: missing, empty, or an earlier `heliograph demo`'s."""
    return not target.exists() or (target.is_dir() and (not any(target.iterdir()) or (target / MARK).is_file()))


def write_demo(source: Path, target: Path, now: datetime) -> DemoShift:
    """Write the demo at `source` into `target` (see replaceable), moved to end at `now`."""
    if target.exists():
        shutil.rmtree(target)
    results = _raw_results(source / "history" / "raw")
    last = max(_time(result) for result in results)
    days = (now.date() - last.date()).days
    if last + timedelta(days=days) > now:
        days -= 1  # today the demo's last result is not due yet: end with yesterday's
    target.mkdir(parents=True)
    (target / MARK).write_text("Written by `heliograph demo`, which replaces this folder when run again.\n",
                               encoding="utf-8")
    shutil.copyfile(source / "site.yaml", target / "site.yaml")
    _write_incidents(source / "incidents", target / "incidents", days)
    _write_daily(source / "history" / "daily", target / "history" / "daily", days)
    filled = _write_raw(results, target / "history" / "raw", days, now)
    if (source / "history" / ".gitattributes").is_file():
        shutil.copyfile(source / "history" / ".gitattributes", target / "history" / ".gitattributes")
    return DemoShift(days, filled)


def _shift_dates(text: str, days: int) -> str:
    """Every YYYY-MM-DD in `text` moved by `days` (times of day and zones stay as written)."""
    def moved(match: re.Match[str]) -> str:
        return (date(*map(int, match.groups())) + timedelta(days=days)).isoformat()

    return _DATE.sub(moved, text)


def _write_incidents(source: Path, target: Path, days: int) -> None:
    target.mkdir()
    for path in sorted(source.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        (target / _shift_dates(path.name, days)).write_text(_shift_dates(text, days), encoding="utf-8")


def _write_daily(source: Path, target: Path, days: int) -> None:
    """Each day's aggregate moved to its new day, in the month file of that day."""
    months: dict[str, list[str]] = {}
    for path in sorted(source.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                moved = json.loads(_shift_dates(line, days))
                months.setdefault(moved["day"][:7], []).append(json.dumps(moved, separators=(",", ":")))
    target.mkdir(parents=True)
    for month, lines in sorted(months.items()):
        write_atomically(target / f"{month}.jsonl", ("\n".join(lines) + "\n").encode())


def _raw_results(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.rglob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _time(result: dict) -> datetime:
    return datetime.fromisoformat(result["t"].replace("Z", "+00:00"))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _write_raw(results: list[dict], target: Path, days: int, now: datetime) -> datetime:
    """The raw results moved by `days`; the hours from the last of them to `now` get the results
    the day before had at those times of day. Returns the time of the last result written."""
    shift = timedelta(days=days)
    moved = [dict(result, t=_stamp(_time(result) + shift)) for result in results]
    last = max(_time(result) for result in moved)
    moved += [dict(result, t=_stamp(_time(result) + _DAY)) for result in moved
              if last < _time(result) + _DAY <= now]
    shards: dict[date, list[str]] = {}
    for result in sorted(moved, key=lambda r: r["t"]):
        shards.setdefault(_time(result).date(), []).append(json.dumps(result, separators=(",", ":")))
    for day, lines in shards.items():
        path = target / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, ("\n".join(lines) + "\n").encode())
    return max(_time(result) for result in moved)
