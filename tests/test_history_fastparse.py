"""The fast way a cold build reads a closed raw shard (`codec.scan_raw_lines`, behind
`cache.compute`) gives exactly what the plain way gives: the records and problems of
`codec.parse_raw`, and the summary as it used to be worked out, record by record (kept below as
`reference_summary`). For well-formed shards and for every kind of broken line."""

from __future__ import annotations

import importlib.util
import json
import math
import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from generator.checks.result import DOWN, CheckResult, format_time
from generator.history import cache, codec
from generator.history.aggregate import (
    DEFAULT_HOLD_SECONDS,
    MAINTENANCE,
    SeriesDay,
    aggregate_day,
    in_windows,
    latency_bucket,
    windows_by_component,
)
from generator.history.cache import ShardSummary
from generator.history.codec import (
    DAY_SECONDS,
    day_start,
    encode_result,
    for_storage,
    parse_raw,
    parse_raw_shard,
    text_to_epoch,
)

REPO = Path(__file__).resolve().parent.parent
DAY = date(2025, 3, 10)
MIDNIGHT = datetime(2025, 3, 10, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


WINDOWS = windows_by_component({
    "api": [(at(10), at(12.5))],  # some of api's results, from both its locations
    "web": [(at(23.5), at(25))],  # web's last results: the day ends in maintenance
    "db": [(at(-1), at(25))],  # all of db's day
    "nobody": [(at(1), at(2))],
})


# --- the summary as it used to be worked out, one record at a time --------------------------


def reference_summary(records, day, windows, problems, with_latencies) -> ShardSummary:
    latest, latencies, locations = {}, {}, {}
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
        aggregates=reference_aggregates(records, day, windows),
        latest=latest,
        latencies=latencies if with_latencies else None,
        locations={component: tuple(sorted(found)) for component, found in locations.items()},
        problems=list(problems),
    )


def reference_aggregates(records, day, maintenance) -> list[SeriesDay]:
    series = {}
    for record in records:
        series.setdefault((record.component, record.location), []).append(record)
    return [reference_series_day(component, location, day, sorted(rows, key=lambda r: r.time),
                                 maintenance.get(component, ()))
            for (component, location), rows in sorted(series.items())]


def reference_series_day(component, location, day, records, windows) -> SeriesDay:
    end = day_start(day) + DAY_SECONDS
    times = [record.time for record in records]
    cap = DEFAULT_HOLD_SECONDS  # three of the default 5-minute check interval, whatever the spacing
    held = [min(next_time, time + cap, end) - time for time, next_time in zip(times, times[1:] + [math.inf])]
    maintenance = 0
    if windows:
        counted = [not in_windows(windows, time) for time in times]
        maintenance = counted.count(False)
        records = [record for record, keep in zip(records, counted) if keep]
        held = [hold for hold, keep in zip(held, counted) if keep]
    statuses = [record.status for record in records]
    latencies = [r.latency_ms for r in records if r.latency_ms is not None and r.status != DOWN]
    last = records[-1] if records else None
    return SeriesDay(
        component=component,
        location=location,
        day=day,
        checks=len(statuses),
        up=statuses.count("up"),
        degraded=statuses.count("degraded"),
        down=statuses.count(DOWN),
        maintenance=maintenance,
        covered_seconds=round(math.fsum(held), 3),
        downtime_seconds=round(math.fsum(h for h, status in zip(held, statuses) if status == DOWN), 3),
        latency_count=len(latencies),
        latency_sum=round(math.fsum(latencies), 3),
        latency_min=min(latencies, default=None),
        latency_max=max(latencies, default=None),
        histogram=tuple(sorted(Counter(map(latency_bucket, latencies)).items())),
        first_time=round(times[0], 3),
        last_time=round(times[-1], 3),
        last_status=last.status if last is not None and last.time == times[-1] else MAINTENANCE,
        hold_until=round(times[-1] + cap, 3),
    )


def assert_fast_equals_slow(tmp_path: Path, data: bytes, day: date = DAY, windows=None) -> list:
    """Every way of reading `data` agrees with the plain one; returns its problems."""
    path = tmp_path / "shard.jsonl"
    path.write_bytes(data)
    slow_problems: list = []
    records = parse_raw(data, str(path), slow_problems, day=day)
    fast_problems: list = []
    assert parse_raw_shard(data, str(path), fast_problems, day=day).records() == records
    assert fast_problems == slow_problems
    assert aggregate_day(records, day, windows or {}) == reference_aggregates(records, day, windows or {})
    for with_latencies in (True, False):
        expected = reference_summary(records, day, windows or {}, slow_problems, with_latencies)
        assert cache.compute(path, day, windows or {}, with_latencies) == expected
        assert cache.summarize_records(records, day, windows or {}, slow_problems, with_latencies) == expected
    return slow_problems


# --- shards ------------------------------------------------------------------------------------


def result(component, moment, status="up", latency=120.0, location="eu", reason="ok", message="HTTP 200", **details):
    return CheckResult(component, moment, status, reason, message, latency, location, details)


def line(*args, **kwargs) -> bytes:
    return encode_result(for_storage(result(*args, **kwargs)))


def well_formed_lines(seed: int = 1) -> list[bytes]:
    """A day of 5-minute checks as `heliograph check` writes them, in time order: api from two
    locations, web and db from one, one component named in more than ASCII; runs of degraded
    and down, latencies with decimals, whole (written as ints) and missing, details on some
    failures, a message that needs escapes."""
    rng = random.Random(seed)
    series = [("api", "eu"), ("api", "us-east"), ("web", "eu"), ("db", "us-east"), ("Zürich ✓", "eu"), ("dns", "")]
    timed = []
    for index, (component, location) in enumerate(series):
        state, left = "up", 0
        for run in range(288):
            if rng.random() < 0.01:
                continue  # a run that did not happen
            moment = MIDNIGHT + timedelta(minutes=5 * run, seconds=20 * index + rng.random() * 5)
            if left == 0:
                state, left = rng.choice([("up", 0)] * 30 + [("degraded", 4), ("down", 3)])
            left = max(left - 1, 0)
            latency = round(rng.lognormvariate(math.log(150), 0.3), 1)
            if rng.random() < 0.1:
                latency = float(round(latency))  # whole: written as an int
            if state == "up":
                entry = line(component, moment, latency=latency, location=location)
            elif state == "degraded":
                entry = line(component, moment, "degraded", latency * 6, location, "slow", "HTTP 200, slow")
            elif rng.random() < 0.5:
                entry = line(component, moment, "down", None, location, "timeout", "no answer within 10 s")
            elif rng.random() < 0.5:
                entry = line(component, moment, "down", latency, location, "status_503", "HTTP 503", status_code=503)
            else:
                entry = line(component, moment, "down", latency, location, "error", 'said "no" \\ twice')
            timed.append((moment, entry))
    return [entry for _, entry in sorted(timed)]


def generated_history(tmp_path: Path) -> Path:
    spec = importlib.util.spec_from_file_location("make_history", REPO / "benchmarks" / "make_history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    start = datetime(2025, 3, 9, tzinfo=timezone.utc)
    end = datetime(2025, 3, 12, tzinfo=timezone.utc)
    module.generate(tmp_path, ["api", "web", "db"], start=start, end=end, interval_s=300, seed=3, location="eu")
    module.generate(tmp_path, ["api", "db"], start=start, end=end, interval_s=600, seed=4, location="us")
    return tmp_path


# --- well-formed shards ------------------------------------------------------------------------


@pytest.mark.parametrize("windows", [None, WINDOWS], ids=["no-maintenance", "maintenance"])
def test_a_well_formed_shard_reads_the_same_fast(tmp_path, windows):
    lines = well_formed_lines()
    data = b"".join(lines)
    assert b'"ms":' in data and b"\\" in data and "Zürich".encode() in data and b'"d":' in data
    assert assert_fast_equals_slow(tmp_path, data, windows=windows) == []
    summary = cache.compute(tmp_path / "shard.jsonl", DAY, windows or {}, True)
    assert summary.locations == {"api": ("eu", "us-east"), "web": ("eu",), "db": ("us-east",), "Zürich ✓": ("eu",),
                                 "dns": ("",)}
    assert {a.last_status for a in summary.aggregates} >= ({MAINTENANCE} if windows else {"up"})


def test_lines_as_heliograph_writes_them_take_the_fast_way(monkeypatch):
    """Only lines with details (or broken ones) are read line by line: if `encode_result` ever
    writes lines differently, this says the fast way no longer applies, not just that it is slow."""
    read_one_by_one = []

    def decode_lines(numbered, *args):
        numbered = list(numbered)
        read_one_by_one.extend(line for _, line in numbered)
        return original(numbered, *args)

    original = codec._decode_lines
    monkeypatch.setattr(codec, "_decode_lines", decode_lines)
    lines = well_formed_lines()
    parse_raw_shard(b"".join(lines), "shard", day=DAY)
    assert read_one_by_one == [entry[:-1] for entry in lines if b'"d":' in entry or b"\\" in entry]
    assert 0 < len(read_one_by_one) < len(lines) / 20


def test_shards_as_the_benchmark_generator_writes_them_read_the_same_fast(tmp_path):
    history = generated_history(tmp_path / "history")
    for path in sorted((history / "raw").glob("*/*/*.jsonl")):
        day = date(int(path.parent.parent.name), int(path.parent.name), int(path.stem))
        assert assert_fast_equals_slow(tmp_path, path.read_bytes(), day, windows=WINDOWS) == []


def test_one_result_and_no_results(tmp_path):
    assert_fast_equals_slow(tmp_path, line("api", at(3)))
    assert_fast_equals_slow(tmp_path, line("api", at(3), "down", None, reason="timeout", message=""))
    assert assert_fast_equals_slow(tmp_path, b"") == []
    missing = cache.compute(tmp_path / "no such shard.jsonl", DAY, {}, True)
    assert missing == ShardSummary([], {}, {}, {}, [])


def test_gaps_about_as_long_as_a_result_holds(tmp_path):
    """Holds are gaps to the next result, except where a gap is about as long as the hold cap (3
    median intervals, here 15 minutes) or longer: around there every float counts."""
    moments = [at(0) + timedelta(minutes=5 * n) for n in range(10)]
    for gap in (899.999, 900, 900.001, 900.5, 901, 3600, 0.001, 300):
        moments += [moments[-1] + timedelta(seconds=gap)] + [moments[-1] + timedelta(seconds=gap + 300 * n) for n in (1, 2, 3)]
    moments.append(at(23.99))  # and one whose hold runs past midnight
    data = b"".join(line("api", moment) for moment in sorted(set(moments)))
    assert_fast_equals_slow(tmp_path, data)
    assert_fast_equals_slow(tmp_path, data, windows=WINDOWS)


def test_a_component_last_seen_from_two_places_at_once(tmp_path):
    """Its latest record is the one from the location that sorts last, as parse_raw orders them."""
    for locations in (("eu", "us-east"), ("us-east", "eu"), ("b", "a-long-name")):
        data = b"".join(line("api", at(hours), location=location) for hours in (1, 2, 3) for location in locations)
        assert_fast_equals_slow(tmp_path, data)
        assert cache.compute(tmp_path / "shard.jsonl", DAY, {}, True).latest["api"].location == max(locations)


def test_times_are_read_exactly_on_any_day(tmp_path):
    """The fast reading of a time (minute start + seconds) gives `text_to_epoch`'s float, to the
    bit, for any number of decimals and any day from 1970 to 9999."""
    rng = random.Random(7)
    for day in (date(1970, 1, 26), date(2000, 2, 29), date(2025, 3, 10), date(2038, 1, 19), date(2106, 2, 7),
                date(9999, 12, 31)):
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        texts = ["00:00:00", "23:59:59.999", "12:00:00.5", "00:00:59.000001"]
        for index, second in enumerate(rng.sample(range(1, 86399), 1050)):  # each second once
            digits = index % 7
            fraction = f".{rng.randrange(10 ** digits):0{digits}d}" if digits else ""
            texts.append((midnight + timedelta(seconds=second)).strftime("%H:%M:%S") + fraction)
        data = b"".join(b'{"v":1,"c":"c%d","t":"%sT%sZ","s":"up","r":"ok","loc":"x"}\n'
                        % (index % 5, day.isoformat().encode(), text.encode()) for index, text in enumerate(texts))
        shard = parse_raw_shard(data, "shard", day=day)
        assert shard._records is None  # read the fast way
        records = shard.records()
        assert len(records) == len(texts)
        assert [r.time for r in records] == [text_to_epoch(r.data["t"]) for r in records]
        assert_fast_equals_slow(tmp_path, data, day)
        # In the last microsecond of a far day a time rounds up to the next day's midnight,
        # which parse_raw reports as being on another day: so does the fast way.
        data += b'{"v":1,"c":"c","t":"%sT23:59:59.999999Z","s":"up","r":"ok","loc":"x"}\n' % day.isoformat().encode()
        assert len(assert_fast_equals_slow(tmp_path, data, day)) == (day.year > 2200)


def test_latencies_are_read_exactly(tmp_path):
    rng = random.Random(8)
    texts = ["0", "0.0", "0.1", "76", "999999999", "999999999.999999", "123.456789", "0.000001"]
    for _ in range(2000):
        digits = rng.randrange(7)
        texts.append(str(rng.randrange(10 ** rng.randrange(1, 10))) + (f".{rng.randrange(10 ** digits):0{digits}d}" if digits else ""))
    data = b"".join(b'{"v":1,"c":"api","t":"%s","s":"up","r":"ok","loc":"eu","ms":%s}\n'
                    % (format_time(at(index / 100)).encode(), text.encode()) for index, text in enumerate(texts))
    records = parse_raw_shard(data, "shard", day=DAY).records()
    assert [r.latency_ms for r in records] == [float(text) for text in texts]
    assert all(type(r.latency_ms) is float for r in records)
    assert_fast_equals_slow(tmp_path, data)


def test_without_orjson_the_fast_way_reads_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(codec, "loads", json.loads)
    data = b"".join(well_formed_lines(seed=2))
    assert_fast_equals_slow(tmp_path, data, windows=WINDOWS)
    assert_fast_equals_slow(tmp_path, broken_shard(well_formed_lines(seed=2)))


# --- broken shards -----------------------------------------------------------------------------


def broken_shard(lines: list[bytes]) -> bytes:
    """Every kind of line the fast way must leave to `parse_raw`'s own reading, with the problems
    it reports, amid good lines; numbered as they end up."""
    lines = list(lines)
    api = [index for index, entry in enumerate(lines) if entry.startswith(b'{"v":1,"c":"api"')]
    changed = lines[api[5]].replace(b'"s":"up"', b'"s":"down"').replace(b'"s":"degraded"', b'"s":"down"')
    edits = {
        2: b"<<<<<<< HEAD\n",  # not JSON
        4: b"\n",  # blank
        6: b"   \t\n",  # only spaces
        8: lines[api[3]],  # the same line twice: dropped quietly
        10: changed if changed != lines[api[5]] else changed.replace(b'"r":"', b'"r":"x'),  # differs: reported
        12: line("api", at(36), location="eu"),  # tomorrow
        14: line("web", at(-1)),  # yesterday
        16: b'{"v":1,"c":"api","t":"2025-03-10T01:02:03Z","s":"sideways","r":"ok","loc":"eu"}\n',
        18: b'{"v":2,"c":"api","t":"2025-03-10T01:02:04Z","s":"up","r":"ok","loc":"eu"}\n',
        20: b'{"v":1,"c":"","t":"2025-03-10T01:02:05Z","s":"up","r":"ok","loc":"eu"}\n',
        22: b'{"v":1,"c":"api","t":"2025-03-10T01:02:06Z","s":"up","r":"ok","loc":"eu","ms":-1}\n',
        24: b'{"v":1,"c":"api","t":"2025-03-10 01:02:07","s":"up","r":"ok","loc":"eu"}\n',  # no UTC offset
        26: b'{"v":1,"c":"api","t":"2025-03-10T24:00:00Z","s":"up","r":"ok","loc":"eu"}\n',
        28: b'{"v":1,"c":"api","t":"2025-03-10T01:02:08Z","s":"up","r":"ok","loc":"eu","ms":"fast"}\n',
        30: b'[1, 2, 3]\n',
        32: b'{"v":1,"c":"api","t":"2025-03-10T01:02:09Z","s":"up","r":7,"loc":"eu"}\n',
        # Valid, but not as `encode_result` writes them: read all the same.
        34: b'{"c":"api","v":1,"t":"2025-03-10T01:02:10Z","s":"up","r":"ok","loc":"eu","ms":12}\n',
        36: b'{"v":1, "c":"api", "t":"2025-03-10T01:02:11.1234567Z", "s":"up", "r":"ok", "loc":"eu"}\n',
        38: b'{"v":1,"c":"api","t":"2025-03-10T03:02:12+02:00","s":"up","r":"ok","loc":"eu","ms":1e2}\n',
        40: b'{"v":1,"c":"api","t":"2025-03-10T01:02:13Z","s":"up","r":"ok","loc":"eu","ms":1234567890.5}\n',
        42: b'{"v":1,"c":"api","t":"2025-03-10T01:02:14Z","s":"up","r":"ok","loc":"eu","ms":null}\r\n',
        44: b'{"v":1,"c":"api","t":"2025-03-10T01:02:15.000Z","s":"up","r":"ok","m":"\\u00e9","loc":"eu"}\n',
        46: b'{"v":1,"c":"api","t":"2025-03-10T01:02:16Z","s":"up","r":"ok","loc":"eu","ms":5,"ms":6}\n',
    }
    for index, entry in sorted(edits.items()):
        lines.insert(index, entry)  # at line index + 1
    return b"".join(lines) + lines[-1][:40]  # and a last line cut short


def test_a_broken_shard_reads_the_same_fast_and_every_problem_is_reported_as_before(tmp_path):
    data = broken_shard(well_formed_lines())
    problems = assert_fast_equals_slow(tmp_path, data, windows=WINDOWS)
    # As `parse_raw_lines` has always reported them (checked against it before the fast way).
    skipped = "; line skipped"
    bad_time = " (expected ISO 8601 UTC, like 2025-01-31T12:00:00Z)"
    assert [(p.line, p.message) for p in problems] == [
        (3, "not valid JSON" + skipped),
        (13, "result time 2025-03-11T12:00:00Z is not on this file's day 2025-03-10" + skipped),
        (15, "result time 2025-03-09T23:00:00Z is not on this file's day 2025-03-10" + skipped),
        (17, "\"s\" (status) must be one of up, degraded, down, not 'sideways'" + skipped),
        (19, "unsupported schema version 2 (this Heliograph reads v1)" + skipped),
        (21, "\"c\" (component) must be a non-empty string" + skipped),
        # Line 23, "ms":-1, is read as -1.0: parse_raw_lines lets a negative whole number by.
        (25, "bad time '2025-03-10 01:02:07'" + bad_time + skipped),
        (27, "bad time '2025-03-10T24:00:00Z'" + bad_time + skipped),
        (29, "\"ms\" (latency) must be a non-negative number, not 'fast'" + skipped),
        (31, "expected a JSON object" + skipped),
        (33, "\"r\" (reason) must be a string" + skipped),
        (data.count(b"\n") + 1, "incomplete last line (not valid JSON; no newline, so a write was probably interrupted); skipped"),
        (26, "result for 'api' at 2025-03-10T00:10:22.811Z from 'us-east' differs from line 11; kept line 26"),
    ]
    assert all(p.severity == "warning" for p in problems)


def test_a_file_of_many_bad_lines_gives_a_bounded_number_of_messages_either_way(tmp_path):
    lines = well_formed_lines()[:300]
    for index in range(0, 300, 10):
        lines[index] = b"<<<<<<< HEAD\n"
    problems = assert_fast_equals_slow(tmp_path, b"".join(lines))
    assert len(problems) == 21 and problems[-1].message == "10 more problem(s) in this file not shown"


@pytest.mark.parametrize("case", [
    "duplicate", "identical duplicate", "other day", "cut short", "whole last line", "blank line", "bad line",
    "not utf-8", "utf-8 bom", "the first line odd", "everything odd",
])
def test_each_kind_of_broken_line_alone(tmp_path, case):
    lines = well_formed_lines(seed=3)[:400]
    if case == "duplicate":
        lines.insert(200, lines[150].replace(b'"r":"', b'"r":"again '))
    elif case == "identical duplicate":
        lines.append(lines[0])
    elif case == "other day":
        lines.insert(100, line("web", at(-0.001)))
        lines.insert(300, line("web", at(24)))
    elif case == "cut short":
        lines[-1] = lines[-1][:-10]
    elif case == "whole last line":
        lines[-1] = lines[-1][:-1]
    elif case == "blank line":
        lines.insert(7, b"\n")
        lines.append(b"\n")
    elif case == "bad line":
        lines.insert(0, b"=======\n")
    elif case == "not utf-8":
        lines.insert(50, b'{"v":1,"c":"api","t":"2025-03-10T01:00:00Z","s":"up","r":"ok","loc":"eu","m":"\xff"}\n')
    elif case == "utf-8 bom":
        lines[0] = b"\xef\xbb\xbf" + lines[0]
    elif case == "the first line odd":
        lines[0] = line("api", at(0), "down", 10.0, reason="status_500", message="HTTP 500", status_code=500)
    elif case == "everything odd":
        lines = [entry.replace(b'"v":1,', b'"v":1, ') for entry in lines]
    problems = assert_fast_equals_slow(tmp_path, b"".join(lines), windows=WINDOWS)
    assert bool(problems) == (case not in ("identical duplicate", "whole last line", "blank line",
                                           "the first line odd", "everything odd"))


def test_a_line_of_a_day_the_fast_way_does_not_take_is_still_read(tmp_path):
    """Days before 1970-01-25 go the plain way (see codec._EXACT_FROM)."""
    day = date(1970, 1, 2)
    data = b'{"v":1,"c":"api","t":"1970-01-02T00:00:01.5Z","s":"up","r":"ok","loc":"eu","ms":3}\n'
    assert_fast_equals_slow(tmp_path, data, day)
