"""Raw history lines: writing them compactly and reading them back fast and forgivingly.

A raw line is exactly ``CheckResult.to_json()`` (schema ``"v": 1``, owned by
`generator.checks.result`), after `for_storage` has trimmed noise that costs bytes in git
forever and carries no information a status page can show.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import re
from datetime import date, datetime, timezone
from itertools import compress, count, repeat
from typing import Any, Callable, Iterable, NamedTuple, Sequence

from generator.checks.result import SCHEMA_VERSION, STATUSES, CheckResult, format_time, to_the_millisecond
from generator.site.problems import Problem

try:
    import orjson
except ImportError:  # pragma: no cover - exercised only where orjson is missing
    orjson = None

if orjson is not None:
    loads = orjson.loads

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

else:  # pragma: no cover
    import json

    loads = json.loads

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


DAY_SECONDS = 86400
_STATUSES = frozenset(STATUSES)
_TIME = operator.itemgetter(0)  # of a Record
_IDENTITY = operator.itemgetter(0, 1, 2)  # (time, component, location) of a Record
_IDENTITY_LINE = operator.itemgetter(0, 1, 2, 6)  # and its line
# A file with thousands of bad lines (say, a bad merge) should not bury every other message.
MAX_PROBLEMS_PER_FILE = 20


class Record(NamedTuple):
    """One raw result, decoded just enough to aggregate; `data` becomes a CheckResult on demand."""

    time: float  # seconds since the epoch
    component: str
    location: str
    status: str
    latency_ms: float | None
    data: dict
    line: int = 0  # where in its file, for messages

    def to_result(self) -> CheckResult:
        return CheckResult.from_json(self.data)


def for_storage(result: CheckResult) -> CheckResult:
    """The result as history keeps it: time in UTC to the millisecond, latency to 0.1 ms, and
    details (status code, timing phases, certificate dates) only for results that are not up.

    Finer digits are noise that would cost bytes in git forever and that no page can show. An up
    result's details would nearly double every line (about 200 bytes instead of 110) and take a
    year of 5-minute checks for 20 components past 200 MB of repository; where a check failed or
    was slow they explain why, so they are kept there.
    """
    moment = result.time
    if moment.tzinfo is None:
        raise ValueError(f"check result for {result.component!r} has a naive time; history needs UTC-aware times")
    moment = to_the_millisecond(moment.astimezone(timezone.utc))
    latency = result.latency_ms
    if latency is not None:
        latency = round(float(latency), 1)
        if latency.is_integer():
            latency = int(latency)  # written as "123" rather than "123.0"; read back as a float
    details = result.details if result.status != "up" else {}
    return dataclasses.replace(result, time=moment, latency_ms=latency, details=details)


def encode_result(result: CheckResult) -> bytes:
    """The raw line for a result that has already been through `for_storage`."""
    return dumps(result.to_json()) + b"\n"


def day_start(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def epoch_to_text(seconds: float) -> str:
    return format_time(datetime.fromtimestamp(seconds, timezone.utc))


def text_to_epoch(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time has no UTC offset")
    return moment.timestamp()


class ProblemSink:
    """Problems found in one file: at most `MAX_PROBLEMS_PER_FILE` of them plus a count of the rest,
    and how many lines had to be skipped (compaction leaves such a file alone)."""

    def __init__(self, source: str, problems: list | None):
        self.source = source
        self.problems = problems
        self.skipped_lines = 0
        self.shown = 0
        self.hidden = 0

    def skip(self, line: int, message: str) -> None:
        """A line that could not be used at all."""
        self.skipped_lines += 1
        self.warn(line, message)

    def warn(self, line: int | None, message: str) -> None:
        if self.problems is None:
            return
        if self.shown >= MAX_PROBLEMS_PER_FILE:
            self.hidden += 1
            return
        self.shown += 1
        self.problems.append(Problem(self.source, line, None, message, "warning"))

    def close(self) -> None:
        if self.hidden and self.problems is not None:
            self.problems.append(Problem(self.source, None, None, f"{self.hidden} more problem(s) in this file not shown", "warning"))
            self.hidden = 0


def split_lines(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete lines, and whatever follows the last newline (b"" for a well-formed file)."""
    lines = data.split(b"\n")
    return lines, lines.pop()


def decode_raw_line(line: bytes) -> Record:
    """One raw line to a Record; ValueError says, for a person, what is wrong with it."""
    try:
        data = loads(line)
    except ValueError:
        raise ValueError("not valid JSON") from None
    if type(data) is not dict:
        raise ValueError("expected a JSON object")
    version = data.get("v")
    if version != SCHEMA_VERSION:
        raise ValueError(f"unsupported schema version {version!r} (this Heliograph reads v{SCHEMA_VERSION})")
    try:
        component, text, status = data["c"], data["t"], data["s"]
    except KeyError as missing:
        raise ValueError(f"missing field {missing}") from None
    if type(component) is not str or not component:
        raise ValueError('"c" (component) must be a non-empty string')
    if status not in STATUSES:
        raise ValueError(f'"s" (status) must be one of {", ".join(STATUSES)}, not {status!r}')
    if type(data.get("r", "")) is not str:
        raise ValueError('"r" (reason) must be a string')
    location = data.get("loc", "")
    if type(location) is not str:
        raise ValueError('"loc" (location) must be a string')
    latency = data.get("ms")
    if latency is not None:
        if type(latency) not in (int, float) or not math.isfinite(latency) or latency < 0:
            raise ValueError(f'"ms" (latency) must be a non-negative number, not {latency!r}')
        latency = float(latency)
    if type(text) is not str:
        raise ValueError('"t" (time) must be a string')
    try:
        seconds = text_to_epoch(text)
    except ValueError:
        raise ValueError(f"bad time {text!r} (expected ISO 8601 UTC, like 2025-01-31T12:00:00Z)") from None
    return Record(seconds, component, location, status, latency, data)


def parse_raw(data: bytes, source: str, problems: list | None = None, *, day: date | None = None) -> list[Record]:
    """Records of one raw shard: `parse_raw_lines` with problems appended to a plain list."""
    sink = ProblemSink(source, problems)
    records = parse_raw_lines(data, sink, day=day)
    sink.close()
    return records


def parse_raw_lines(data: bytes, sink: ProblemSink, *, day: date | None = None) -> list[Record]:
    """Records of one raw shard, sorted by (time, component, location) and de-duplicated.

    Bad lines are reported by file and line number and skipped. An unterminated last line is
    almost always a write cut short, so it is reported like any other bad line unless it is a
    complete, valid record (a hand edit that lost its final newline). With `day`, lines whose
    time falls on another day are reported and skipped: every reader relies on a shard holding
    exactly its own day.
    """
    lines, tail = split_lines(data)
    if tail:
        lines.append(tail)
    records = _decode_lines(enumerate(lines, 1), tail, day, sink)
    records.sort(key=_IDENTITY)
    return _without_duplicates(records, sink)


def _decode_lines(numbered: Iterable[tuple[int, bytes]], tail: bytes, day: date | None, sink: ProblemSink) -> list[Record]:
    """Records of (line number, raw line) pairs, in their order, after telling `sink` about
    every line that gives none (a blank line is skipped silently); `tail` is the unterminated
    last line, if that is among them. Every raw line a reader cannot take as plainly well
    formed comes here, so what is wrong with a line is worked out and said in one place.
    """
    first, last = (-math.inf, math.inf) if day is None else (day_start(day), day_start(day) + DAY_SECONDS)
    records: list[Record] = []
    append = records.append
    # This loop is the hot path of every page build: locals, no helper calls, and just
    # enough checks to be safe. Anything odd goes the slow way, which can say what is wrong.
    loads_, fromisoformat, new, statuses, version = loads, datetime.fromisoformat, tuple.__new__, _STATUSES, SCHEMA_VERSION
    for number, line in numbered:
        try:
            data = loads_(line)
            status = data["s"]
            component = data["c"]
            location = data.get("loc", "")
            latency = data.get("ms")
            moment = fromisoformat(data["t"])
            if (
                data["v"] != version
                or status not in statuses
                or type(component) is not str
                or not component
                or type(location) is not str
                or moment.tzinfo is None
                or type(data.get("r", "")) is not str
            ):
                raise ValueError
            if latency is not None:
                if type(latency) is int:
                    latency = float(latency)
                elif type(latency) is not float or not 0 <= latency < math.inf:
                    raise ValueError
            record = new(Record, (moment.timestamp(), component, location, status, latency, data, number))
        except Exception:
            if not line.strip():
                continue
            try:
                record = decode_raw_line(line)._replace(line=number)
            except ValueError as error:
                if line is tail:
                    sink.skip(number, f"incomplete last line ({error}; no newline, so a write was probably interrupted); skipped")
                else:
                    sink.skip(number, f"{error}; line skipped")
                continue
        if not first <= record.time < last:
            sink.skip(number, f"result time {record.data['t']} is not on this file's day {day}; line skipped")
            continue
        append(record)
    return records


class Series(NamedTuple):
    """One series' (component x location) results in time order, a list per field: what
    aggregating a day needs, without a Record and its decoded dict for every result."""

    times: list[float]
    statuses: list[str]
    latencies: list[float | None]
    rows: list[int]  # where each result came from, for `Shard.records_at`


class Shard:
    """One day's records grouped by series: {(component, location): Series}.

    `scan_raw_lines` reads a shard into one of these several times faster than
    `parse_raw_lines` reads it into Records, and it holds the same records; `records_at`
    builds the Records of a few of them.
    """

    __slots__ = ("_data", "_newlines", "_records", "series")

    def __init__(self, series: dict[tuple[str, str], Series], *, records: Sequence[Record] | None = None,
                 data: bytes = b"", newlines: int = 0):
        self.series = series
        # Series.rows index `records` when it is given, else the lines of `data` (which has
        # `newlines` of them), from 0.
        self._records = records
        self._data = data
        self._newlines = newlines

    @classmethod
    def from_records(cls, records: Iterable[Record]) -> Shard:
        """Records of one day in any order; a series whose records share a time keeps them in
        the order given."""
        records = list(records)
        places: dict[tuple[str, str], list[int]] = {}
        for place, record in enumerate(records):
            key = (record.component, record.location)
            try:
                places[key].append(place)
            except KeyError:
                places[key] = [place]
        series = {}
        for key, rows in places.items():
            times, _, _, statuses, latencies, _, _ = zip(*map(records.__getitem__, rows))
            series[key] = in_time_order(list(times), list(statuses), list(latencies), rows)
        return cls(series, records=records)

    def keeping(self, series: dict[tuple[str, str], Series]) -> Shard:
        """This shard with only `series`: some of its own, or their first results; `records_at`
        still finds their lines."""
        return Shard(series, records=self._records, data=self._data, newlines=self._newlines)

    def records_at(self, places: Iterable[tuple[tuple[str, str], int]]) -> list[Record]:
        """The Records of results given as (series key, index in that Series)."""
        places = list(places)
        rows = [self.series[key].rows[index] for key, index in places]
        if self._records is not None:
            return [self._records[row] for row in rows]
        # Only the lines from the first one wanted on, which for the last records of a day
        # (what a summary wants) are a few at the end: splitting all would cost more than them.
        lowest = min(rows, default=0)
        lines = self._data.rsplit(b"\n", self._newlines + 1 - max(lowest, 1))
        skipped = max(lowest - 1, 0)  # lines joined into lines[0], when lowest > 1
        return [
            Record(series.times[index], key[0], key[1], series.statuses[index], series.latencies[index],
                   loads(lines[row - skipped]), row + 1)
            for (key, index), row, series in zip(places, rows, (self.series[key] for key, _ in places))
        ]

    def records(self) -> list[Record]:
        """Every record, sorted by (time, component, location) as `parse_raw_lines` sorts them,
        and records that share those by line."""
        found = self.records_at((key, index) for key, series in self.series.items() for index in range(len(series.rows)))
        return sorted(found, key=_IDENTITY_LINE)


def in_time_order(times: list[float], statuses: list[str], latencies: list[float | None], rows: list[int]) -> Series:
    """The Series, sorted by time (stably) unless it already is."""
    if not all(map(operator.le, times, times[1:])):
        order = sorted(range(len(times)), key=times.__getitem__)
        times, statuses, latencies, rows = ([column[i] for i in order] for column in (times, statuses, latencies, rows))
    return Series(times, statuses, latencies, rows)


def parse_raw_shard(data: bytes, source: str, problems: list | None = None, *, day: date) -> Shard:
    """`parse_raw` as a Shard: `scan_raw_lines` with problems appended to a plain list."""
    sink = ProblemSink(source, problems)
    shard = scan_raw_lines(data, sink, day=day)
    sink.close()
    return shard


# A raw line exactly as `encode_result` writes it for `day` when it has no details: a match is
# a valid JSON object (in a file of valid UTF-8) that `_decode_lines` would read to a Record
# with these values. Groups: component, "HH:MM", "SS[.ffffff]", the status's last letter (one
# byte: Python makes no new object for it), location, latency (None if there is none); and for
# any other line, which `_decode_lines` reads instead, the whole line. (Optional parts are
# written "(?:...|)", which the regular expression engine runs faster than "(?:...)?".)
_CANONICAL_LINE = (
    r'\{{"v":{version},"c":"({text}++)","t":"{day}T((?:[01][0-9]|2[0-3]):[0-5][0-9]):([0-5][0-9](?:\.[0-9]{{1,6}}|))Z",'
    r'"s":"(?:{statuses})(?<=(.))","r":"{text}*+","loc":"({text}*+)"(?:,"m":"{text}*+"|)'
    # At most 15 significant digits, which every decimal parser rounds alike.
    r'(?:,"ms":((?:0|[1-9][0-9]{{0,8}})(?:\.[0-9]{{1,6}}|))|)\}}\n'
    r'|([^\n]*+)\n'
)
# A byte that stands for itself in a JSON string (of valid UTF-8): not '"', "\" or a control
# character. As ranges, which the engine checks faster than a negated set.
_JSON_TEXT = r'[ !#-\[\]-\xff]'
_GROUPS = 7
_STATUS_BY_LAST_LETTER = {status[-1:].encode(): status for status in STATUSES}
assert len(_STATUS_BY_LAST_LETTER) == len(STATUSES)

# A time "...THH:MM:SS.ffffff" is read as (M - 100) + float("1SS.ffffff"), M its minute's start
# in epoch seconds, and that is exactly `text_to_epoch`'s float (M + SS.ffffff, rounded once)
# when 2**21 <= M < 2**46. The float of "1SS.ffffff" (under 256) is within 2**-46 of the
# decimal. M + SS.ffffff, a whole number of microseconds, is further than that from any point
# halfway between two floats of its size, which are odd multiples of 2**-32 or of a coarser
# power of two: |j / 10**6 - k / 2**q| >= 2**6 / (10**6 * 2**q) > 2**-46 for 6 < q <= 32. So
# the sum rounds to the same float. Tests check it against `text_to_epoch` too.
_EXACT_FROM = 2**21  # 1970-01-25T06:32:32Z; the year 9999 is under 2**38


@functools.lru_cache(maxsize=8)
def _canonical_lines(day: date) -> re.Pattern:
    return re.compile(_CANONICAL_LINE.format(
        version=SCHEMA_VERSION, text=_JSON_TEXT, day=day.isoformat(), statuses="|".join(STATUSES)).encode())


def _minute_bases(day: date) -> dict[bytes, float]:
    """b"HH:MM" -> that minute's start in epoch seconds, less 100 (see _EXACT_FROM). (Not kept
    between days: holding on to objects made amid one day's slows every later day.)"""
    base = day_start(day) - 100
    return {f"{hour:02d}:{minute:02d}".encode(): base + 3600 * hour + 60 * minute
            for hour in range(24) for minute in range(60)}


def _numbers(texts: Sequence[bytes | None], prefix: bytes = b"") -> list[float | None]:
    """[float(prefix + text) ...] of texts that are JSON numbers, and None for None, in one call
    to `loads`: float() on each takes several times as long. Each gets "e0" so that JSON reads
    it as a float: "76e0" is 76.0."""
    missing = [] if all(texts) else list(compress(count(), map(operator.not_, texts)))
    if missing:
        texts = list(texts)
        for index in missing:
            texts[index] = b"0"
    numbers = loads(b"[" + prefix + (b"e0," + prefix).join(texts) + b"e0]")
    for index in missing:
        numbers[index] = None
    return numbers


def _picker(rows: list[int]) -> Callable[[Sequence], tuple]:
    """column -> tuple(column[row] for row in rows), in one call into C."""
    if len(rows) == 1:
        row = rows[0]
        return lambda column: (column[row],)  # operator.itemgetter would give the item bare
    return operator.itemgetter(*rows)


def scan_raw_lines(data: bytes, sink: ProblemSink, *, day: date) -> Shard:
    """What `parse_raw_lines` gives, as a Shard: the same records and the same problems, in a
    third of the time or less for lines as `encode_result` writes them.

    Hot: one regular expression over the whole file picks out such lines' fields, then each
    field is converted a column at a time by C built-ins (itemgetter, map, one `loads` for a
    column of numbers); the only loop in Python over every line is the one that groups them by
    component. Any other line (with details, hand-edited, broken, of another day) is read by
    `_decode_lines`, as every line is in `parse_raw_lines`.
    """
    if not _is_utf8(data) or day_start(day) < _EXACT_FROM:
        return Shard.from_records(parse_raw_lines(data, sink, day=day))
    # b"", then for each line its groups and the b"" between it and the next line; then
    # whatever follows the last newline.
    pieces = _canonical_lines(day).split(data)
    tail = pieces.pop()
    components, minutes, seconds, status_letters, locations, latencies, other_lines = (
        pieces[group::_GROUPS + 1] for group in range(1, _GROUPS + 1))
    del pieces
    newlines = len(components)
    rows_of: dict[bytes | None, list[int]] = {}  # component -> indexes of its lines; None: other lines
    for row, component in enumerate(components):
        try:
            rows_of[component].append(row)
        except KeyError:
            rows_of[component] = [row]
    other_rows = rows_of.pop(None, [])
    one_location = not rows_of or (
        locations.count(locations[next(iter(rows_of.values()))[0]]) + len(other_rows) == newlines)
    minute_bases = _minute_bases(day)
    end = day_start(day) + DAY_SECONDS
    columns: dict[tuple[str, str], tuple[list, list, list, list]] = {}  # as in Series
    for component, rows in rows_of.items():
        pick = _picker(rows)
        times = list(map(operator.add, map(minute_bases.__getitem__, pick(minutes)), _numbers(pick(seconds), b"1")))
        if max(times) >= end:
            # A time in the last microseconds of a day far in the future can round up to the
            # next day: rare enough to leave to parse_raw_lines, which says so.
            return Shard.from_records(parse_raw_lines(data, sink, day=day))
        found = (times, list(map(_STATUS_BY_LAST_LETTER.__getitem__, pick(status_letters))),
                 _numbers(pick(latencies)), rows)
        series_locations = None if one_location else pick(locations)
        if one_location or series_locations.count(series_locations[0]) == len(rows):
            columns[(component.decode(), locations[rows[0]].decode())] = found
            continue
        for location in dict.fromkeys(series_locations):
            keep = list(map(operator.eq, series_locations, repeat(location)))
            columns[(component.decode(), location.decode())] = tuple(list(compress(column, keep)) for column in found)

    numbered = [(row + 1, other_lines[row]) for row in other_rows]
    if tail:
        numbered.append((newlines + 1, tail))
    for record in _decode_lines(numbered, tail, day, sink):
        found = columns.setdefault((record.component, record.location), ([], [], [], []))
        for column, value in zip(found, (record.time, record.status, record.latency_ms, record.line - 1)):
            column.append(value)

    series = {}
    for key, (times, statuses, values, rows) in columns.items():
        if not all(map(operator.lt, times, times[1:])):  # in time order, and no two at the same time
            order = sorted(range(len(times)), key=times.__getitem__)
            times, statuses, values, rows = ([column[i] for i in order] for column in (times, statuses, values, rows))
            if not all(map(operator.lt, times, times[1:])):
                # Duplicates: rare, so `_without_duplicates` sorts them out on Records, as ever.
                everything = Shard({key: Series(*found) for key, found in columns.items()}, data=data, newlines=newlines)
                return Shard.from_records(_without_duplicates(everything.records(), sink))
        series[key] = Series(times, statuses, values, rows)
    return Shard(series, data=data, newlines=newlines)


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _without_duplicates(records: list[Record], sink: ProblemSink) -> list[Record]:
    """One record per (time, component, location) from a sorted list.

    Identical copies (a union merge keeps both branches' copies of a line) go quietly. Copies
    that differ keep the one whose canonical JSON sorts last: arbitrary, but independent of
    line order, which after a union merge says nothing about which came first.
    """
    times = list(map(_TIME, records))
    if not any(map(operator.eq, times, times[1:])):  # the common case, in C: no two at the same time
        return records
    duplicates = [
        index for index in range(1, len(records))
        if records[index][0] == records[index - 1][0] and _IDENTITY(records[index]) == _IDENTITY(records[index - 1])
    ]
    if not duplicates:
        return records
    kept: list[Record] = []
    for record in records:
        if kept and _IDENTITY(kept[-1]) == _IDENTITY(record):
            earlier = kept[-1]
            if earlier.data == record.data:
                continue
            winner = max(earlier, record, key=lambda r: dumps(r.data))
            kept[-1] = winner
            sink.warn(
                record.line,
                f"result for {record.component!r} at {record.data['t']} from {record.location!r} "
                f"differs from line {earlier.line}; kept line {winner.line}",
            )
        else:
            kept.append(record)
    return kept
