"""Uptime, day bars and latency from history: small hand-built cases with known answers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from generator.checks.result import CheckResult
from generator.history import append_results, summarize
from generator.history.aggregate import bucket_value, histogram_quantile, latency_bucket

DAY = datetime(2025, 3, 10, tzinfo=timezone.utc)
NOON = DAY + timedelta(hours=12)


def at(minutes: float, day: datetime = DAY) -> datetime:
    return day + timedelta(minutes=minutes)


def result(time, status="up", component="api", latency=100.0, location="ci"):
    reason = {"up": "ok", "degraded": "slow", "down": "timeout"}[status]
    return CheckResult(component, time, status, reason, "", latency, location, {})


def history_of(tmp_path, results, *, now=NOON, mode="results", days=3, maintenance=None, component="api"):
    append_results(tmp_path, results)
    problems = []
    histories = summarize(tmp_path, [component], now=now, days=days, mode=mode, maintenance=maintenance or {}, problems=problems)
    assert problems == []
    return histories[component]


def day_of(history, day: date):
    return next(d for d in history.days if d.day == day)


def test_results_mode_counts_degraded_as_up_and_reports_it(tmp_path):
    history = history_of(tmp_path, [result(at(0)), result(at(5), "degraded"), result(at(10), "down"), result(at(15))])
    today = history.days[-1]
    assert (today.checks, today.up, today.degraded, today.down) == (4, 2, 1, 1)
    assert today.uptime == 0.75
    assert history.uptime["24h"] == history.uptime["7d"] == history.uptime["90d"] == 0.75


def test_duration_mode_holds_each_result_until_the_next(tmp_path):
    results = [result(at(0)), result(at(5), "degraded"), result(at(10), "down"), result(at(15))]
    history = history_of(tmp_path, results, mode="duration")
    today = history.days[-1]
    # 5 + 5 + 5 minutes, then the last result holds for 3 median intervals: 30 minutes covered.
    assert today.downtime_seconds == 300
    assert today.uptime == pytest.approx(1 - 300 / 1800)
    assert history.uptime["24h"] == pytest.approx(1 - 300 / 1800)
    assert history.uptime["7d"] == pytest.approx(1 - 300 / 1800)


def test_a_gap_in_the_data_is_no_data_not_up_or_down(tmp_path):
    results = [result(at(0)), result(at(5), "down"), result(at(10)), result(at(360))]
    today = history_of(tmp_path, results, mode="duration").days[-1]
    # The up result at 00:10 holds 15 minutes (3 x the 5-minute median), not the 6-hour gap.
    assert today.uptime == pytest.approx(1 - 300 / (300 + 300 + 900 + 900))


def test_downtime_across_midnight_is_counted_on_both_days(tmp_path):
    yesterday = DAY - timedelta(days=1)
    results = [result(at(23 * 60 + 50, yesterday), "down"), result(at(23 * 60 + 55, yesterday), "down"),
               result(at(5), "down"), result(at(10))]
    history = history_of(tmp_path, results, mode="duration")
    before, today = history.days[-2], history.days[-1]
    assert before.downtime_seconds == 600  # 23:50 to midnight
    assert today.downtime_seconds == 600  # midnight (23:55 still holds) to 00:10
    assert today.uptime == pytest.approx(1 - 600 / (600 + 900))


def test_todays_last_result_holds_until_now_not_into_the_future(tmp_path):
    now = at(30)
    history = history_of(tmp_path, [result(at(20)), result(at(25)), result(at(29), "down")], now=now, mode="duration")
    assert history.days[-1].downtime_seconds == 60
    assert history.uptime["24h"] == pytest.approx(1 - 60 / 600)


def test_results_after_now_are_ignored(tmp_path):
    history = history_of(tmp_path, [result(at(0)), result(at(5), "down")], now=at(3))
    assert history.days[-1].checks == 1 and history.latest.time == at(0)


def test_days_without_data_are_none_not_perfect(tmp_path):
    history = history_of(tmp_path, [result(at(0))], days=90)
    assert len(history.days) == 90
    assert history.days[0].day == DAY.date() - timedelta(days=89) and history.days[-1].day == DAY.date()
    empty = history.days[-2]
    assert (empty.checks, empty.uptime, empty.latency_p50) == (0, None, None)
    assert history.days[-1].uptime == 1.0


def test_a_component_with_no_history_at_all(tmp_path):
    append_results(tmp_path, [result(at(0), component="web")])
    history = summarize(tmp_path, ["api"], now=NOON, days=7)["api"]
    assert history.latest is None and history.last_checked is None and history.locations == ()
    assert history.uptime == {"24h": None, "7d": None, "30d": None, "90d": None}
    assert [d.uptime for d in history.days] == [None] * 7
    assert history.latency_series == []


def test_windows_cover_their_own_days(tmp_path):
    old = DAY - timedelta(days=20)
    results = [result(at(0, old), "down"), result(at(5, old), "down"), result(at(0)), result(at(5))]
    history = history_of(tmp_path, results, days=30)
    assert history.uptime["24h"] == history.uptime["7d"] == 1.0
    assert history.uptime["30d"] == history.uptime["90d"] == 0.5
    assert day_of(history, old.date()).uptime == 0.0


def test_maintenance_is_neither_up_nor_down(tmp_path):
    results = [result(at(0)), result(at(5), "down"), result(at(10), "down"), result(at(15))]
    window = {"api": [(at(4), at(12))]}
    history = history_of(tmp_path, results, maintenance=window)
    today = history.days[-1]
    assert (today.checks, today.down, today.maintenance, today.uptime) == (2, 0, 2, 1.0)
    assert history.uptime["24h"] == 1.0
    duration = summarize(tmp_path, ["api"], now=NOON, days=3, mode="duration", maintenance=window)["api"]
    assert duration.days[-1].downtime_seconds == 0 and duration.days[-1].uptime == 1.0
    assert duration.uptime["24h"] == 1.0
    # Another component's maintenance changes nothing here.
    other = summarize(tmp_path, ["api"], now=NOON, days=3, maintenance={"web": window["api"]})["api"]
    assert other.days[-1].uptime == 0.5


def test_a_day_spent_entirely_in_maintenance_has_no_uptime_but_says_why(tmp_path):
    history = history_of(tmp_path, [result(at(0), "down"), result(at(5), "down")],
                         maintenance={"api": [(DAY, DAY + timedelta(days=1))]})
    today = history.days[-1]
    assert (today.checks, today.maintenance, today.uptime) == (0, 2, None)
    assert history.uptime["24h"] is None and history.uptime["7d"] is None
    assert history.latest.status == "down"  # the latest result is still the latest


def test_locations_are_independent_observers(tmp_path):
    times = [at(m) for m in (0, 5, 10, 15)]
    results = [result(t, location="eu") for t in times] + [
        result(t, "down" if i == 1 else "up", location="us") for i, t in enumerate(times)]
    history = history_of(tmp_path, results)
    assert history.days[-1].uptime == 7 / 8
    assert history.locations == ("eu", "us")
    assert history.latest.location == "us" and history.last_checked == at(15)
    duration = summarize(tmp_path, ["api"], now=NOON, days=3, mode="duration")["api"]
    assert duration.days[-1].downtime_seconds == 150  # 300 s at one of two locations
    assert duration.days[-1].uptime == pytest.approx(1 - 300 / 3600)


def test_latency_percentiles_are_within_one_percent_and_skip_failures(tmp_path):
    results = [result(at(m), latency=100.0 + m) for m in range(100)]
    results.append(result(at(100), "down", latency=10_000.0))  # a timeout says nothing about speed
    today = history_of(tmp_path, results, now=at(200)).days[-1]
    assert today.latency_p50 == pytest.approx(149.0, rel=0.01)
    assert today.latency_p95 == pytest.approx(194.0, rel=0.01)
    assert today.latency_max == 199.0
    assert today.latency_mean == 149.5


def test_a_constant_latency_reads_exactly(tmp_path):
    today = history_of(tmp_path, [result(at(m), latency=120.0) for m in range(0, 60, 5)]).days[-1]
    assert today.latency_p50 == today.latency_p95 == today.latency_max == 120.0


def test_histogram_buckets_are_one_percent_accurate():
    for value in (0.1, 1.0, 37.3, 120.0, 999.9, 30_000.0):
        assert bucket_value(latency_bucket(value)) == pytest.approx(value, rel=0.0101)
    assert histogram_quantile({}, 0.5, None, None) is None


def test_latency_series_is_hourly_medians_of_the_last_week(tmp_path):
    old = DAY - timedelta(days=8)
    results = [result(at(m), latency=float(m)) for m in (1, 2, 30)]  # hour 00: median 2
    results += [result(at(61), latency=500.0), result(at(62), "down", latency=9000.0)]  # hour 01: the failure is left out
    results += [result(at(0, old), latency=1.0)]  # older than a week
    history = history_of(tmp_path, results)
    assert history.latency_series == [(DAY, 2.0), (DAY + timedelta(hours=1), 500.0)]


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        summarize(tmp_path, ["api"], now=NOON, mode="vibes")
    with pytest.raises(ValueError, match="timezone"):
        summarize(tmp_path, ["api"], now=datetime(2025, 3, 10))


def test_a_component_that_stopped_reporting_still_shows_its_last_result(tmp_path):
    stale = DAY - timedelta(days=20)
    history = history_of(tmp_path, [result(at(0, stale), "down"), result(at(5, stale))], days=30)
    assert history.latest.time == at(5, stale) and history.last_checked == at(5, stale)
    assert history.uptime["24h"] is None and history.uptime["7d"] is None and history.uptime["30d"] == 0.5


@pytest.mark.parametrize("seed", range(20))
def test_the_rolling_24_hours_a_column_at_a_time_equal_the_loop(seed):
    """Without maintenance, `_rolling_uptime` adds results up a column at a time; a window that
    touches the two days but holds no result sends the same results through the loop instead.
    Both must give the same figures, to the last bit."""
    import random

    from generator.history.rollup import _rolling_uptime

    rng = random.Random(seed)
    end = 1_795_000_000.0
    start = end - 86_400
    series = {}
    for location in ("ci", "eu")[: rng.randint(1, 2)]:
        time, rows = start - 86_400 - rng.uniform(0, 900), []
        while time < end:
            rows.append((time, rng.choice(["up", "up", "up", "degraded", "down"])))
            time += rng.choice([300.0, 300.0, 300.5, 290.25, 4_000.0, 0.5])
        rng.shuffle(rows)
        series[location] = ([time for time, _ in rows], [status for _, status in rows])
    empty_window = ((start - 86_400 + 0.1, start - 86_400 + 0.2),)
    assert not any(start - 86_400 + 0.1 <= time < start - 86_400 + 0.2 for times, _ in series.values() for time in times)
    for mode in ("results", "duration"):
        assert _rolling_uptime(series, start, end, (), mode) == _rolling_uptime(series, start, end, empty_window, mode)


def test_todays_results_from_columns_equal_those_from_records(tmp_path):
    """A build reads today's shard into columns (`todays_results`), not Records: cut at `now`,
    per component and location, with the newest result read in full. It must be what the
    Records give, hand-edited lines and results after `now` included."""
    from generator.history.aggregate import aggregate_day
    from generator.history.codec import parse_raw, parse_raw_shard
    from generator.history.rollup import TodaysResults, todays_results
    from generator.history.store import raw_shard_path

    results = [result(at(5 * n + 0.25 * (n % 3)), ["up", "degraded", "down", "up"][n % 4], latency=100.0 + n)
               for n in range(200)]
    results += [result(at(5 * n + 1), "up", location="eu", latency=None if n % 7 == 0 else 50.0 + n) for n in range(150)]
    results += [result(at(5 * n), "down", component="web", latency=None) for n in range(100)]
    results += [result(at(700 + n), "up", component="late", location="us") for n in range(5)]  # all after `until`
    append_results(tmp_path, results)
    path = raw_shard_path(tmp_path, DAY.date())
    with path.open("a", encoding="utf-8") as shard:  # by hand: keys in another order, and spaces
        shard.write('{ "c": "api", "v": 1, "t": "2025-03-10T03:02:00.5Z", "s": "up", "r": "ok", "loc": "hand", "ms": 7 }\n')
    data = path.read_bytes()
    until = at(600).timestamp()

    cut, by_component = todays_results(parse_raw_shard(data, "shard", [], day=DAY.date()), until)
    records = [r for r in parse_raw(data, "shard", [], day=DAY.date()) if r.time <= until]
    assert aggregate_day(cut, DAY.date()) == aggregate_day(records, DAY.date())
    assert set(by_component) == {"api", "web"}
    for component, found in by_component.items():
        expected = TodaysResults.from_records([r for r in records if r.component == component])
        assert found.newest == expected.newest and found.newest.to_result() == expected.newest.to_result()
        assert {location: tuple(series[:3]) for location, series in found.series.items()} == \
               {location: tuple(series[:3]) for location, series in expected.series.items()}
    assert set(by_component["api"].series) == {"ci", "eu", "hand"}
