"""How on time the checks are (issue #21 part 1): `check --schedule` records when each run was
due; the component page and api/status.json show the real cadence, coverage and lateness of the
last 24 hours, recomputed here from the raw files with a reader of their own; `validate` warns
when an interval is shorter than the schedule can deliver."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from clirun import invoke
from conftest import write_site
from servers import static_server

from generator import history
from generator.checks.result import CheckResult
from generator.checks.schedule import BadSchedule, parse_schedule

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# --- the cron reader --------------------------------------------------------------------------


@pytest.mark.parametrize(("cron", "moment", "due"), [
    ("*/5 * * * *", "2026-12-05 12:03:59", "2026-12-05 12:00"),
    ("*/5 * * * *", "2026-12-05 12:05:00", "2026-12-05 12:05"),
    ("0 */6 * * *", "2026-12-05 05:59:00", "2026-12-05 00:00"),
    ("30 9 * * mon-fri", "2026-12-06 10:00:00", "2026-12-04 09:30"),  # a Sunday: Friday's
    ("15 2 1 jan *", "2026-12-05 12:00:00", "2026-01-01 02:15"),
    ("0 0 13 * 5", "2026-12-05 12:00:00", "2026-12-04 00:00"),  # day 13 OR a Friday, as cron has it
    ("0,30 8-10 * * 7", "2026-12-06 09:45:00", "2026-12-06 09:30"),  # 7 is Sunday too
])
def test_the_tick_a_run_belongs_to(cron, moment, due):
    assert parse_schedule(cron).latest_at_or_before(at(moment)) == at(due)


@pytest.mark.parametrize(("cron", "words"), [
    ("*/5 * * *", "has 4 fields"), ("61 * * * *", "outside 0-59"), ("* * * * blah", "not a number or a name"),
    ("*/0 * * * *", "not a positive number"), ("5-1 * * * *", "outside"),
])
def test_a_bad_schedule_says_which_field(cron, words):
    with pytest.raises(BadSchedule, match=words):
        parse_schedule(cron)


def test_the_shortest_gap_a_schedule_gives_is_never_under_five_minutes():
    assert parse_schedule("*/15 * * * *").shortest_gap() == timedelta(minutes=15)
    assert parse_schedule("* * * * *").shortest_gap() == timedelta(minutes=5)
    assert parse_schedule("0 9,17 * * *").shortest_gap() == timedelta(hours=8)


# --- check --schedule -------------------------------------------------------------------------


def _served_site(root: Path, url: str) -> Path:
    return write_site(root, "site: {title: T, base_url: \"https://status.example/\"}\n"
                            f"components:\n  - {{id: api, name: API, check: {{type: http, url: \"{url}/ok.txt\"}}}}\n")


def test_a_scheduled_run_records_when_it_was_due_and_a_run_by_hand_does_not(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "ok.txt").write_text("ok\n")
    with static_server(tmp_path / "web") as url:
        site = _served_site(tmp_path / "site", url)
        env = {"HELIOGRAPH_NOW": "2026-12-05T12:07:30Z"}
        assert invoke("--site", str(site), "-q", "check", "--schedule", "*/5 * * * *", env=env).code == 0
        assert invoke("--site", str(site), "-q", "check", "--schedule", "", env=env).code == 0
        bad = invoke("--site", str(site), "check", "--schedule", "*/5 * * *", env=env)
    assert bad.code == 1 and "--schedule: '*/5 * * *' has 4 fields" in bad.stderr
    lines = [json.loads(line) for line in (site / "history" / "runs.jsonl").read_text().splitlines()]
    assert [(line["due"], line["loc"], line["n"]) for line in lines] == [
        ("2026-12-05T12:05:00Z", "default", 1), (None, "default", 1)]
    assert all(line["ran"].startswith("2026-12-05T12:07:30") for line in lines)
    results = list((site / "history" / "raw").rglob("*.jsonl"))
    assert sum(len(p.read_text().splitlines()) for p in results) == 2  # the bad schedule checked nothing


def test_compact_keeps_thirty_days_of_run_records(tmp_path):
    site = write_site(tmp_path / "site")
    (site / "history").mkdir(exist_ok=True)
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=2)
    (site / "history" / "runs.jsonl").write_text(
        f'{{"v":1,"loc":"ci","due":null,"ran":"{old:%Y-%m-%dT%H:%M:%SZ}","n":1}}\n'
        f'{{"v":1,"loc":"ci","due":null,"ran":"{recent:%Y-%m-%dT%H:%M:%SZ}","n":1}}\n')
    ran = invoke("--site", str(site), "compact", "--now", NOW.isoformat())
    assert ran.code == 0 and "dropped 1 run record(s) older than 30 days" in ran.stdout
    assert (site / "history" / "runs.jsonl").read_text().count("\n") == 1


# --- the figures, recomputed ------------------------------------------------------------------


def _simple_figures(raw_files: list[Path], runs_file: Path, component: str, interval: float, now: datetime) -> dict:
    """The cadence, coverage and lateness figures by README's definitions, from the files alone."""
    start, end = now.timestamp() - 86400, now.timestamp()
    by_location: dict[str, list[float]] = {}
    for path in raw_files:
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row["c"] == component:
                by_location.setdefault(row["loc"], []).append(datetime.fromisoformat(row["t"]).timestamp())
    inside = sorted(t for times in by_location.values() for t in times if start <= t <= end)
    gaps = sorted(b - a for a, b in zip(inside, inside[1:]))
    held, reporting = 0.0, 0
    for times in by_location.values():
        times = sorted(times)
        reporting += any(start <= t <= end for t in times)
        for t, following in zip(times, times[1:] + [end]):
            held += max(0.0, min(following, t + 3 * interval, end) - max(t, start))
    late = sorted(max(0.0, datetime.fromisoformat(r["ran"]).timestamp() - datetime.fromisoformat(r["due"]).timestamp())
                  for r in map(json.loads, runs_file.read_text().splitlines())
                  if r["due"] and start <= datetime.fromisoformat(r["ran"]).timestamp() <= end)
    return {
        "median_gap_s": round(gaps[(len(gaps) - 1) // 2], 1), "worst_gap_s": round(max(gaps[-1], end - inside[-1]), 1),
        "results": len(inside),
        # Rounded down to 6 decimals, float noise of a billionth forgiven (README: Rounding).
        "coverage": math.floor(held / 86400 / max(1, reporting) * 1_000_000 + 1e-3) / 1_000_000,
        "lateness": {"runs": len(late), "median_s": round(late[(len(late) - 1) // 2], 1), "worst_s": round(late[-1], 1)}
        if late else {"runs": 0, "median_s": None, "worst_s": None},
    }


def test_cadence_coverage_and_lateness_are_what_the_raw_files_say(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://status.example/\"}\ncomponents:\n"
                                         "  - {id: api, name: API, check: {type: http, url: \"https://api.example/\"}}\n")
    results, runs = [], []
    moment = NOW - timedelta(hours=30)
    step = 0
    while moment < NOW - timedelta(minutes=3):
        results.append(CheckResult("api", moment, "up", "ok", "HTTP 200", 80.0, "ci"))
        tick = moment.replace(second=0, microsecond=0) - timedelta(minutes=moment.minute % 5)
        runs.append(f'{{"v":1,"loc":"ci","due":"{tick:%Y-%m-%dT%H:%M:%SZ}","ran":"{moment:%Y-%m-%dT%H:%M:%S}Z","n":1}}\n')
        # Mostly 5 minutes apart and a little late; now and then a dropped run, or a long stall.
        step += 1
        moment += timedelta(minutes=40) if step % 50 == 0 else timedelta(minutes=10 if step % 7 == 0 else 5,
                                                                          seconds=step % 13 * 7)
    history.append_results(site / "history", results)
    (site / "history" / "runs.jsonl").write_text("".join(runs))
    ran = invoke("--site", str(site), "build", "--now", NOW.isoformat())
    assert ran.code == 0, ran.stderr
    status = json.loads((site / "build" / "api" / "status.json").read_text())
    expected = _simple_figures(sorted((site / "history" / "raw").rglob("*.jsonl")), site / "history" / "runs.jsonl",
                               "api", 300.0, NOW)
    checks = status["components"][0]["checks_24h"]
    assert checks == {"interval_s": 300.0, "results": expected["results"], "median_gap_s": expected["median_gap_s"],
                      "worst_gap_s": expected["worst_gap_s"], "locations": ["ci"], "coverage": expected["coverage"]}
    assert status["schedule_lateness_24h"] == expected["lateness"]
    assert expected["worst_gap_s"] >= 2400 and expected["coverage"] < 1  # the stall shows, as a gap and as coverage
    page = (site / "build" / "components" / "api" / "index.html").read_text()
    assert "results came every 5 min (median) and at worst 40 min apart" in page
    assert "checks are set to run every 5 min" in page and "Scheduled check runs started" in page


def test_a_component_with_a_single_result_shows_no_cadence_and_a_manual_one_none_at_all(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://status.example/\"}\ncomponents:\n"
                                         "  - {id: api, name: API, check: {type: http, url: \"https://api.example/\"}}\n"
                                         "  - {id: docs, name: Docs}\n")
    history.append_results(site / "history", [CheckResult("api", NOW - timedelta(minutes=2), "up", "ok", "", 50.0, "ci")])
    assert invoke("--site", str(site), "build", "--now", NOW.isoformat()).code == 0
    status = json.loads((site / "build" / "api" / "status.json").read_text())
    api, docs = status["components"]
    assert api["checks_24h"]["results"] == 1 and api["checks_24h"]["median_gap_s"] is None
    assert docs["checks_24h"] is None
    assert status["schedule_lateness_24h"] == {"runs": 0, "median_s": None, "worst_s": None}
    assert 'class="note cadence"' not in (site / "build" / "components" / "api" / "index.html").read_text()


# --- validate -----------------------------------------------------------------------------------


def test_validate_warns_where_an_interval_is_shorter_than_the_schedule(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://status.example/\"}\ncomponents:\n"
                                         "  - id: api\n    name: API\n    check:\n      type: http\n"
                                         "      url: https://api.example/\n      interval: 1m\n"
                                         "  - id: web\n    name: Web\n    check: {type: http, url: \"https://web.example/\"}\n")
    workflows = site / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "check.yml").write_text("on:\n  schedule:\n    - cron: \"*/10 * * * *\"\njobs: {}\n")
    ran = invoke("--site", str(site), "validate")
    assert ran.code == 0
    assert "site.yaml:8:7: warning: api: interval 1 min is shorter than check.yml's schedule can deliver " \
           "(every 10 min at best" in ran.stderr
    assert "site.yaml:9:" in ran.stderr  # web's default 5 minutes is too short for every 10 minutes too
    assert invoke("--site", str(site), "validate", "--strict").code == 1


def test_a_component_whose_results_are_all_older_than_a_day_shows_no_data_not_old_figures(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://status.example/\"}\ncomponents:\n"
                                         "  - {id: api, name: API, check: {type: http, url: \"https://api.example/\"}}\n"
                                         "  - {id: web, name: Web, check: {type: http, url: \"https://web.example/\"}}\n")
    # api was checked steadily until two days ago and then stopped; web was never checked.
    old = [CheckResult("api", NOW - timedelta(days=2, minutes=5 * n), "up", "ok", "", 50.0, "ci") for n in range(50)]
    history.append_results(site / "history", old)
    assert invoke("--site", str(site), "build", "--now", NOW.isoformat()).code == 0
    status = json.loads((site / "build" / "api" / "status.json").read_text())
    for component in status["components"]:
        assert component["checks_24h"]["results"] == 0
        assert component["checks_24h"]["median_gap_s"] is None and component["checks_24h"]["worst_gap_s"] is None
        assert not component["checks_24h"]["coverage"]  # nothing held any of the last day
        page = (site / "build" / "components" / component["id"] / "index.html").read_text()
        assert "No results in the 24 hours before the page was built: no data on how often the checks run." in page
        assert "results came every" not in page


def _held_share(times: list[float], start: float, end: float, interval: float) -> float:
    """The share of [start, end] that results at `times` (one location) held, by README's rule."""
    times = sorted(times)
    held = sum(max(0.0, min(following, t + 3 * interval, end) - max(t, start))
               for t, following in zip(times, times[1:] + [end]))
    return held / (end - start)


def test_in_duration_mode_the_page_says_how_much_of_each_window_results_covered(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://status.example/\"}\n"
                                         "display: {uptime_mode: duration}\ncomponents:\n"
                                         "  - {id: api, name: API, check: {type: http, url: \"https://api.example/\"}}\n")
    # Every 5 minutes for the last 20 days, except two silent days (8 and 9 days ago) and the
    # last six hours; the 30d and 90d windows reach back past the first result.
    times = [NOW - timedelta(days=20) + timedelta(minutes=5 * n) for n in range(20 * 288)]
    times = [t for t in times if not (NOW - timedelta(days=10) <= t < NOW - timedelta(days=8))
             and t < NOW - timedelta(hours=6)]
    history.append_results(site / "history", [CheckResult("api", t, "up", "ok", "", 50.0, "ci") for t in times])
    assert invoke("--site", str(site), "build", "--now", NOW.isoformat()).code == 0, "build failed"
    page = (site / "build" / "components" / "api" / "index.html").read_text()
    # Recomputed from the raw files, not from what the build kept.
    raw = [datetime.fromisoformat(json.loads(line)["t"]).timestamp()
           for path in (site / "history" / "raw").rglob("*.jsonl") for line in path.read_text().splitlines()]
    today = NOW.replace(hour=0, minute=0, second=0).timestamp()
    expected = {"24h": _held_share(raw, NOW.timestamp() - 86400, NOW.timestamp(), 300.0)}
    for name, days in (("7d", 7), ("30d", 30), ("90d", 90)):
        expected[name] = _held_share(raw, today - (days - 1) * 86400, NOW.timestamp(), 300.0)
    shown = ", ".join(f"{name} {math.floor(share * 10000 + 1e-6) / 100:.2f}%"
                      for name, share in expected.items())
    assert f"Covered by results: {shown} (the share of each window" in page
    assert expected["24h"] < 0.8 and expected["90d"] < 0.25  # the silences show
    # The results mode says nothing of coverage: it does not count time.
    (site / "site.yaml").write_text((site / "site.yaml").read_text().replace("uptime_mode: duration", "uptime_mode: results"))
    assert invoke("--site", str(site), "build", "--now", NOW.isoformat()).code == 0
    assert "Covered by results" not in (site / "build" / "components" / "api" / "index.html").read_text()


def test_with_two_locations_the_gaps_are_across_both_and_the_page_names_them(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://status.example/\"}\ncomponents:\n"
                                         "  - {id: api, name: API, check: {type: http, url: \"https://api.example/\"}}\n")
    # eu every 10 minutes all day; us in between, until it stopped three hours ago.
    results = [CheckResult("api", NOW - timedelta(hours=26) + timedelta(minutes=10 * n, seconds=7), "up", "ok", "", 50.0,
                           "eu") for n in range(26 * 6)]
    results += [CheckResult("api", NOW - timedelta(hours=26) + timedelta(minutes=10 * n + 5), "up", "ok", "", 50.0, "us")
                for n in range(23 * 6)]
    history.append_results(site / "history", results)
    (site / "history" / "runs.jsonl").write_text("")
    assert invoke("--site", str(site), "build", "--now", NOW.isoformat()).code == 0
    status = json.loads((site / "build" / "api" / "status.json").read_text())
    expected = _simple_figures(sorted((site / "history" / "raw").rglob("*.jsonl")), site / "history" / "runs.jsonl",
                               "api", 300.0, NOW)
    checks = status["components"][0]["checks_24h"]
    assert checks["locations"] == ["eu", "us"]
    assert (checks["median_gap_s"], checks["worst_gap_s"]) == (expected["median_gap_s"], expected["worst_gap_s"])
    assert checks["coverage"] == expected["coverage"] and checks["median_gap_s"] < 600  # both counted, not one
    page = (site / "build" / "components" / "api" / "index.html").read_text()
    assert "These gaps are between the results of all its locations together (eu, us)." in page
