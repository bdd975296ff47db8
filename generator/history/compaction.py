"""Retention: raw shards older than `raw_days` become daily aggregates, then go away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from generator.history.aggregate import Intervals, Windows, aggregate_day, encode_daily, parse_daily_lines, windows_by_component
from generator.engine.memory import gc_paused
from generator.history.codec import ProblemSink, parse_raw_lines
from generator.history.store import RAW_DIR, daily_path, ensure_gitattributes, lock_shard, raw_shards, write_atomically

if TYPE_CHECKING:
    from generator.history.store import ShardLock
from generator.site.problems import Problem


@dataclass(frozen=True)
class CompactReport:
    """What `heliograph compact` did: the days it turned into aggregates and the files it changed."""

    days: tuple[date, ...]  # days whose raw results are now aggregates
    removed: tuple[Path, ...]  # raw shards deleted
    written: tuple[Path, ...]  # daily files created or changed
    skipped: tuple[Path, ...]  # raw shards kept because some line could not be read

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.written)

    def __str__(self) -> str:
        if not self.changed and not self.skipped:
            return "nothing to compact"
        text = f"compacted {len(self.days)} day(s): {len(self.removed)} raw file(s) removed, {len(self.written)} daily file(s) written"
        if self.days:
            text += f" ({self.days[0]} to {self.days[-1]})"
        if self.skipped:
            text += f"; {len(self.skipped)} raw file(s) kept because of problems"
        return text


def due_shards(history_dir: Path, *, raw_days: int, now: datetime, problems: list | None = None) -> dict[date, Path]:
    """The raw shards `compact` would roll up now: those of days before `today - raw_days`."""
    cutoff = now.astimezone(timezone.utc).date() - timedelta(days=raw_days)
    return {day: path for day, path in raw_shards(Path(history_dir), problems).items() if day < cutoff}


def compact(
    history_dir: Path,
    *,
    raw_days: int,
    now: datetime,
    maintenance: Mapping[str, Iterable[tuple[datetime, datetime]]] | None = None,
    problems: list | None = None,
    intervals: Intervals | None = None,
) -> CompactReport:
    """Roll raw shards of days before `today - raw_days` (UTC) into `daily/YYYY-MM.jsonl`.

    Idempotent, and safe to interrupt: a daily file is replaced atomically before the shards
    it summarises are removed, and a shard still present next time is simply aggregated again
    to the same lines. A shard with an unreadable line is left alone (and reported) rather
    than dropping the line for good, and so is a month whose daily file has one; fix or
    delete the line and the next run compacts it. Conflicting copies of one result or one
    aggregate are not unreadable: the same copy wins as when reading, and the other goes.
    Maintenance windows and check `intervals` (as `summarize` takes them) are applied now, for
    good: compacted days keep the figures they had.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if raw_days < 1:
        raise ValueError("raw_days must be at least 1: the rolling 24 hours and latency chart need raw results")
    history_dir = Path(history_dir)
    windows = windows_by_component(maintenance)
    by_month: dict[tuple[int, int], list[tuple[date, Path]]] = {}
    for day, path in due_shards(history_dir, raw_days=raw_days, now=now, problems=problems).items():
        by_month.setdefault((day.year, day.month), []).append((day, path))

    reports = []
    if by_month:
        ensure_gitattributes(history_dir)
    with gc_paused():
        for (year, month), shards in sorted(by_month.items()):
            reports.append(_compact_month(daily_path(history_dir, year, month), shards, windows, problems,
                                          intervals))
    removed = tuple(path for report in reports for path in report.removed)
    _remove_empty_dirs(history_dir / RAW_DIR, removed)
    return CompactReport(
        days=tuple(day for report in reports for day in report.days),
        removed=removed,
        written=tuple(path for report in reports for path in report.written),
        skipped=tuple(path for report in reports for path in report.skipped),
    )


def _compact_month(
    target: Path, shards: list[tuple[date, Path]], windows: Mapping[str, Windows], problems: list | None,
    intervals: Intervals | None = None,
) -> CompactReport:
    existing = _content(target)
    sink = ProblemSink(str(target), problems)
    aggregates = parse_daily_lines(existing or b"", sink)
    sink.close()
    if sink.skipped_lines:
        # Rewriting the month would drop lines someone may still want to repair.
        _explain_kept(problems, target, "its month's daily file has unreadable lines")
        return CompactReport((), (), (), tuple(path for _, path in shards))
    skipped: list[Path] = []
    locks: list[tuple[ShardLock, Path, date]] = []
    try:
        for day, path in shards:
            # Held until the shard is gone, so a late appender cannot slip a line in between.
            lock = lock_shard(path)
            sink = ProblemSink(str(path), problems)
            records = parse_raw_lines(path.read_bytes(), sink, day=day)
            sink.close()
            if sink.skipped_lines:
                lock.release()
                skipped.append(path)
                _explain_kept(problems, path, "of the problems above; fix or delete those lines")
                continue
            locks.append((lock, path, day))
            for aggregate in aggregate_day(records, day, windows, intervals):
                aggregates[aggregate.key] = aggregate  # raw is the truth for its series and day
        data = encode_daily(aggregates.values())
        written = ()
        if existing != data:
            write_atomically(target, data)
            written = (target,)
        for _, path, _ in locks:
            path.unlink()
    finally:
        for lock, _, _ in locks:
            lock.release()
    return CompactReport(tuple(day for _, _, day in locks), tuple(path for _, path, _ in locks), written, tuple(skipped))


def _content(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _explain_kept(problems: list | None, path: Path, why: str) -> None:
    if problems is not None:
        problems.append(Problem(str(path), None, None, f"not compacted because {why}", "warning"))


def _remove_empty_dirs(root: Path, removed: tuple[Path, ...]) -> None:
    for directory in sorted({p.parent for p in removed} | {p.parent.parent for p in removed}, reverse=True):
        if directory != root and root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                pass  # not empty
