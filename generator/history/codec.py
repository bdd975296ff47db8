"""Raw history lines: writing them compactly and reading them back fast and forgivingly.

A raw line is exactly ``CheckResult.to_json()`` (schema ``"v": 1``, owned by
`generator.checks.result`), after `for_storage` has trimmed noise that costs bytes in git
forever and carries no information a status page can show.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import operator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any, Iterator, NamedTuple

from generator.checks.result import SCHEMA_VERSION, STATUSES, CheckResult, format_time
from generator.problems import Problem

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
_IDENTITY = operator.itemgetter(0, 1, 2)  # (time, component, location) of a Record
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
    moment = moment.astimezone(timezone.utc)
    moment = moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)
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


@contextmanager
def gc_paused() -> Iterator[None]:
    """For bulk loading: millions of small objects and no reference cycles, which the cyclic
    collector would only walk over and over (a third of summarize's time, measured)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    first, last = (-math.inf, math.inf) if day is None else (day_start(day), day_start(day) + DAY_SECONDS)
    records: list[Record] = []
    append = records.append
    # This loop is the hot path of every page build: locals, no helper calls, and just
    # enough checks to be safe. Anything odd goes the slow way, which can say what is wrong.
    loads_, fromisoformat, new, statuses, version = loads, datetime.fromisoformat, tuple.__new__, _STATUSES, SCHEMA_VERSION
    for number, line in enumerate(lines, 1):
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
    records.sort(key=_IDENTITY)
    return _without_duplicates(records, sink)


def _without_duplicates(records: list[Record], sink: ProblemSink) -> list[Record]:
    """One record per (time, component, location) from a sorted list.

    Identical copies (a union merge keeps both branches' copies of a line) go quietly. Copies
    that differ keep the one whose canonical JSON sorts last: arbitrary, but independent of
    line order, which after a union merge says nothing about which came first.
    """
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
