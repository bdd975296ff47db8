"""Per-day aggregates of one series (component x location): the unit that is compacted and cached.

`aggregate_day` is pure: the same records and maintenance windows always give the same,
byte-identical `SeriesDay` line. That is what lets two branches that compact the same day
agree, and what lets a later cache reuse a closed day's aggregate keyed on its shard file.

Latency percentiles come from a log-bucketed histogram (buckets 2% wide, so a percentile is
within 1% of the exact one, and clamped to the observed min and max). Unlike exact percentiles,
histograms add up: merging locations, or raw days with compacted ones, gives the same figures
either way.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, compress, repeat
from typing import Iterable, Iterator, Mapping, Sequence

from generator.checks.result import DOWN, STATUSES
from generator.checks.spec import DEFAULT_INTERVAL  # a check's `interval` unless site.yaml says otherwise
from generator.history.codec import (
    DAY_SECONDS,
    ProblemSink,
    Record,
    Shard,
    day_start,
    dumps,
    epoch_to_text,
    loads,
    split_lines,
    text_to_epoch,
)

DAILY_SCHEMA_VERSION = 1
MAINTENANCE = "maintenance"  # `last_status` of a series whose last result fell in maintenance

# A result is taken to hold until the next one, but never longer than this many of the
# component's configured check intervals: past that the runner was not running, which is
# "no data", not up or down. The configured interval, not the spacing seen in the data: a
# run of quick checks must not shrink how long the last one before an outage holds.
HOLD_CAP_INTERVALS = 3
DEFAULT_HOLD_SECONDS = HOLD_CAP_INTERVALS * DEFAULT_INTERVAL

Intervals = Mapping[str, float]  # component -> its configured check interval, seconds

HISTOGRAM_GAMMA = 1.02
_BUCKETS_PER_E = 1 / math.log(HISTOGRAM_GAMMA)
_SMALLEST_LATENCY = 0.1  # ms; latencies are stored to 0.1 ms, and log(0) has no bucket


# --- maintenance windows -------------------------------------------------------------------


Windows = tuple[tuple[float, float], ...]  # merged, sorted [start, end) in epoch seconds


def to_windows(spans: Iterable[tuple[datetime, datetime]]) -> Windows:
    """Sorted, overlap-merged epoch windows from (start, end) datetimes; end is exclusive."""
    merged: list[list[float]] = []
    for start, end in sorted((s.timestamp(), e.timestamp()) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def in_windows(windows: Windows, moment: float) -> bool:
    index = bisect.bisect_right(windows, (moment, math.inf)) - 1
    return index >= 0 and windows[index][0] <= moment < windows[index][1]


def windows_by_component(maintenance: Mapping[str, Iterable[tuple[datetime, datetime]]] | None) -> dict[str, Windows]:
    return {component: to_windows(spans) for component, spans in (maintenance or {}).items()}


# --- latency histogram ---------------------------------------------------------------------


def latency_bucket(latency_ms: float) -> int:
    return next(latency_buckets((latency_ms,)))


def latency_buckets(latencies: Iterable[float]) -> Iterator[int]:
    """latency_bucket of each latency, a column at a time in C."""
    return map(math.ceil, map(operator.mul, map(math.log, map(max, latencies, repeat(_SMALLEST_LATENCY))),
                              repeat(_BUCKETS_PER_E)))


def bucket_value(bucket: int) -> float:
    """The value that is at most 1% off anything in the bucket (gamma**(i-1), gamma**i]."""
    return 2 * HISTOGRAM_GAMMA**bucket / (HISTOGRAM_GAMMA + 1)


def histogram_quantile(
    histogram: Mapping[int, int], quantile: float, lowest: float | None, highest: float | None
) -> float | None:
    """Nearest-rank quantile, clamped to the observed range so a constant series reads exactly."""
    total = sum(histogram.values())
    if not total or lowest is None or highest is None:
        return None
    rank = max(1, math.ceil(quantile * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return round(min(max(bucket_value(bucket), lowest), highest), 1)
    raise AssertionError("unreachable: rank is at most the total")


# --- the per-series day aggregate ------------------------------------------------------------


@dataclass(frozen=True)
class SeriesDay:
    """Everything the page needs from one UTC day of one component seen from one location."""

    component: str
    location: str
    day: date
    checks: int  # results that count towards uptime (outside maintenance)
    up: int
    degraded: int
    down: int
    maintenance: int  # results inside a maintenance window: expected, so not counted
    covered_seconds: float  # time within the day held by counted results
    downtime_seconds: float  # part of covered_seconds held by "down" results
    latency_count: int  # latencies of up and degraded results; a failure's latency is usually a timeout
    latency_sum: float
    latency_min: float | None
    latency_max: float | None
    histogram: tuple[tuple[int, int], ...]  # (latency bucket, count), by bucket
    first_time: float  # epoch seconds of the day's first result, counted or not
    last_time: float
    last_status: str  # of the last result, or MAINTENANCE
    hold_until: float  # the last result holds until here, which may be in the next day

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.component, self.location, self.day)

    def histogram_map(self) -> dict[int, int]:
        return dict(self.histogram)

    def to_line(self) -> bytes:
        histogram = self.histogram_map()
        mean = round(self.latency_sum / self.latency_count, 1) if self.latency_count else None
        return (
            dumps(
                {
                    "v": DAILY_SCHEMA_VERSION,
                    "day": self.day.isoformat(),
                    "c": self.component,
                    "loc": self.location,
                    "n": self.checks,
                    "up": self.up,
                    "deg": self.degraded,
                    "down": self.down,
                    "maint": self.maintenance,
                    "cov_s": self.covered_seconds,
                    "down_s": self.downtime_seconds,
                    "lat_n": self.latency_count,
                    "lat_sum": self.latency_sum,
                    "lat_min": self.latency_min,
                    "lat_max": self.latency_max,
                    # Derived, for people and jq; readers recompute them from "h".
                    "p50": histogram_quantile(histogram, 0.5, self.latency_min, self.latency_max),
                    "p95": histogram_quantile(histogram, 0.95, self.latency_min, self.latency_max),
                    "mean": mean,
                    "first": epoch_to_text(self.first_time),
                    "last": epoch_to_text(self.last_time),
                    "last_s": self.last_status,
                    "hold": epoch_to_text(self.hold_until),
                    "h": [list(pair) for pair in self.histogram],
                }
            )
            + b"\n"
        )

    @classmethod
    def from_json(cls, data: dict) -> SeriesDay:
        version = data.get("v")
        if version != DAILY_SCHEMA_VERSION:
            raise ValueError(f"unsupported schema version {version!r} (this Heliograph reads v{DAILY_SCHEMA_VERSION})")
        try:
            last_status = data["last_s"]
            if last_status not in STATUSES and last_status != MAINTENANCE:
                raise ValueError(f"unknown last status {last_status!r}")
            latency_min, latency_max = data["lat_min"], data["lat_max"]
            return cls(
                component=_string(data["c"]),
                location=_string(data["loc"]),
                day=date.fromisoformat(data["day"]),
                checks=int(data["n"]),
                up=int(data["up"]),
                degraded=int(data["deg"]),
                down=int(data["down"]),
                maintenance=int(data["maint"]),
                covered_seconds=float(data["cov_s"]),
                downtime_seconds=float(data["down_s"]),
                latency_count=int(data["lat_n"]),
                latency_sum=float(data["lat_sum"]),
                latency_min=None if latency_min is None else float(latency_min),
                latency_max=None if latency_max is None else float(latency_max),
                histogram=tuple((int(bucket), int(count)) for bucket, count in data["h"]),
                first_time=text_to_epoch(data["first"]),
                last_time=text_to_epoch(data["last"]),
                last_status=last_status,
                hold_until=text_to_epoch(data["hold"]),
            )
        except KeyError as missing:
            raise ValueError(f"missing field {missing}") from None
        except (TypeError, AttributeError):
            raise ValueError("a field has the wrong type") from None


def _string(value: object) -> str:
    if type(value) is not str:
        raise TypeError
    return value


def hold_cap(component: str, intervals: Intervals | None) -> float:
    """How long one result of this component may stand for: three of its configured intervals."""
    return HOLD_CAP_INTERVALS * (intervals or {}).get(component, DEFAULT_INTERVAL)


def _gaps(times: Sequence[float]) -> list[float]:
    """The intervals between consecutive times."""
    return list(map(operator.sub, times[1:], times))


def aggregate_series_day(
    component: str, location: str, day: date, records: Sequence[Record], windows: Windows = (),
    intervals: Intervals | None = None,
) -> SeriesDay:
    """One series' records of one UTC day (sorted by time, non-empty) to its aggregate."""
    latencies = [r.latency_ms for r in records]
    return _series_day(component, location, day, day_start(day) + DAY_SECONDS, [r.time for r in records],
                       [r.status for r in records], latencies, windows, _buckets(latencies),
                       hold_cap(component, intervals))


def _buckets(latencies: Iterable[float | None]) -> dict[float, int]:
    """latency -> latency_bucket(latency) of each distinct latency, worked out once for a whole
    day: latencies are stored to 0.1 ms, so they repeat a lot (a day of 100 components: 28,000
    results, 6,000 distinct latencies), and looking a bucket up takes a fraction of the time of
    working it out. (Not kept between days: a process-wide memo made each later day slower,
    measured, apparently by holding on to floats made amid a day's garbage.)"""
    distinct = set(latencies)
    distinct.discard(None)
    return dict(zip(distinct, latency_buckets(distinct)))


def _series_day(component: str, location: str, day: date, end: float, times: Sequence[float],
                statuses: Sequence[str], latencies: Sequence[float | None], windows: Windows,
                buckets: Mapping[float, int], cap: float) -> SeriesDay:
    """`aggregate_series_day` on the series' columns (sorted by time, non-empty); `end` is the
    end of `day`; `buckets` has the bucket of every latency; `cap` is `hold_cap`.

    Hot: each step is a column at a time with C built-ins (map, compress, list methods), as
    fast as Python goes, rather than one loop over the results doing everything.
    """
    held = _held(times, _gaps(times), cap, end)
    counted_times = times
    if windows:
        # A result in maintenance still ends the hold of the one before it, so holds are
        # computed over every result first, and the maintenance ones dropped after.
        counted = [not in_windows(windows, time) for time in times]
        maintenance = counted.count(False)
        counted_times, statuses, latencies, held = (
            list(compress(column, counted)) for column in (times, statuses, latencies, held)
        )
    else:
        maintenance = 0
    up, down = statuses.count("up"), statuses.count(DOWN)
    degraded = len(statuses) - up - down
    if down or not all(latencies):  # not all: a None, or a latency of 0.0 (which stays)
        latencies = [latency for latency, status in zip(latencies, statuses) if latency is not None and status != DOWN]
    downtime = math.fsum(compress(held, map(operator.eq, statuses, repeat(DOWN)))) if down else 0.0
    return SeriesDay(
        component=component,
        location=location,
        day=day,
        checks=len(statuses),
        up=up,
        degraded=degraded,
        down=down,
        maintenance=maintenance,
        # Rounded once, here, so an aggregate read back from a daily file equals a fresh one.
        covered_seconds=round(math.fsum(held), 3),
        downtime_seconds=round(downtime, 3),
        latency_count=len(latencies),
        latency_sum=round(math.fsum(latencies), 3),
        latency_min=min(latencies, default=None),
        latency_max=max(latencies, default=None),
        histogram=tuple(sorted(Counter(map(buckets.__getitem__, latencies)).items())),
        first_time=round(times[0], 3),
        last_time=round(times[-1], 3),
        last_status=statuses[-1] if counted_times and counted_times[-1] == times[-1] else MAINTENANCE,
        hold_until=round(times[-1] + cap, 3),
    )


def _held(times: Sequence[float], gaps: list[float], cap: float, end: float) -> list[float]:
    """How long each result holds: min(next time, time + cap, end) - time, the next time of
    the last being infinity.

    That is its gap to the next result, exactly, wherever the gap is clearly shorter than cap,
    which is nearly everywhere; only the rest take the formula. Clearly: next - time is exact
    for times within a factor of 2 of each other (Sterbenz), and float(time + cap) is off by at
    most half an ulp of float(last + cap), so next < float(time + cap) whenever the gap is at
    least that ulp short of cap (cap - ulp is exact: ulp is a multiple of cap's own ulp).
    """
    last = times[-1]
    if not (0 < times[0] and last <= 2 * times[0] and last < end):
        return [min(following, time + cap, end) - time
                for time, following in zip(times, chain(times[1:], (math.inf,)))]
    held = gaps.copy()
    for index in compress(range(len(gaps)), map(operator.gt, gaps, repeat(cap - math.ulp(last + cap)))):
        time = times[index]
        held[index] = min(times[index + 1], time + cap, end) - time
    held.append(min(math.inf, last + cap, end) - last)
    return held


def aggregate_day(records: Iterable[Record] | Shard, day: date,
                  maintenance: Mapping[str, Windows] | None = None, intervals: Intervals | None = None,
                  ) -> list[SeriesDay]:
    """Aggregates of every series in one day's records (as `codec.parse_raw` returns them, or
    as `codec.scan_raw_lines` does), sorted by (component, location).

    This is the per-shard step a cache can key on the shard file (plus the maintenance windows
    that touch that day and the components' check intervals).
    """
    shard = records if isinstance(records, Shard) else Shard.from_records(records)
    start = day_start(day)
    end = start + DAY_SECONDS
    # Only the windows that touch this day, so a series with none that day is not looked up
    # result by result (a shard holds only its own day's results).
    maintenance = {component: touching for component, windows in (maintenance or {}).items()
                   if (touching := tuple(w for w in windows if w[0] < end and w[1] > start))}
    buckets = _buckets(chain.from_iterable(series.latencies for series in shard.series.values()))
    return [
        _series_day(component, location, day, end, series.times, series.statuses, series.latencies,
                    maintenance.get(component, ()), buckets, hold_cap(component, intervals))
        for (component, location), series in sorted(shard.series.items())
    ]


def parse_daily(data: bytes, source: str, problems: list | None = None) -> dict[tuple[str, str, date], SeriesDay]:
    """Aggregates of one daily file: `parse_daily_lines` with problems appended to a plain list."""
    sink = ProblemSink(source, problems)
    aggregates = parse_daily_lines(data, sink)
    sink.close()
    return aggregates


def parse_daily_lines(data: bytes, sink: ProblemSink) -> dict[tuple[str, str, date], SeriesDay]:
    """Aggregates of one daily file by (component, location, day).

    Identical lines (a union merge of two branches that compacted the same day) collapse
    silently. Different lines for the same key can only come from compacting different raw
    data; the one with more checks wins, whatever the line order, and a warning says so.
    """
    lines, tail = split_lines(data)
    if tail.strip():
        lines.append(tail)
    kept: dict[tuple[str, str, date], tuple[SeriesDay, bytes, int]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = loads(line)
            if type(value) is not dict:
                raise ValueError("expected a JSON object")
            aggregate = SeriesDay.from_json(value)
        except ValueError as error:
            where = "incomplete last line (no newline); " if line is tail else ""
            sink.skip(number, f"{where}{error}; line skipped")
            continue
        earlier = kept.get(aggregate.key)
        if earlier is None:
            kept[aggregate.key] = (aggregate, line, number)
        elif earlier[1] != line:
            winner = max(earlier, (aggregate, line, number), key=lambda e: (e[0].checks + e[0].maintenance, e[1]))
            kept[aggregate.key] = winner
            sink.warn(
                number,
                f"two different aggregates for {aggregate.component!r} from {aggregate.location!r} on "
                f"{aggregate.day} (lines {earlier[2]} and {number}); kept line {winner[2]}",
            )
    return {key: entry[0] for key, entry in kept.items()}


def encode_daily(aggregates: Iterable[SeriesDay]) -> bytes:
    return b"".join(a.to_line() for a in sorted(aggregates, key=lambda a: (a.day, a.component, a.location)))
