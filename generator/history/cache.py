"""An on-disk cache of what a closed raw shard contributes to the page, so a build reads each
closed day once, not on every build.

A raw shard of a past UTC day rarely changes again (a late runner's push can still append to
it). For each such shard the cache keeps a `ShardSummary`: its `aggregate_day` results, each
component's newest record, the latencies the latency chart needs, the locations seen and the
problems reading it reported. An entry is used only if its key matches exactly:

- the shard's path relative to the history dir and a digest of its bytes (`files.ContentDigests`
  reads a shard again only when its size, times or inode changed, and a fresh clone's or a
  restored CI cache's shards still match);
- the maintenance windows of every component, clipped to that UTC day (the only part of them
  `aggregate_day` looks at);
- `CODE_FINGERPRINT`: generator.engine.fingerprint's hash of the whole package and its libraries, so
  changing the code invalidates every entry without anyone remembering to bump a version.

Anything wrong with an entry (missing, unreadable, truncated, another version, another key)
means it is recomputed from the shard; the cache can be deleted at any time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Mapping

from generator.checks.result import DOWN
from generator.history.aggregate import Intervals, SeriesDay, Windows, aggregate_day, in_windows
from generator.history.codec import DAY_SECONDS, Record, Shard, day_start, parse_raw_shard
from generator.engine.files import ContentDigests, reached_through_a_link, read_cache, write_cache
from generator.engine.fingerprint import code_fingerprint
from generator.history.store import read_history_file

# Every cache's one fingerprint of the code (see generator.engine.fingerprint).
CODE_FINGERPRINT = code_fingerprint()


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
                      with_latencies: bool = True, intervals: Intervals | None = None) -> ShardSummary:
    """The summary of one day's records: as `parse_raw` gives them (sorted, each once), or as a
    `codec.Shard`, which is what `compute` reads a shard into, much faster. Either way it is
    worked out a series at a time, from the Shard's columns."""
    shard = records if isinstance(records, Shard) else Shard.from_records(records)
    by_component: dict[str, list[str]] = {}
    for component, location in shard.series:
        by_component.setdefault(component, []).append(location)
    last_places = []  # of each component's last record in (time, component, location) order
    latencies: dict[str, list[tuple[float, float]]] = {}
    for component, locations in by_component.items():
        last = max(locations, key=lambda location: (shard.series[component, location].times[-1], location))
        last_places.append(((component, last), -1))
        if not with_latencies:
            continue
        if len(locations) == 1:
            series = shard.series[component, last]
            times, statuses, values = series.times, series.statuses, series.latencies
        else:  # merged in (time, location) order
            merged = sorted(((time, location, status, value) for location in locations
                             for time, status, value in zip(*shard.series[component, location][:3])),
                            key=itemgetter(0, 1))
            times, _, statuses, values = zip(*merged)
        start = day_start(day)
        component_windows = tuple(w for w in windows.get(component, ()) if w[0] < start + DAY_SECONDS and w[1] > start)
        if component_windows or DOWN in statuses or not all(values):  # not all: a None, or 0.0
            pairs = [(time, value) for time, value, status in zip(times, values, statuses)
                     if value is not None and status != DOWN
                     and not (component_windows and in_windows(component_windows, time))]
        else:
            pairs = list(zip(times, values))
        if pairs:
            latencies[component] = pairs
    return ShardSummary(
        aggregates=aggregate_day(shard, day, windows, intervals),
        latest=dict(zip(by_component, shard.records_at(last_places))),
        latencies=latencies if with_latencies else None,
        locations={component: tuple(sorted(locations)) for component, locations in by_component.items()},
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


def shard_key(history_dir: Path, path: Path, day: date, windows: Mapping[str, Windows],
              digests: ContentDigests | None = None, intervals: Intervals | None = None) -> tuple | None:
    """None when there is no shard that day. With `digests`, the key names the shard's bytes
    (so it survives a fresh clone); without, its stat (enough for a summary used once). The
    check intervals are in it: they cap how long a result holds."""
    relative = path.relative_to(history_dir).as_posix()
    if digests is not None:
        content = digests.digest(path, relative)
        if content is None:
            return None
    else:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        content = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    return (CODE_FINGERPRINT, relative, content, day.isoformat(), day_windows(windows, day),
            tuple(sorted((intervals or {}).items())))


def _entry_path(cache_dir: Path, day: date, part: str = "") -> Path:
    return cache_dir / "history" / f"{day.isoformat()}{part}.pickle"


def forget_before(cache_dir: Path, first: date) -> None:
    """Remove the entries of days before `first`: no page shows them any more, and days only age."""
    if reached_through_a_link(cache_dir / "history" / "entry"):
        return  # a link where the cache's folder belongs: what it leads to is not ours to remove
    for entry in (cache_dir / "history").glob("????-??-??*.pickle"):
        try:
            if date.fromisoformat(entry.name[:10]) < first:
                entry.unlink()
        except (ValueError, OSError):
            pass


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


def compute(path: Path, day: date, windows: Mapping[str, Windows], with_latencies: bool,
            intervals: Intervals | None = None) -> ShardSummary:
    """Read and summarise one shard (in a worker process, for a cold build)."""
    # `read_raw_shard`, but read into a Shard, which is all a summary needs and much faster to
    # get (see `codec.scan_raw_lines`).

    problems: list = []
    data = read_history_file(path, problems)
    if data is None:
        return summarize_records([], day, windows, problems, with_latencies, intervals)
    shard = parse_raw_shard(data, str(path), problems, day=day)
    return summarize_records(shard, day, windows, problems, with_latencies, intervals)
