"""What the page shows of a component's past: day bars, uptime over windows, a latency chart.

`summarize` is the I/O edge: it reads shards and daily files and hands plain data to
`rollup_component`, which is pure.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from generator.checks.result import DOWN, CheckResult
from generator.history.aggregate import (
    MAINTENANCE,
    SeriesDay,
    Windows,
    aggregate_day,
    histogram_quantile,
    hold_cap,
    in_windows,
    windows_by_component,
)
from generator.history.codec import DAY_SECONDS, Record, day_start, gc_paused
from generator.history.store import daily_path, raw_shard_path, read_daily_file, read_raw_shard

MODES = ("results", "duration")
UPTIME_WINDOWS = {"24h": 1, "7d": 7, "30d": 30, "90d": 90}  # "24h" is rolling; the rest are whole UTC days
LATENCY_SERIES_DAYS = 7


@dataclass(frozen=True)
class DayStats:
    day: date
    checks: int  # results counted towards uptime; maintenance ones are not
    up: int
    degraded: int
    down: int
    downtime_seconds: float  # averaged over the locations that reported that day
    latency_p50: float | None  # of up and degraded results, ms
    latency_p95: float | None
    latency_max: float | None
    uptime: float | None  # 0..1; None = no data (never shown as 100%)
    latency_mean: float | None = None
    maintenance: int = 0  # results inside maintenance windows, so a bar can say "maintenance"


@dataclass(frozen=True)
class ComponentHistory:
    component: str
    latest: CheckResult | None  # newest raw result (any location), maintenance or not
    days: list[DayStats]  # oldest -> newest, ending today (UTC)
    uptime: dict[str, float | None]  # by UPTIME_WINDOWS key; None = no data in the window
    latency_series: list[tuple[datetime, float]]  # (hour start, median ms), hours with data only
    locations: tuple[str, ...]
    last_checked: datetime | None


@dataclass
class _Totals:
    """Sums over any set of series-days; what uptime over a window is computed from."""

    checks: int = 0
    up: int = 0
    degraded: int = 0
    down: int = 0
    maintenance: int = 0
    covered: float = 0.0
    downtime: float = 0.0
    latency_count: int = 0
    latency_sum: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None
    histogram: Counter = field(default_factory=Counter)
    locations: set = field(default_factory=set)

    def add(self, aggregate: SeriesDay, covered: float, downtime: float) -> None:
        self.checks += aggregate.checks
        self.up += aggregate.up
        self.degraded += aggregate.degraded
        self.down += aggregate.down
        self.maintenance += aggregate.maintenance
        self.covered += covered
        self.downtime += downtime
        self.latency_count += aggregate.latency_count
        self.latency_sum += aggregate.latency_sum
        self.latency_min = _least(self.latency_min, aggregate.latency_min)
        self.latency_max = _most(self.latency_max, aggregate.latency_max)
        self.histogram.update(aggregate.histogram_map())
        if aggregate.checks:
            self.locations.add(aggregate.location)

    def uptime(self, mode: str) -> float | None:
        if not self.checks:
            return None
        if mode == "duration" and self.covered > 0:
            return max(0.0, 1.0 - self.downtime / self.covered)
        return (self.up + self.degraded) / self.checks

    def day_stats(self, day: date, mode: str) -> DayStats:
        reporting = len(self.locations) or 1
        return DayStats(
            day=day,
            checks=self.checks,
            up=self.up,
            degraded=self.degraded,
            down=self.down,
            downtime_seconds=round(self.downtime / reporting, 3),
            latency_p50=histogram_quantile(self.histogram, 0.5, self.latency_min, self.latency_max),
            latency_p95=histogram_quantile(self.histogram, 0.95, self.latency_min, self.latency_max),
            latency_max=self.latency_max,
            uptime=self.uptime(mode),
            latency_mean=round(self.latency_sum / self.latency_count, 1) if self.latency_count else None,
            maintenance=self.maintenance,
        )


def _least(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


# --- pure rollup -----------------------------------------------------------------------------


def held_time(aggregates: Sequence[SeriesDay], now: float) -> list[tuple[float, float]]:
    """(covered, downtime) seconds of each of one series' day aggregates, sorted by day.

    An aggregate only knows its own day, so the stretch after midnight that the previous
    day's last result still holds is added here; and today's last result holds until now,
    not into the future.
    """
    held = []
    previous: SeriesDay | None = None
    for aggregate in aggregates:
        covered, downtime = aggregate.covered_seconds, aggregate.downtime_seconds
        start = day_start(aggregate.day)
        if previous is not None and previous.last_status != MAINTENANCE:
            carried = min(previous.hold_until, aggregate.first_time) - start
            if carried > 0:
                covered += carried
                if previous.last_status == DOWN:
                    downtime += carried
        if aggregate.last_status != MAINTENANCE:
            reaches = min(aggregate.hold_until, start + DAY_SECONDS)
            future = reaches - max(now, aggregate.last_time)
            if future > 0:
                covered -= future
                if aggregate.last_status == DOWN:
                    downtime -= future
        held.append((covered, downtime))
        previous = aggregate
    return held


def rolling_window(
    records: Sequence[Record], start: float, end: float, windows: Windows, mode: str
) -> float | None:
    """Uptime over [start, end) straight from one component's raw records (any locations)."""
    series: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        # A day before the window is plenty to learn the interval and what holds at its start.
        if start - DAY_SECONDS <= record.time < end:
            series[record.location].append(record)
    totals = _Totals()
    for rows in series.values():
        rows.sort(key=lambda r: r.time)
        times = [r.time for r in rows]
        cap = hold_cap(times)
        for record, next_time in zip(rows, times[1:] + [end]):
            if windows and in_windows(windows, record.time):
                continue
            held = min(next_time, record.time + cap, end) - max(record.time, start)
            if record.time >= start:
                totals.checks += 1
                totals.up += record.status != DOWN  # up or degraded: both count as up
            if held > 0:
                totals.covered += held
                if record.status == DOWN:
                    totals.downtime += held
    return totals.uptime(mode)


def hourly_latency(
    records: Iterable[Record], start: float, windows: Windows, earlier: Iterable[tuple[float, float]] = ()
) -> list[tuple[datetime, float]]:
    """Median latency of each hour since `start` that has any, from up and degraded results.

    `earlier`: (time, latency) of such results outside maintenance that are not in `records`
    (a cached shard's), already filtered."""
    hours: dict[int, list[float]] = defaultdict(list)
    for time, latency in earlier:
        if time >= start:
            hours[int(time // 3600)].append(latency)
    for record in records:
        if record.time < start or record.latency_ms is None or record.status == DOWN:
            continue
        if windows and in_windows(windows, record.time):
            continue
        hours[int(record.time // 3600)].append(record.latency_ms)
    return [
        (datetime.fromtimestamp(hour * 3600, timezone.utc), round(statistics.median(values), 1))
        for hour, values in sorted(hours.items())
    ]


def rollup_component(
    component: str,
    aggregates: Iterable[SeriesDay],
    recent: Sequence[Record],
    *,
    latest: Record | None = None,
    now: datetime,
    days: int,
    mode: str,
    windows: Windows = (),
    latencies: Iterable[tuple[float, float]] = (),
    locations: Iterable[str] = (),
) -> ComponentHistory:
    """One component's history from its day aggregates (any locations, any days), its raw
    records of the last `LATENCY_SERIES_DAYS` days or more (for the rolling 24 hours and the
    latency chart) and its newest raw record, which may be older than those.

    Days of the latency chart whose records are not in `recent` (at least the last two days
    must be, for the rolling 24 hours) come as `latencies` (see `hourly_latency`) and the
    `locations` seen in them."""
    now_seconds = now.timestamp()
    today = now.astimezone(timezone.utc).date()
    by_location: dict[str, list[SeriesDay]] = defaultdict(list)
    for aggregate in aggregates:
        by_location[aggregate.location].append(aggregate)
    per_day: dict[date, _Totals] = defaultdict(_Totals)
    last_seen: float | None = None
    for rows in by_location.values():
        rows.sort(key=lambda a: a.day)
        for aggregate, (covered, downtime) in zip(rows, held_time(rows, now_seconds)):
            per_day[aggregate.day].add(aggregate, covered, downtime)
            last_seen = aggregate.last_time if last_seen is None else max(last_seen, aggregate.last_time)

    bar_days = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    day_stats = [per_day[day].day_stats(day, mode) if day in per_day else _no_data(day) for day in bar_days]

    uptime: dict[str, float | None] = {}
    for name, span in UPTIME_WINDOWS.items():
        if name == "24h":
            uptime[name] = rolling_window(recent, now_seconds - DAY_SECONDS, now_seconds, windows, mode)
            continue
        window = _Totals()  # uptime needs only the counts and seconds
        for offset in range(span):
            totals = per_day.get(today - timedelta(days=offset))
            if totals is not None:
                window.checks += totals.checks
                window.up += totals.up
                window.degraded += totals.degraded
                window.covered += totals.covered
                window.downtime += totals.downtime
        uptime[name] = window.uptime(mode)

    newest_recent = max(recent, key=lambda r: (r.time, r.location), default=None)
    if latest is None or (newest_recent is not None and newest_recent.time >= latest.time):
        latest = newest_recent
    shown = set(bar_days)
    seen = {a.location for rows in by_location.values() for a in rows if a.day in shown}
    seen.update(r.location for r in recent)
    seen.update(locations)
    if latest is not None:
        last_seen = latest.time if last_seen is None else max(last_seen, latest.time)
    return ComponentHistory(
        component=component,
        latest=latest.to_result() if latest else None,
        days=day_stats,
        uptime=uptime,
        latency_series=hourly_latency(recent, now_seconds - LATENCY_SERIES_DAYS * DAY_SECONDS, windows, latencies),
        locations=tuple(sorted(seen)),
        last_checked=None if last_seen is None else datetime.fromtimestamp(last_seen, timezone.utc),
    )


def _no_data(day: date) -> DayStats:
    return DayStats(day, 0, 0, 0, 0, 0.0, None, None, None, None)


# --- the I/O edge ----------------------------------------------------------------------------


def summarize(
    history_dir: Path,
    component_ids: list[str],
    *,
    now: datetime,
    days: int = 90,
    mode: str = "results",
    maintenance: Mapping[str, list[tuple[datetime, datetime]]] | None = None,
    problems: list | None = None,
    cache_dir: Path | None = None,
) -> dict[str, ComponentHistory]:
    """History of each component in `component_ids` (in that order) as of `now`.

    With `cache_dir`, what each closed raw shard contributes is kept there between calls (see
    `history.cache`); the result is the same with or without it.

    Reads only the shards and daily files the windows need: raw shards win over daily
    aggregates for the same component, location and day. Results after `now` are ignored.
    Unreadable lines are appended to `problems` as warnings and skipped.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if mode not in MODES:
        raise ValueError(f"uptime mode must be one of {', '.join(MODES)}, not {mode!r}")
    if days < 1:
        raise ValueError("days must be at least 1")
    history_dir = Path(history_dir)
    now_seconds = now.timestamp()
    today = now.astimezone(timezone.utc).date()
    span = max(days, max(UPTIME_WINDOWS.values()))
    # One day more than shown, for the stretch the day before still holds after midnight.
    first = today - timedelta(days=span)
    windows = windows_by_component(maintenance)

    with gc_paused():
        aggregates, recent, latest, latencies, locations = _read_window(
            history_dir, first, today, now_seconds, windows, problems, Path(cache_dir) if cache_dir else None)
        by_component: dict[str, list[SeriesDay]] = defaultdict(list)
        for aggregate in aggregates.values():
            by_component[aggregate.component].append(aggregate)
        return {
            component: rollup_component(
                component,
                by_component.get(component, []),
                recent.get(component, []),
                latest=latest.get(component),
                now=now,
                days=days,
                mode=mode,
                windows=windows.get(component, ()),
                latencies=latencies.get(component, ()),
                locations=locations.get(component, ()),
            )
            for component in component_ids
        }


# Below this many shards to compute, a process pool costs more than it saves.
_POOL_MIN_SHARDS = 8


def _read_window(
    history_dir: Path, first: date, today: date, now: float, windows: Mapping[str, Windows], problems: list | None,
    cache_dir: Path | None,
) -> tuple[dict, dict[str, list[Record]], dict[str, Record], dict[str, list], dict[str, set]]:
    """Day aggregates from `first` to `today` (raw shards win over daily files for the same series
    and day), each component's newest record, and what the latency chart and rolling 24 hours need.

    Each closed shard is summarised once (`history.cache`), on every core when many need it, and
    the summary is kept in `cache_dir` when there is one. Records are kept only for the days the
    rolling 24 hours needs; older days of the latency chart come as (time, latency) pairs."""
    from generator.history import cache
    from generator.parallel import fork_map

    recent_from = today - timedelta(days=LATENCY_SERIES_DAYS)
    # rolling_window looks back a day before the 24 hours: records from now - 2 days on.
    records_from = min(today, datetime.fromtimestamp(now - 2 * DAY_SECONDS, timezone.utc).date())
    days = []
    day = first
    while day <= today:
        days.append(day)
        day += timedelta(days=1)
    summaries: dict[date, object] = {}
    records_by_day: dict[date, list[Record]] = {}
    shard_problems: dict[date, list] = {}
    keys: dict[date, tuple] = {}
    to_compute: list[date] = []
    for day in days:
        path = raw_shard_path(history_dir, day)
        if day == today:
            continue
        key = cache.shard_key(history_dir, path, day, windows)
        if key is None:
            continue  # no shard that day
        keys[day] = key
        summary = None if cache_dir is None else cache.load(cache_dir, day, key,
                                                             latencies=recent_from <= day < records_from)
        if summary is not None:
            summaries[day] = summary
        if day >= records_from:
            found: list = []
            records_by_day[day] = read_raw_shard(path, day, found)
            shard_problems[day] = found
            if summary is None:
                summaries[day] = cache.summarize_records(records_by_day[day], day, windows, found)
                cache.store(cache_dir, day, key, summaries[day])
        elif summary is None:
            to_compute.append(day)
    if to_compute:
        # Days before the latency chart never need their latencies again: days only age.
        results = fork_map(lambda day: cache.compute(raw_shard_path(history_dir, day), day, windows, day >= recent_from),
                           to_compute, minimum=_POOL_MIN_SHARDS)
        for day, summary in zip(to_compute, results):
            summaries[day] = summary
            cache.store(cache_dir, day, keys[day], summary)

    aggregates: dict[tuple[str, str, date], SeriesDay] = {}
    recent: dict[str, list[Record]] = defaultdict(list)
    latest: dict[str, Record] = {}
    latencies: dict[str, list] = defaultdict(list)
    locations: dict[str, set] = defaultdict(set)
    for day in days:
        if day == today:
            records = [r for r in read_raw_shard(raw_shard_path(history_dir, day), day, problems) if r.time <= now]
            for aggregate in aggregate_day(records, day, windows):
                aggregates[aggregate.key] = aggregate
            latest.update({r.component: r for r in records})
            for record in records:
                recent[record.component].append(record)
            continue
        summary = summaries.get(day)
        if summary is None:
            continue
        if problems is not None:
            problems.extend(shard_problems.get(day, summary.problems))
        for aggregate in summary.aggregates:
            aggregates[aggregate.key] = aggregate
        latest.update(summary.latest)
        if day in records_by_day:
            for record in records_by_day[day]:
                recent[record.component].append(record)
        elif day >= recent_from:
            for component, pairs in summary.latencies.items():
                latencies[component].extend(pairs)
            for component, found in summary.locations.items():
                locations[component].update(found)
    month = (first.year, first.month)
    while month <= (today.year, today.month):
        for key, aggregate in read_daily_file(daily_path(history_dir, *month), problems).items():
            if first <= aggregate.day <= today:
                aggregates.setdefault(key, aggregate)
        month = (month[0] + month[1] // 12, month[1] % 12 + 1)
    return aggregates, recent, latest, latencies, locations
