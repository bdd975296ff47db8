"""`history/runs.jsonl`: when each check run was due and when it started, so the page can say
how late the scheduler really runs the checks.

One line per round of `heliograph check`, appended with its results (union-merged like them)::

    {"v":1,"loc":"eu-west","due":"2026-12-05T06:40:00Z","ran":"2026-12-05T06:47:12.301Z","n":12}

`due` is the schedule's tick the run belongs to (`check --schedule`, which check.yml passes);
a run started by hand or by `repository_dispatch` has none. `heliograph compact` keeps the
last `KEEP_DAYS` days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, NamedTuple

from generator.history.codec import epoch_to_text, text_to_epoch
from generator.history.store import ensure_gitattributes, write_atomically

RUNS_FILE = "runs.jsonl"
KEEP_DAYS = 30
MAX_BYTES = 8 * 1024 * 1024  # a month of 5-minute runs from a few locations is well under 1 MB


@dataclass(frozen=True)
class Run:
    """One round of `heliograph check`: where it ran, when it was due and when it ran (history/runs.jsonl)."""

    location: str
    due: datetime | None
    ran: datetime
    checks: int

    def to_line(self) -> str:
        fields = {"v": 1, "loc": self.location, "due": None if self.due is None else epoch_to_text(self.due.timestamp()),
                  "ran": epoch_to_text(self.ran.timestamp()), "n": self.checks}
        return json.dumps(fields, separators=(",", ":")) + "\n"


def runs_path(history_dir: Path) -> Path:
    return Path(history_dir) / RUNS_FILE


def append_runs(history_dir: Path, runs: Iterable[Run]) -> None:
    text = "".join(run.to_line() for run in runs)
    if not text:
        return
    ensure_gitattributes(history_dir)
    with open(runs_path(history_dir), "a", encoding="utf-8", newline="\n") as out:
        out.write(text)


def read_runs(history_dir: Path, since: datetime | None = None) -> list[Run]:
    """The runs recorded (from `since` on), oldest first; unreadable lines are skipped."""
    path = runs_path(history_dir)
    try:
        if path.stat().st_size > MAX_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    runs = set()
    for line in text.splitlines():
        try:
            raw = json.loads(line)
            ran = datetime.fromtimestamp(text_to_epoch(raw["ran"]), timezone.utc)
            due = None if raw.get("due") is None else datetime.fromtimestamp(text_to_epoch(raw["due"]), timezone.utc)
            run = Run(str(raw["loc"]), due, ran, int(raw.get("n") or 0))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if since is None or run.ran >= since:
            runs.add(run)
    return sorted(runs, key=lambda run: (run.ran, run.location))


def forget_before(history_dir: Path, first: datetime) -> int:
    """Keep only the runs from `first` on; how many lines were dropped."""
    path = runs_path(history_dir)
    if not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    kept = []
    for line in lines:
        try:
            if text_to_epoch(json.loads(line)["ran"]) < first.timestamp():
                continue
        except (ValueError, KeyError, TypeError):
            pass  # a line it cannot read is left for a person to see
        kept.append(line)
    if len(kept) != len(lines):
        write_atomically(path, "".join(kept).encode("utf-8"))
    return len(lines) - len(kept)


class Lateness(NamedTuple):
    """How late scheduled runs started (`ran - due`) in a window: only runs that had a due time."""

    runs: int
    median_s: float | None  # the lower middle one of an even count
    worst_s: float | None


def lateness(runs: Iterable[Run], start: datetime, end: datetime) -> Lateness:
    late = sorted(max(0.0, (run.ran - run.due).total_seconds()) for run in runs
                  if run.due is not None and start <= run.ran <= end)
    if not late:
        return Lateness(0, None, None)
    return Lateness(len(late), round(late[(len(late) - 1) // 2], 1), round(late[-1], 1))


def last_day(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=1), now
