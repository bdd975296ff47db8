"""What the page shows of a component's past: day bars, uptime over windows, a latency chart.

Pure steps: `rollup_closed` (what the days before today give; kept for the rest of the day)
and `finish_rollup` (today's results added at `now`). `rollup_component` is the two in one.
`history.summary.summarize` is their I/O edge: it reads shards and daily files and keeps
what it can between builds.
"""

from __future__ import annotations

import bisect
import functools
import operator
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate, chain, compress, repeat
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence

from generator.checks.result import DOWN, CheckResult
from generator.history.aggregate import (DEFAULT_HOLD_SECONDS, MAINTENANCE, SeriesDay, Windows, histogram_quantile,
                                         in_windows)
from generator.history.codec import DAY_SECONDS, Record, Series, Shard, day_start, in_time_order
from generator.status.readings import fraction_figure

MODES = ("results", "duration")
# Results as two parallel lists, e.g. (times, statuses): a large site keeps sixty thousand of them
# between builds, and lists of floats and strings are read back many times faster than pairs.
Columns = tuple[list[float], list[Any]]
UPTIME_WINDOWS = {"24h": 1, "7d": 7, "30d": 30, "90d": 90}  # "24h" is rolling; the rest are whole UTC days
# The window coverage is kept as the page shows it: a percentage to 2 decimals, rounded down.
COVERAGE_UNITS = 10_000
LATENCY_SERIES_DAYS = 7


class DayStats(NamedTuple):
    """One bar: a component's results of one UTC day, over all its locations. A named tuple, as
    a large site's histories hold nine thousand of them, read from the cache on most builds."""

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


class Cadence(NamedTuple):
    """The gaps between a component's consecutive results (of all its locations, by time) in
    the 24 hours before `now`; None where there are fewer than two results."""

    results: int
    median_gap_s: float | None  # the lower middle gap of an even count
    worst_gap_s: float | None  # the longest, counting the stretch from the last result to `now`
    locations: tuple[str, ...] = ()  # those whose results are counted, sorted: a reader sees whose gaps these are


def _between(times: Sequence[float], start: float, end: float) -> list[float]:
    """The times within [start, end]: a slice where they are in order (always, but for a
    hand-edited shard), which a build after every check run does for every component."""
    times = list(times)
    if times != sorted(times):
        times.sort()
    return times[bisect.bisect_left(times, start):bisect.bisect_right(times, end)]


def cadence(times_by_location: Mapping[str, Iterable[float]], start: float, end: float) -> Cadence:
    """The Cadence of the results at each location's `times` within [start, end], all together."""
    inside_by_location = {location: _between(times, start, end) for location, times in times_by_location.items()}
    locations = tuple(sorted(location for location, inside in inside_by_location.items() if inside))
    inside = sorted(chain.from_iterable(inside_by_location.values()))
    gaps = [b - a for a, b in zip(inside, inside[1:])]
    if not gaps:
        return Cadence(len(inside), None, None, locations)
    return Cadence(len(inside), round(sorted(gaps)[(len(gaps) - 1) // 2], 1),
                   round(max(max(gaps), end - inside[-1]), 1), locations)


@dataclass(frozen=True)
class ComponentHistory:
    """What the page shows of one component's history at `now`: latest result, day bars, uptime, latency."""

    component: str
    latest: CheckResult | None  # newest raw result (any location), maintenance or not
    days: list[DayStats]  # oldest -> newest, ending today (UTC)
    uptime: dict[str, float | None]  # by UPTIME_WINDOWS key; None = no data in the window
    latency_series: list[tuple[datetime, float]]  # (hour start, median ms), hours with data only
    locations: tuple[str, ...]
    last_checked: datetime | None
    # The median latency of the up and degraded results of the 24 hours before `now`, outside
    # maintenance (the lower middle one of an even count, so it is always a measured latency).
    response_time_ms: float | None = None
    # How steadily results came in the 24 hours before `now` (any location): see `Cadence`.
    cadence: Cadence | None = None
    # The share (0..1) of the 24 hours before `now` that results held, outside maintenance: each
    # result holds until the next of its location, at most three check intervals.
    coverage_24h: float | None = None
    # The same share for every uptime window ("24h", "7d", ...), in the duration mode only (the
    # results mode does not count time, and the page shows these only in that mode): the
    # whole-day windows add up each day's held time (a mean over the locations that reported that
    # day) and divide by the window's length so far; None where the window has no result at all.
    # Rounded down to the 2 decimals of a percentage the page shows: the exact shares drift with
    # every second of `now`, and the pages keyed on them would be rendered again each build.
    coverage: Mapping[str, float | None] = field(default_factory=dict)
    # A digest of everything this holds, for keys of what is rendered from it; "" when unknown.
    source_key: str = field(default="", compare=False, repr=False)
    # A digest of what the days before today (`days[:-1]`) were made of: the history's files,
    # the maintenance windows, the code. They stay as they are all day.
    closed_key: str = field(default="", compare=False, repr=False)

    @cached_property
    def first_day_with_data(self) -> date | None:
        """The first day shown that has counted results (the Statuspage API's start date)."""
        return next((day.day for day in self.days if day.checks), None)


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


def _rolling_uptime(
    series: Mapping[str, Columns], start: float, end: float, windows: Windows, mode: str,
    cap: float = DEFAULT_HOLD_SECONDS,
) -> float | None:
    return _rolling_totals(series, start, end, windows, cap).uptime(mode)


def _rolling_totals(
    series: Mapping[str, Columns], start: float, end: float, windows: Windows, cap: float = DEFAULT_HOLD_SECONDS,
) -> _Totals:
    """Uptime over [start, end) straight from one component's raw results, as (times, statuses)
    of each location; a result holds at most `cap` seconds (`aggregate.hold_cap`)."""
    # Only windows that touch these two days matter: usually none, so no lookup per result.
    windows = tuple(w for w in windows if w[1] > start - DAY_SECONDS and w[0] < end)
    totals = _Totals()
    for times, statuses in series.values():
        times, statuses = list(times), list(statuses)
        if times != sorted(times):  # in time order already, but for a hand-edited shard: cheap
            order = sorted(range(len(times)), key=times.__getitem__)
            times, statuses = [times[i] for i in order], [statuses[i] for i in order]
        # A result older than `cap` before the window holds nothing in it.
        first, last = bisect.bisect_left(times, start - cap), bisect.bisect_left(times, end)
        times, statuses = times[first:last], statuses[first:last]
        if not windows:
            _add_held(totals, times, statuses, cap, start, end)
            continue
        for time, status, next_time in zip(times, statuses, times[1:] + [end]):
            if windows and in_windows(windows, time):
                continue
            held = min(next_time, time + cap, end) - max(time, start)
            if time >= start:
                totals.checks += 1
                totals.up += status != DOWN  # up or degraded: both count as up
            if held > 0:
                totals.covered += held
                if status == DOWN:
                    totals.downtime += held
    return totals


def _add_held(totals: _Totals, times: list[float], statuses: list[str], cap: float, start: float, end: float) -> None:
    """What the loop in `_rolling_uptime` adds for results outside maintenance, a column at a
    time: it runs for every component on every build after a check run."""
    checks = len(times) - bisect.bisect_left(times, start)
    totals.checks += checks
    totals.up += checks - statuses[len(statuses) - checks:].count(DOWN)  # up or degraded: both count as up
    held_until = map(min, times[1:] + [end], [time + cap for time in times], repeat(end))
    held = list(map(max, map(operator.sub, held_until, map(max, times, repeat(start))), repeat(0.0)))
    # Added one by one in order, as the loop adds them, so that the sums come out the same to the
    # last bit (accumulate, in C; sum() may compensate for rounding, and does from Python 3.12).
    totals.covered = _last(accumulate(held, initial=totals.covered))
    totals.downtime = _last(accumulate(compress(held, map(operator.eq, statuses, repeat(DOWN))), initial=totals.downtime))


def _last(values: Iterable[float]) -> float:
    return deque(values, maxlen=1)[0]


def _shown(records: Iterable[Record], windows: Windows) -> list[tuple[float, float]]:
    """(time, latency) of the up and degraded records outside maintenance that have a latency:
    what the latency figures are made of (`_shown_latencies` gives the same of columns)."""
    return [(record.time, record.latency_ms) for record in records
            if record.latency_ms is not None and record.status != DOWN
            and not (windows and in_windows(windows, record.time))]


def _shown_latencies(columns: Iterable[Series], windows: Windows) -> Iterator[Columns]:
    """(times, latencies) of each series' up and degraded results outside maintenance that have
    a latency, in time order: what the latency figures are made of. A column at a time, as
    `_add_held` works: this runs for every component on every build after a check run."""
    for series in columns:
        times, statuses, latencies, _ = in_time_order(*series)  # in order already, but for a hand-edited shard
        shown = list(map(operator.and_, map(operator.is_not, latencies, repeat(None)),
                         map(operator.ne, statuses, repeat(DOWN))))
        if windows:
            shown = [keep and not in_windows(windows, time) for keep, time in zip(shown, times)]
        if all(shown):
            yield times, latencies
        else:
            yield list(compress(times, shown)), list(compress(latencies, shown))


def _by_hour(hours: dict[int, list[float]], shown: Iterable[tuple[float, float]], start: float) -> None:
    """Add the shown latencies (`_shown`, `_shown_latencies`) since `start` to `hours`, by hour,
    for the latency chart's medians (which do not depend on the order they come in)."""
    for time, latency in shown:
        if time >= start:
            hours[int(time // 3600)].append(latency)


class TodaysResults(NamedTuple):
    """One component's raw results of today up to `now`: each location's, in time order, and
    the newest of them (by time, then location) as a Record."""

    series: Mapping[str, Series]  # location -> its results; none empty
    newest: Record | None

    @classmethod
    def from_records(cls, records: Sequence[Record]) -> TodaysResults:
        shard = Shard.from_records(records)
        return cls({location: series for (_, location), series in shard.series.items()},
                   max(records, key=lambda r: (r.time, r.location), default=None))


def todays_results(shard: Shard, until: float) -> tuple[Shard, dict[str, TodaysResults]]:
    """Today's shard cut at `until` (results after `now` are ignored), and each component's part
    of it: a Shard's columns as they are, the newest result alone read into a Record."""
    kept: dict[tuple[str, str], Series] = {}
    for key, series in shard.series.items():
        cut = bisect.bisect_right(series.times, until)
        if cut == len(series.times):
            kept[key] = series
        elif cut:
            kept[key] = Series(*(column[:cut] for column in series))
    cut_shard = shard.keeping(kept)
    by_component: dict[str, dict[str, Series]] = defaultdict(dict)
    for (component, location), series in kept.items():
        by_component[component][location] = series
    newest_places = [((component, max(series, key=lambda location: (series[location].times[-1], location))), -1)
                     for component, series in by_component.items()]
    newest = dict(zip(by_component, cut_shard.records_at(newest_places)))
    return cut_shard, {component: TodaysResults(series, newest[component]) for component, series in by_component.items()}


def _hour_medians(hours: Mapping[int, list[float]]) -> list[tuple[int, float]]:
    from statistics import median  # here: see aggregate._hold_cap

    return [(hour, round(median(values), 1)) for hour, values in sorted(hours.items())]


@functools.lru_cache(maxsize=1024)  # the same week of hours for every component
def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, timezone.utc)


@dataclass
class ClosedDays:
    """What one component's history takes from the days before today. It stays the same all day,
    so `summarize` keeps it between builds, and a build adds only today's results to it."""

    component: str
    today: date
    days: int
    mode: str
    day_stats: dict[date, DayStats]  # bar days before today that have data
    window_sums: dict[str, tuple[int, int, int, float, float, float]]  # the closed days' (checks, up, degraded,
    # covered, downtime, covered per reporting location) in each whole-day window ("7d", ...): today adds its own
    carry: list[SeriesDay]  # each location's last closed day: its last result may still hold today
    series: dict[str, Columns]  # location -> (times, statuses) since the rolling 24 hours can start (a day back, less `hold`)
    newest_recent: Record | None  # the newest of those results, by (time, location)
    latest: Record | None  # the newest raw result known before today (it may be older than `series`)
    hour_medians: list[tuple[int, float]]  # latency chart hours that are whole days before today, in the
    # chart whatever the hour of `now`
    edge_latencies: Columns  # (times, ms) of the day the chart starts in, cut at `now`
    yesterday_latencies: Columns  # (times, ms) of yesterday's up and degraded results outside
    # maintenance, for the median of the last 24 hours
    locations: frozenset[str]
    last_seen: float | None
    hold: float = DEFAULT_HOLD_SECONDS  # how long a result holds at most (`aggregate.hold_cap`)


def rollup_closed(
    component: str,
    aggregates: Iterable[SeriesDay],
    recent: Iterable[Record],
    *,
    latest: Record | None = None,
    today: date,
    days: int,
    mode: str,
    windows: Windows = (),
    latencies: Iterable[tuple[float, float]] = (),
    locations: Iterable[str] = (),
    hold: float = DEFAULT_HOLD_SECONDS,
) -> ClosedDays:
    """The part of `rollup_component` that only days before `today` give (pure)."""
    today_start = day_start(today)
    by_location: dict[str, list[SeriesDay]] = defaultdict(list)
    for aggregate in aggregates:
        if aggregate.day < today:
            by_location[aggregate.location].append(aggregate)
    per_day: dict[date, _Totals] = defaultdict(_Totals)
    last_seen: float | None = None
    carry = []
    for rows in by_location.values():
        rows.sort(key=lambda a: a.day)
        carry.append(rows[-1])
        # Closed days end before `now`, so `now` never cuts their holds short: any later moment will do.
        for aggregate, (covered, downtime) in zip(rows, held_time(rows, today_start)):
            per_day[aggregate.day].add(aggregate, covered, downtime)
            last_seen = aggregate.last_time if last_seen is None else max(last_seen, aggregate.last_time)

    bar_days = {today - timedelta(days=offset) for offset in range(1, days)}
    day_stats = {day: per_day[day].day_stats(day, mode) for day in sorted(bar_days) if day in per_day}
    window_sums = {}
    for name, span in UPTIME_WINDOWS.items():
        if name == "24h":
            continue
        checks = up = degraded = 0
        covered = downtime = held = 0.0
        for offset in range(1, span):
            totals = per_day.get(today - timedelta(days=offset))
            if totals is not None:
                checks += totals.checks
                up += totals.up
                degraded += totals.degraded
                covered += totals.covered
                downtime += totals.downtime
                held += totals.covered / (len(totals.locations) or 1)
        window_sums[name] = (checks, up, degraded, covered, downtime, held)

    recent = [r for r in recent if r.time < today_start]
    series: dict[str, Columns] = defaultdict(lambda: ([], []))
    # The rolling 24 hours start yesterday at the earliest, and a result older than `hold`
    # before their start holds nothing in them.
    series_from = today_start - DAY_SECONDS - hold
    for record in recent:
        if record.time >= series_from:
            times, statuses = series[record.location]
            times.append(record.time)
            statuses.append(record.status)
    chart_from = day_start(today - timedelta(days=LATENCY_SERIES_DAYS))
    always_shown = day_start(today - timedelta(days=LATENCY_SERIES_DAYS - 1))
    shown, latencies = _shown(recent, windows), list(latencies)
    hours: dict[int, list[float]] = defaultdict(list)
    _by_hour(hours, latencies, chart_from)
    _by_hour(hours, shown, chart_from)
    edge = [(time, latency) for time, latency in latencies + shown if chart_from <= time < always_shown]
    yesterday = [(time, latency) for time, latency in shown if time >= today_start - DAY_SECONDS]
    seen = {a.location for rows in by_location.values() for a in rows if a.day in bar_days}
    seen.update(r.location for r in recent)
    seen.update(locations)
    return ClosedDays(
        component=component,
        today=today,
        days=days,
        mode=mode,
        day_stats=day_stats,
        window_sums=window_sums,
        carry=carry,
        series=dict(series),
        newest_recent=max(recent, key=lambda r: (r.time, r.location), default=None),
        latest=latest,
        hour_medians=_hour_medians({hour: values for hour, values in hours.items() if hour * 3600 >= always_shown}),
        edge_latencies=_columns(edge),
        yesterday_latencies=_columns(yesterday),
        locations=frozenset(seen),
        last_seen=last_seen,
        hold=hold,
    )


def finish_rollup(
    closed: ClosedDays, aggregates: Iterable[SeriesDay], today_results: TodaysResults, *, now: datetime,
    windows: Windows = (),
) -> ComponentHistory:
    """A component's history at `now`: what the closed days give, plus today's aggregates and raw
    results (pure)."""
    now_seconds = now.timestamp()
    today, mode = closed.today, closed.mode
    if now.astimezone(timezone.utc).date() != today:
        raise ValueError(f"closed days summarised for {today}, not for {now:%Y-%m-%d}")
    carried = {a.location: a for a in closed.carry}
    totals = _Totals()
    last_seen = closed.last_seen
    seen = set(closed.locations)
    has_today = False
    for aggregate in sorted((a for a in aggregates if a.day == today), key=lambda a: a.location):
        previous = carried.get(aggregate.location)
        rows = [previous, aggregate] if previous is not None else [aggregate]
        covered, downtime = held_time(rows, now_seconds)[-1]
        totals.add(aggregate, covered, downtime)
        has_today = True
        last_seen = aggregate.last_time if last_seen is None else max(last_seen, aggregate.last_time)
        seen.add(aggregate.location)

    day_stats = [closed.day_stats.get(day) or empty for day, empty in _empty_bars(today, closed.days)]
    day_stats.append(totals.day_stats(today, mode) if has_today else _no_data(today))

    series = {location: (list(times), list(statuses)) for location, (times, statuses) in closed.series.items()}
    for location, results in today_results.series.items():
        times, statuses = series.setdefault(location, ([], []))
        times.extend(results.times)
        statuses.extend(results.statuses)
        seen.add(location)
    rolling = _rolling_totals(series, now_seconds - DAY_SECONDS, now_seconds, windows, closed.hold)
    uptime: dict[str, float | None] = {"24h": rolling.uptime(mode)}
    # Locations' results may overlap in time; each location holds its own share, so the
    # coverage of several is their mean, as the downtime of a day is (`day_stats`).
    reporting = sum(bool(_between(times, now_seconds - DAY_SECONDS, now_seconds)) for times, _ in series.values())
    coverage = rolling.covered / DAY_SECONDS / max(1, reporting) if series else None
    coverage_24h = None if coverage is None else min(1.0, coverage)
    # The windows' coverage as the page shows it, and only in the duration mode (see ComponentHistory).
    shown_coverage: dict[str, float | None] = {}
    if mode == "duration":
        shown_coverage["24h"] = fraction_figure(coverage_24h, COVERAGE_UNITS)
    today_held = totals.covered / (len(totals.locations) or 1)
    today_length = now_seconds - day_start(today)
    for name, (checks, up, degraded, covered, downtime, held) in closed.window_sums.items():
        window = _Totals(checks=totals.checks + checks, up=totals.up + up, degraded=totals.degraded + degraded,
                         covered=totals.covered + covered, downtime=totals.downtime + downtime)
        uptime[name] = window.uptime(mode)
        if mode == "duration":
            length = (UPTIME_WINDOWS[name] - 1) * DAY_SECONDS + today_length
            shown_coverage[name] = fraction_figure(min(1.0, (held + today_held) / length)
                                                   if window.checks or window.covered else None, COVERAGE_UNITS)

    chart_from = now_seconds - LATENCY_SERIES_DAYS * DAY_SECONDS
    day_ago = now_seconds - DAY_SECONDS
    today_hours: dict[int, list[float]] = defaultdict(list)
    last_day = [latency for time, latency in zip(*closed.yesterday_latencies) if time >= day_ago]
    for times, latencies in _shown_latencies(today_results.series.values(), windows):
        _by_hour(today_hours, zip(times, latencies), chart_from)
        last_day += latencies[bisect.bisect_left(times, day_ago):]
    edge_hours: dict[int, list[float]] = defaultdict(list)
    _by_hour(edge_hours, zip(*closed.edge_latencies), chart_from)
    hour_medians = _hour_medians(edge_hours) + closed.hour_medians + _hour_medians(today_hours)

    newest_recent = today_results.newest
    if closed.newest_recent is not None and (
            newest_recent is None or (closed.newest_recent.time, closed.newest_recent.location)
            > (newest_recent.time, newest_recent.location)):
        newest_recent = closed.newest_recent
    latest = closed.latest
    if latest is None or (newest_recent is not None and newest_recent.time >= latest.time):
        latest = newest_recent
    if latest is not None:
        last_seen = latest.time if last_seen is None else max(last_seen, latest.time)
    return ComponentHistory(
        component=closed.component,
        latest=latest.to_result() if latest else None,
        days=day_stats,
        uptime=uptime,
        latency_series=[(hour_start(hour), median) for hour, median in hour_medians],
        locations=tuple(sorted(seen)),
        last_checked=None if last_seen is None else datetime.fromtimestamp(last_seen, timezone.utc),
        response_time_ms=_lower_median(last_day),
        cadence=cadence({location: times for location, (times, _) in series.items()}, now_seconds - DAY_SECONDS,
                        now_seconds),
        coverage_24h=coverage_24h,
        coverage=shown_coverage,
    )


def _columns(pairs: list[tuple[float, Any]]) -> Columns:
    return [first for first, _ in pairs], [second for _, second in pairs]


def _lower_median(values: list[float]) -> float | None:
    """The middle value, the lower of the two middle ones for an even count: always a latency
    that was measured, so an independent reader gets it exactly."""
    return sorted(values)[(len(values) - 1) // 2] if values else None


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
    hold: float = DEFAULT_HOLD_SECONDS,
) -> ComponentHistory:
    """One component's history from its day aggregates (any locations, any days), its raw
    records of the last `LATENCY_SERIES_DAYS` days or more (for the rolling 24 hours and the
    latency chart) and its newest raw record, which may be older than those.

    Days of the latency chart whose records are not in `recent` (at least the last two days
    must be, for the rolling 24 hours) come as `latencies` (see `_by_hour`) and the
    `locations` seen in them."""
    today = now.astimezone(timezone.utc).date()
    aggregates = list(aggregates)
    closed = rollup_closed(component, aggregates, recent, latest=latest, today=today, days=days, mode=mode,
                           windows=windows, latencies=latencies, locations=locations, hold=hold)
    today_start = day_start(today)
    return finish_rollup(closed, aggregates, TodaysResults.from_records([r for r in recent if r.time >= today_start]),
                         now=now, windows=windows)


def _no_data(day: date) -> DayStats:
    return DayStats(day, 0, 0, 0, 0, 0.0, None, None, None, None)


@functools.lru_cache(maxsize=4)  # the same bars for every component
def _empty_bars(today: date, days: int) -> tuple[tuple[date, DayStats], ...]:
    """Each bar day before `today`, oldest first, with its stats when it has no data."""
    return tuple((day, _no_data(day)) for day in (today - timedelta(days=offset) for offset in range(days - 1, 0, -1)))
