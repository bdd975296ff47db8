"""`summarize`: the I/O edge of `rollup`. It reads the shards and daily files a page needs, hands
plain data to the pure steps, and keeps between builds what they give (see `history.cache`
for each closed shard's summary)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

from generator.engine.files import ContentDigests, read_cache, write_cache
from generator.engine.memory import gc_paused
from generator.history.aggregate import Intervals, SeriesDay, Windows, aggregate_day, hold_cap, windows_by_component
from generator.history.codec import Record
from generator.history.rollup import (
    LATENCY_SERIES_DAYS,
    MODES,
    UPTIME_WINDOWS,
    ClosedDays,
    ComponentHistory,
    TodaysResults,
    finish_rollup,
    rollup_closed,
    todays_results,
)
from generator.history.store import daily_path, raw_shard_path, read_daily_file, read_raw_columns, read_raw_shard
from generator.engine.reuse import output_key
from generator.engine.parallel import spread

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
    intervals: Intervals | None = None,
) -> dict[str, ComponentHistory]:
    """History of each component in `component_ids` (in that order) as of `now`.

    With `cache_dir`, what each closed raw shard contributes is kept there between calls (see
    `history.cache`); the result is the same with or without it. `intervals` are the components'
    configured check intervals (seconds; 300 when not given): a result holds at most three.

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
    today = now.astimezone(timezone.utc).date()
    span = max(days, max(UPTIME_WINDOWS.values()))
    # One day more than shown, for the stretch the day before still holds after midnight.
    first = today - timedelta(days=span)
    windows = windows_by_component(maintenance)
    intervals = dict(intervals or {})

    cache = Path(cache_dir) if cache_dir else None
    with gc_paused(freeze=True):  # a build's history lives as long as the build
        inputs = _closed_inputs(history_dir, list(component_ids), first, today, windows, days, mode, cache, intervals)
        histories, found = _summarize(history_dir, list(component_ids), now, first, windows, days, mode, inputs,
                                      intervals)
        if inputs is not None:
            closed = output_key(inputs.key)
            histories = {component: _with_keys(history, f"{closed}:{component}")
                         for component, history in histories.items()}
    if problems is not None:
        problems.extend(found)
    return histories


def _with_keys(history: ComponentHistory, closed_key: str) -> ComponentHistory:
    """The history with its keys: `closed_key` names what its days before today were made of,
    and `source_key` everything it holds, with `closed_key` standing for those days. A rebuild
    minutes later whose history shows the same (no new result, nothing moved out of the
    windows) then keeps the pages drawn from it."""
    shown = [(name, getattr(history, name)) for name in _SHOWN if name != "days"]
    return replace(history, closed_key=closed_key,
                   source_key=output_key(closed_key, history.days[-1:], shown))


_SHOWN = tuple(f.name for f in fields(ComponentHistory) if f.name not in ("source_key", "closed_key"))


_NO_RESULTS = TodaysResults({}, None)


def _summarize(history_dir: Path, component_ids: list[str], now: datetime, first: date,
               windows: Mapping[str, Windows], days: int, mode: str,
               inputs: _ClosedInputs | None, intervals: Intervals) -> tuple[dict[str, ComponentHistory], list]:
    """summarize's result and the problems it found."""
    found: list = []
    today = now.astimezone(timezone.utc).date()
    closed = _closed_days(history_dir, component_ids, first, today, windows, days, mode, inputs, intervals)
    found.extend(closed.problems)
    # Today's shard is read into columns (codec.scan_raw_lines), not Records: on every build.
    shard, by_component_today = todays_results(read_raw_columns(raw_shard_path(history_dir, today), today, found),
                                               now.timestamp())
    aggregates = {aggregate.key: aggregate for aggregate in aggregate_day(shard, today, windows, intervals)}
    for key, aggregate in closed.today_from_daily.items():
        aggregates.setdefault(key, aggregate)  # raw results win over a daily file's figures
    found.extend(closed.daily_problems)
    by_component: dict[str, list[SeriesDay]] = defaultdict(list)
    for aggregate in aggregates.values():
        by_component[aggregate.component].append(aggregate)
    histories = {
        component: finish_rollup(closed.parts[component], by_component.get(component, []),
                                 by_component_today.get(component, _NO_RESULTS), now=now,
                                 windows=windows.get(component, ()))
        for component in component_ids
    }
    return histories, found


@dataclass
class _ClosedWindow:
    """Every component's `ClosedDays`, and what reading the closed days reported."""

    parts: dict[str, ClosedDays]
    problems: list  # the closed shards'
    daily_problems: list  # the daily files'
    today_from_daily: dict  # a daily file's aggregates for today (normally none: today is raw)


@dataclass
class _ClosedInputs:
    """What the closed days' part of `summarize` is made of, found from files' stats and digests."""

    key: tuple
    shard_keys: dict[date, tuple | None]
    digests: ContentDigests
    cache_dir: Path


def _closed_inputs(history_dir: Path, component_ids: list[str], first: date, today: date,
                   windows: Mapping[str, Windows], days: int, mode: str, cache_dir: Path | None,
                   intervals: Intervals) -> _ClosedInputs | None:
    """The key naming every input of the closed days (None without a cache): each closed shard's
    `cache.shard_key`, a digest of each daily file's bytes, the maintenance windows, the days
    shown and the code."""
    from generator.history import cache  # not at the top: 16 ms of imports, paid only here

    if cache_dir is None:
        return None
    digests = ContentDigests(cache_dir / "history" / "digests.pickle")
    shards = {day: raw_shard_path(history_dir, day)
              for day in (first + timedelta(days=offset) for offset in range((today - first).days))}
    digests.prefetch([(path.relative_to(history_dir).as_posix(), path) for path in shards.values()])
    shard_keys = {day: cache.shard_key(history_dir, path, day, windows, digests, intervals)
                  for day, path in shards.items()}
    daily_digests = []
    for month in _months(first, today):
        path = daily_path(history_dir, *month)
        daily_digests.append((month, digests.digest(path, path.relative_to(history_dir).as_posix())))
    key = (cache.CODE_FINGERPRINT, tuple(component_ids), today.isoformat(), days, mode,
           tuple(sorted(windows.items())), tuple(sorted(intervals.items())), tuple(shard_keys.values()),
           tuple(daily_digests))
    return _ClosedInputs(key, shard_keys, digests, cache_dir)


def _closed_days(history_dir: Path, component_ids: list[str], first: date, today: date,
                 windows: Mapping[str, Windows], days: int, mode: str, inputs: _ClosedInputs | None,
                 intervals: Intervals) -> _ClosedWindow:
    """`rollup_closed` of each component, from the days `first` to yesterday.

    With a cache (`inputs`), the result is kept (one file for all components) under
    `inputs.key`. A build later the same day, whatever it appended to today's shard, then reads
    none of the closed days again."""
    cache_dir = inputs and inputs.cache_dir
    if inputs is not None:
        kept = read_cache(cache_dir / "history" / _CLOSED_DAYS, inputs.key)
        if type(kept) is _ClosedWindow:
            inputs.digests.save()
            return kept
    problems: list = []
    daily_problems: list = []
    aggregates, recent, latest, latencies, locations, today_from_daily = _read_window(
        history_dir, first, today, windows, problems, daily_problems, cache_dir, inputs and inputs.shard_keys,
        intervals)
    by_component: dict[str, list[SeriesDay]] = defaultdict(list)
    for aggregate in aggregates.values():
        by_component[aggregate.component].append(aggregate)

    def closed_part(component: str) -> ClosedDays:
        return rollup_closed(
            component,
            by_component.get(component, []),
            recent.get(component, []),
            latest=latest.get(component),
            today=today,
            days=days,
            mode=mode,
            windows=windows.get(component, ()),
            latencies=latencies.get(component, ()),
            locations=locations.get(component, ()),
            hold=hold_cap(component, intervals),
        )

    # Once a day or on a cold build: about 7 ms a component, so on every core when there are many.
    parts = dict(zip(component_ids, spread(closed_part, component_ids, "history_components")))
    closed = _ClosedWindow(parts, problems, daily_problems, today_from_daily)
    if inputs is not None:
        write_cache(cache_dir / "history" / _CLOSED_DAYS, inputs.key, closed)
        inputs.digests.save()
    return closed


_CLOSED_DAYS = "closed-days.pickle"


def _months(first: date, last: date) -> list[tuple[int, int]]:
    months = []
    month = (first.year, first.month)
    while month <= (last.year, last.month):
        months.append(month)
        month = (month[0] + month[1] // 12, month[1] % 12 + 1)
    return months


def _read_window(
    history_dir: Path, first: date, today: date, windows: Mapping[str, Windows], problems: list,
    daily_problems: list, cache_dir: Path | None, shard_keys: Mapping[date, tuple | None] | None = None,
    intervals: Intervals | None = None,
) -> tuple[dict, dict[str, list[Record]], dict[str, Record], dict[str, list], dict[str, set], dict]:
    """Day aggregates from `first` to the day before `today` (raw shards win over daily files for
    the same series and day), each component's newest record, what the latency chart and rolling
    24 hours need, and a daily file's aggregates for `today` if it has any.

    Each closed shard is summarised once (`history.cache`), on every core when many need it, and
    the summary is kept in `cache_dir` when there is one, under `shard_keys` (each day's
    `cache.shard_key`, worked out by the caller). Records are kept only for the days the
    rolling 24 hours needs; older days of the latency chart come as (time, latency) pairs."""
    from generator.history import cache  # not at the top: 16 ms of imports, paid only here

    recent_from = today - timedelta(days=LATENCY_SERIES_DAYS)
    # The rolling 24 hours look back a day before them: records from now - 2 days on.
    records_from = today - timedelta(days=2)
    days = []
    day = first
    while day < today:
        days.append(day)
        day += timedelta(days=1)
    summaries: dict[date, object] = {}
    records_by_day: dict[date, list[Record]] = {}
    shard_problems: dict[date, list] = {}
    keys: dict[date, tuple] = {}
    to_compute: list[date] = []
    for day in days:
        path = raw_shard_path(history_dir, day)
        key = shard_keys[day] if shard_keys is not None else cache.shard_key(history_dir, path, day, windows,
                                                                                          intervals=intervals)
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
                summaries[day] = cache.summarize_records(records_by_day[day], day, windows, found, intervals=intervals)
                cache.store(cache_dir, day, key, summaries[day])
        elif summary is None:
            to_compute.append(day)
    if to_compute:
        # Days before the latency chart never need their latencies again: days only age.
        results = spread(lambda day: cache.compute(raw_shard_path(history_dir, day), day, windows, day >= recent_from,
                                                     intervals),
                           to_compute, "history_shards")
        for day, summary in zip(to_compute, results):
            summaries[day] = summary
            cache.store(cache_dir, day, keys[day], summary)
    if cache_dir is not None:
        cache.forget_before(cache_dir, first)

    aggregates: dict[tuple[str, str, date], SeriesDay] = {}
    recent: dict[str, list[Record]] = defaultdict(list)
    latest: dict[str, Record] = {}
    latencies: dict[str, list] = defaultdict(list)
    locations: dict[str, set] = defaultdict(set)
    for day in days:
        summary = summaries.get(day)
        if summary is None:
            continue
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
    today_from_daily: dict = {}
    for month in _months(first, today):
        for key, aggregate in read_daily_file(daily_path(history_dir, *month), daily_problems).items():
            if aggregate.day == today:
                today_from_daily[key] = aggregate
            elif first <= aggregate.day < today:
                aggregates.setdefault(key, aggregate)
    return aggregates, recent, latest, latencies, locations, today_from_daily
