"""An on-disk cache of what a closed raw shard contributes to the page, so a build reads each
closed day once, not on every build.

A raw shard of a past UTC day rarely changes again (a late runner's push can still append to
it). For each such shard the cache keeps a `ShardSummary`: its `aggregate_day` results, each
component's newest record, the latencies the latency chart needs, the locations seen and the
problems reading it reported. An entry is used only if its key matches exactly:

- the shard's path relative to the history dir, size, mtime_ns, ctime_ns and inode (any write,
  copy or checkout changes one of them);
- the maintenance windows of every component, clipped to that UTC day (the only part of them
  `aggregate_day` looks at);
- `CODE_FINGERPRINT`: a hash of the source of the modules that read and aggregate history, so
  changing the code invalidates every entry without anyone remembering to bump a version.

Anything wrong with an entry (missing, unreadable, truncated, another version, another key)
means it is recomputed from the shard; the cache can be deleted at any time.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Mapping

from generator.checks.result import DOWN
from generator.history.aggregate import SeriesDay, Windows, aggregate_day, in_windows
from generator.history.codec import DAY_SECONDS, Record, day_start
from generator.files import read_cache, write_cache
from generator.history.store import read_raw_shard

_SOURCES = ("aggregate.py", "codec.py", "cache.py", "store.py", "rollup.py")


def _fingerprint() -> str:
    digest = hashlib.sha256(b"heliograph-history-cache-1")
    here = Path(__file__).resolve().parent
    try:
        for name in _SOURCES:
            digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    except OSError:  # no sources to hash (a frozen install): never trust an entry
        import uuid
        return uuid.uuid4().hex
    return digest.hexdigest()


CODE_FINGERPRINT = _fingerprint()


@dataclass
class ShardSummary:
    """What one raw shard gives `summarize`, without its records."""

    aggregates: list[SeriesDay]
    latest: dict[str, Record]  # component -> its last record in the shard's order
    # component -> (time, latency) of up/degraded results with a latency, outside maintenance;
    # None when not worked out (a day too old for the latency chart when it was read)
    latencies: dict[str, list[tuple[float, float]]] | None
    locations: dict[str, tuple[str, ...]]  # component -> locations with results
    problems: list = field(default_factory=list)


def summarize_records(records: list[Record], day: date, windows: Mapping[str, Windows], problems: list,
                      with_latencies: bool = True) -> ShardSummary:
    latest: dict[str, Record] = {}
    latencies: dict[str, list[tuple[float, float]]] = {}
    locations: dict[str, set[str]] = {}
    for record in records:
        latest[record.component] = record
        locations.setdefault(record.component, set()).add(record.location)
        if not with_latencies or record.latency_ms is None or record.status == DOWN:
            continue
        component_windows = windows.get(record.component)
        if component_windows and in_windows(component_windows, record.time):
            continue
        latencies.setdefault(record.component, []).append((record.time, record.latency_ms))
    return ShardSummary(
        aggregates=aggregate_day(records, day, windows),
        latest=latest,
        latencies=latencies if with_latencies else None,
        locations={component: tuple(sorted(found)) for component, found in locations.items()},
        problems=list(problems),
    )


def day_windows(windows: Mapping[str, Windows], day: date) -> tuple:
    """The maintenance windows that can matter to one day's aggregates, clipped to the day."""
    start = day_start(day)
    end = start + DAY_SECONDS
    clipped = []
    for component in sorted(windows):
        spans = tuple((max(s, start), min(e, end)) for s, e in windows[component] if s < end and e > start)
        if spans:
            clipped.append((component, spans))
    return tuple(clipped)


def shard_key(history_dir: Path, path: Path, day: date, windows: Mapping[str, Windows]) -> tuple | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    relative = path.relative_to(history_dir).as_posix()
    return (CODE_FINGERPRINT, relative, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino,
            day.isoformat(), day_windows(windows, day))


def _entry_path(cache_dir: Path, day: date, part: str = "") -> Path:
    return cache_dir / "history" / f"{day.isoformat()}{part}.pickle"


def load(cache_dir: Path, day: date, key: tuple, *, latencies: bool = True) -> ShardSummary | None:
    """The cached summary, or None. Latencies live in a file of their own, read only when asked
    for: only the last few days' are shown, and they are most of the bytes."""
    summary = read_cache(_entry_path(cache_dir, day), key)
    if type(summary) is not ShardSummary:
        return None
    if latencies:
        summary.latencies = read_cache(_entry_path(cache_dir, day, ".latency"), key)
        if type(summary.latencies) is not dict:  # missing, or None: never worked out
            return None
    return summary


def store(cache_dir: Path | None, day: date, key: tuple, summary: ShardSummary) -> None:
    if cache_dir is None:
        return  # summarize without a cache: the summary is used once and dropped
    light = ShardSummary(summary.aggregates, summary.latest, {}, summary.locations, summary.problems)
    # The latencies first: an entry whose main file is there always has them.
    write_cache(_entry_path(cache_dir, day, ".latency"), key, summary.latencies)
    write_cache(_entry_path(cache_dir, day), key, light)


def compute(path: Path, day: date, windows: Mapping[str, Windows], with_latencies: bool) -> ShardSummary:
    """Read and summarise one shard (in a worker process, for a cold build)."""
    problems: list = []
    records = read_raw_shard(path, day, problems)
    return summarize_records(records, day, windows, problems, with_latencies)
