"""Every figure a build publishes, recomputed from history/ by a reader of its own.

The reader below is written from README's "What each published figure is", not from
generator.history: it parses the raw and daily JSON lines with `json`, de-duplicates results by
(c, t, loc), applies maintenance windows, and works in exact fractions of milliseconds. The
tests then compare, exactly, what the page, the badges, api/status.json, api/history.csv and
llms.txt say with what the reader says they must say after the published rounding (down).
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from clirun import invoke
from conftest import DEMO_NOW, copy_demo
from pagetools import page, text, texts

DAY_MS = 86_400_000


# --- the independent reader ------------------------------------------------------------------


def epoch_ms(moment: str) -> int:
    """ "2026-11-23T00:00:10.271Z" -> integer milliseconds since the epoch (exact)."""
    stamp = datetime.strptime(moment[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    fraction = moment[19:].rstrip("Z").lstrip(".")
    return int(stamp.timestamp()) * 1000 + (int(fraction.ljust(3, "0")[:3]) if fraction else 0)


def day_of(ms: int) -> date:
    return datetime.fromtimestamp(ms // 1000, timezone.utc).date()


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) * 1000


def seconds(text_value) -> float:
    """A site.yaml duration: 300, "10s", "5m", "500ms"."""
    if isinstance(text_value, (int, float)):
        return float(text_value)
    number, unit = re.fullmatch(r"([\d.]+)\s*(ms|s|m|h)?", str(text_value)).groups()
    return float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[unit]


@dataclass
class Result:
    time: int  # ms
    status: str
    latency: float | None
    in_maintenance: bool


@dataclass
class SeriesDay:
    """One location's figures for one UTC day: from its raw results, or from a daily line."""

    checks: int = 0
    up: int = 0
    degraded: int = 0
    down: int = 0
    maintenance: int = 0
    covered: Fraction = Fraction(0)  # seconds held within the day
    downtime: Fraction = Fraction(0)
    latencies: list | None = None  # exact latencies of up/degraded results; None for a daily line
    latency_max: float | None = None
    first: int = 0  # ms
    last_status: str = ""  # "maintenance" when the last result was in a window
    hold_until: int = 0  # ms


@dataclass
class Site:
    mode: str
    bar_days: int
    components: list[dict]  # id, name, interval (s), checked
    windows: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # ms [start, end)


def read_site(root: Path) -> Site:
    config = yaml.safe_load((root / "site.yaml").read_text())
    components = [{"id": c["id"], "name": c["name"], "checked": "check" in c,
                   "interval": seconds(c.get("check", {}).get("interval", 300))} for c in config["components"]]
    display = config.get("display") or {}
    site = Site(display.get("uptime_mode", "results"), display.get("uptime_days", 90), components)
    for path in sorted((root / "incidents").glob("*.md")):
        front, body = path.read_text().split("---\n")[1:3]
        meta = yaml.safe_load(front)
        if meta.get("type") != "maintenance":
            continue
        completed = re.search(r"^## (\d{4}-\d\d-\d\d \d\d:\d\d) UTC · Completed", body, re.M)
        if not completed:
            continue  # the demo's maintenance still to come: it ends in the future
        start = epoch_ms(meta["scheduled_for"].replace(" UTC", "").replace(" ", "T") + ":00Z")
        end = epoch_ms(completed.group(1).replace(" ", "T") + ":00Z")
        for component in meta["components"]:
            site.windows.setdefault(component, []).append((start, end))
    return site


def read_history(history: Path, now_ms: int) -> tuple[dict, dict]:
    """(raw results by (component, location), sorted and de-duplicated; daily lines by
    (component, location, day)). Results after `now` are left out."""
    raw: dict[tuple[str, str], dict[int, tuple]] = {}
    for path in sorted((history / "raw").glob("*/*/*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            time = epoch_ms(row["t"])
            if time <= now_ms:
                raw.setdefault((row["c"], row["loc"]), {})[time] = (row["s"], row.get("ms"))
    daily = {}
    for path in sorted((history / "daily").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                daily[(row["c"], row["loc"], date.fromisoformat(row["day"]))] = row
    return {key: sorted(rows.items()) for key, rows in raw.items()}, daily


def in_windows(windows: list[tuple[int, int]], time: int) -> bool:
    return any(start <= time < end for start, end in windows)


def raw_series_day(results: list[Result], day: date, cap_ms: int, now_ms: int) -> SeriesDay:
    """One location's results of one day (time order) to that day's figures."""
    end = min(day_start_ms(day) + DAY_MS, now_ms)
    figures = SeriesDay(latencies=[], first=results[0].time)
    for index, result in enumerate(results):
        if result.in_maintenance:
            figures.maintenance += 1
            continue
        following = results[index + 1].time if index + 1 < len(results) else math.inf
        held = Fraction(max(0, min(following, result.time + cap_ms, end) - result.time), 1000)
        figures.checks += 1
        figures.covered += held
        if result.status == "down":
            figures.down += 1
            figures.downtime += held
        else:
            figures.up += result.status == "up"
            figures.degraded += result.status == "degraded"
            if result.latency is not None:
                figures.latencies.append(result.latency)
    figures.latency_max = max(figures.latencies, default=None)
    last = results[-1]
    figures.last_status = "maintenance" if last.in_maintenance else last.status
    figures.hold_until = last.time + cap_ms
    return figures


def daily_series_day(row: dict) -> SeriesDay:
    return SeriesDay(row["n"], row["up"], row["deg"], row["down"], row["maint"], Fraction(str(row["cov_s"])),
                     Fraction(str(row["down_s"])), None, row["lat_max"], epoch_ms(row["first"]), row["last_s"],
                     epoch_ms(row["hold"]))


@dataclass
class Totals:
    checks: int = 0
    good: int = 0
    covered: Fraction = Fraction(0)
    downtime: Fraction = Fraction(0)

    def uptime(self, mode: str) -> Fraction | None:
        if not self.checks:
            return None
        if mode == "duration" and self.covered > 0:
            return 1 - self.downtime / self.covered
        return Fraction(self.good, self.checks)


@dataclass
class Expected:
    """What the reader says one component's figures are."""

    days: list[tuple[date, dict[str, SeriesDay]]]  # the bar days, oldest first: location -> figures
    uptime: dict[str, Fraction | None]
    response_time: float | None


def expected_figures(site: Site, history: Path, now: datetime) -> dict[str, Expected]:
    now_ms = int(now.timestamp() * 1000)
    raw, daily = read_history(history, now_ms)
    today = now.date()
    shown = [today - timedelta(days=offset) for offset in range(site.bar_days - 1, -1, -1)]
    figures = {}
    for component in site.components:
        if not component["checked"]:
            continue
        cid, cap_ms = component["id"], int(component["interval"] * 3 * 1000)
        windows = site.windows.get(cid, [])
        by_location: dict[str, dict[date, SeriesDay]] = {}
        series: dict[str, list[Result]] = {}
        for (c, location), rows in raw.items():
            if c != cid:
                continue
            results = [Result(time, status, latency, in_windows(windows, time)) for time, (status, latency) in rows]
            series[location] = results
            days: dict[date, list[Result]] = {}
            for result in results:
                days.setdefault(day_of(result.time), []).append(result)
            by_location[location] = {day: raw_series_day(rows, day, cap_ms, now_ms) for day, rows in days.items()}
        for (c, location, day), row in daily.items():
            if c == cid:
                by_location.setdefault(location, {}).setdefault(day, daily_series_day(row))  # raw wins
        # The stretch the day before's last result still holds after midnight: README's "a
        # window counts the seconds held within it", for a location that reported that day.
        for days in by_location.values():
            for day, figures_of_day in days.items():
                before = days.get(day - timedelta(days=1))
                if before is None or before.last_status == "maintenance":
                    continue
                carried = min(before.hold_until, figures_of_day.first) - day_start_ms(day)
                if carried > 0:
                    figures_of_day.covered += Fraction(carried, 1000)
                    if before.last_status == "down":
                        figures_of_day.downtime += Fraction(carried, 1000)
        bar_days = [(day, {location: days[day] for location, days in sorted(by_location.items()) if day in days})
                    for day in shown]
        uptime = {"24h": rolling_uptime(series, now_ms, cap_ms, site.mode)}
        for name, span in (("7d", 7), ("30d", 30), ("90d", 90)):
            totals = Totals()
            for offset in range(span):
                for one in (days.get(today - timedelta(days=offset)) for days in by_location.values()):
                    if one is not None:
                        add(totals, one)
            uptime[name] = totals.uptime(site.mode)
        last_day = sorted(r.latency for results in series.values() for r in results
                          if now_ms - DAY_MS <= r.time and r.status != "down" and r.latency is not None
                          and not r.in_maintenance)
        if last_day:
            response = last_day[(len(last_day) - 1) // 2]  # the lower middle one
        else:
            newest = max(((r.time, location, r) for location, results in series.items() for r in results),
                         default=None, key=lambda entry: entry[:2])
            response = (round(newest[2].latency, 1) if newest and newest[2].latency is not None
                        and newest[2].status != "down" else None)
        # README: no result within three check intervals is stale, and a stale latency is no data.
        newest_ms = max((r.time for results in series.values() for r in results), default=None)
        if newest_ms is None or now_ms - newest_ms > component["interval"] * 3 * 1000:
            response = None
        figures[cid] = Expected(bar_days, uptime, response)
    return figures


def add(totals: Totals, one: SeriesDay) -> None:
    totals.checks += one.checks
    totals.good += one.up + one.degraded
    totals.covered += one.covered
    totals.downtime += one.downtime


def rolling_uptime(series: dict[str, list[Result]], now_ms: int, cap_ms: int, mode: str) -> Fraction | None:
    """The 24 hours before `now`: results at or after now - 24 h count; in duration mode, the
    seconds of the window each result holds."""
    start = now_ms - DAY_MS
    totals = Totals()
    for results in series.values():
        for index, result in enumerate(results):
            if result.in_maintenance or result.time >= now_ms:
                continue
            following = results[index + 1].time if index + 1 < len(results) else now_ms
            held = Fraction(max(0, min(following, result.time + cap_ms, now_ms) - max(result.time, start)), 1000)
            if result.time >= start:
                totals.checks += 1
                totals.good += result.status != "down"
            totals.covered += held
            if result.status == "down":
                totals.downtime += held
    return totals.uptime(mode)


def day_uptime(figures: dict[str, SeriesDay], mode: str) -> Fraction | None:
    totals = Totals()
    for one in figures.values():
        add(totals, one)
    return totals.uptime(mode)


# --- the published rounding, from README ---------------------------------------------------------


def floored(value: Fraction, units: int) -> int:
    return math.floor(value * units)


def percent(value: Fraction | None, digits: int, *, whole_when_full: bool = False) -> str:
    if value is None:
        return "no data"
    if value == 1 and whole_when_full:
        return "100%"
    units = floored(value, 100 * 10**digits)
    return f"{units // 10**digits}.{units % 10**digits:0{digits}d}%"


def fraction6(value: Fraction | None) -> float | None:
    return None if value is None else floored(value, 1_000_000) / 1_000_000


def milliseconds(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{round(value)} ms"


def nearest_rank(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(quantile * len(ordered))) - 1]


# --- comparing what was published --------------------------------------------------------------


def build(root: Path, now: datetime) -> Path:
    ran = invoke("build", "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ"), cwd=root)
    assert ran.code == 0, ran.stdout + ran.stderr
    return root / "build"


def published_mismatches(root: Path, now: datetime) -> list[str]:
    """Every published figure that differs from the reader's, as "where: published != expected"."""
    site = read_site(root)
    expected = expected_figures(site, root / "history", now)
    out = build(root, now)
    wrong: list[str] = []

    def check(where: str, published, wanted) -> None:
        if published != wanted:
            wrong.append(f"{where}: published {published!r}, recomputed {wanted!r}")

    status = {c["id"]: c for c in json.loads((out / "api/status.json").read_text())["components"]}
    llms = (out / "llms.txt").read_text()
    with (out / "api/history.csv").open(newline="") as handle:
        rows = {(row["component_id"], row["date"]): row for row in csv.DictReader(handle)}
    front = page(out, "index.html")
    v2 = {c["name"]: c for c in json.loads((out / "api/v2/components.json").read_text())["components"]
          if not c["group"]}
    for component in site.components:
        cid = component["id"]
        if cid not in expected:
            continue
        figures = expected[cid]
        for window, value in figures.uptime.items():
            check(f"{cid} status.json uptime {window}", status[cid]["uptime"][window], fraction6(value))
            badge = json.loads((out / f"badges/{cid}/uptime-{window}.json").read_text())
            check(f"{cid} badge uptime-{window}", badge["message"], percent(value, 2, whole_when_full=True))
        check(f"{cid} status.json response_time_ms", status[cid]["response_time_ms"], figures.response_time)
        first_day = next((day.isoformat() for day, by_location in figures.days
                          if any(one.checks for one in by_location.values())), None)
        check(f"{cid} api/v2 start_date", v2[component["name"]]["start_date"], first_day)
        badge = json.loads((out / f"badges/{cid}/response-time.json").read_text())
        check(f"{cid} badge response-time", badge["message"], milliseconds(figures.response_time))
        line = next(line for line in llms.splitlines() if f"/components/{cid}/)" in line)
        check(f"{cid} llms.txt 30d", re.search(r"uptime over 30 days: ([^;]+)", line).group(1),
              percent(figures.uptime["30d"], 2, whole_when_full=True))
        response = re.search(r"response time: ([^;]+)", line)
        check(f"{cid} llms.txt response time", response and response.group(1), milliseconds(figures.response_time))

        component_page = page(out, f"components/{cid}/index.html")
        shown = dict(zip(texts(component_page, "//dl[@class='uptime']//dt"),
                         texts(component_page, "//dl[@class='uptime']//dd")))
        for window, value in figures.uptime.items():
            check(f"{cid} page uptime {window}", shown.get(window), percent(value, 2))
        legend_window = "90d" if site.bar_days >= 90 else "30d"
        legend = percent(figures.uptime[legend_window], 2) + " uptime"
        check(f"{cid} page legend", text(component_page.xpath("//p[@class='bars-legend']/span")[1]), legend)
        row_legend = front.xpath(f"//li[@class='component'][.//a[@href='components/{cid}/index.html']]"
                                 "//p[@class='bars-legend']/span")
        check(f"{cid} front page legend", row_legend and text(row_legend[1]), legend)
        titles = [title.split("; ")[0] for title in texts(component_page, "//svg[@class='bars']/rect/title")]
        check(f"{cid} number of bars", len(titles), len(figures.days))

        for (day, by_location), title in zip(figures.days, titles):
            value = day_uptime(by_location, site.mode)
            checks = sum(one.checks for one in by_location.values())
            down = sum(one.down for one in by_location.values())
            degraded = sum(one.degraded for one in by_location.values())
            label = f"{day:%b} {day.day}, {day.year}: "
            if value is None:
                check(f"{cid} bar {day}", title, label + "no data")
            else:
                wanted = label + percent(value, 2) + " up"
                wanted += f", {down} failed of {checks} checks" if down else ""
                wanted += f", {degraded} degraded" if degraded else ""
                check(f"{cid} bar {day}", title, wanted)

            row = rows.get((cid, day.isoformat()))
            if row is None:
                wrong.append(f"{cid} history.csv {day}: no row")
                continue
            reporting = sum(1 for one in by_location.values() if one.checks) or 1
            downtime = sum((one.downtime for one in by_location.values()), Fraction(0)) / reporting
            check(f"{cid} history.csv {day} uptime_percent", row["uptime_percent"],
                  "" if value is None else percent(value, 3)[:-1])
            for column, attribute in (("checks", "checks"), ("up", "up"), ("degraded", "degraded"), ("down", "down"),
                                      ("maintenance_checks", "maintenance")):
                check(f"{cid} history.csv {day} {column}", row[column],
                      str(sum(getattr(one, attribute) for one in by_location.values())))
            # To the millisecond; an average of two locations can end in half a millisecond, which
            # either neighbour represents.
            if abs(Fraction(row["downtime_seconds"]) - downtime) > Fraction(1, 2000):
                wrong.append(f"{cid} history.csv {day} downtime_seconds: {row['downtime_seconds']} is not "
                             f"{float(downtime)} to the millisecond")
            maxima = [one.latency_max for one in by_location.values() if one.latency_max is not None]
            check(f"{cid} history.csv {day} latency_max_ms", row["latency_max_ms"],
                  f"{max(maxima):.1f}".removesuffix(".0") if maxima else "")
            if by_location and all(one.latencies is not None for one in by_location.values()):
                latencies = [ms for one in by_location.values() for ms in one.latencies]
                for column, quantile in (("latency_p50_ms", 0.5), ("latency_p95_ms", 0.95)):
                    if not latencies:
                        check(f"{cid} history.csv {day} {column}", row[column], "")
                        continue
                    exact = nearest_rank(latencies, quantile)
                    # Documented as approximate: within 1% of the exact percentile (and to 0.1 ms).
                    if abs(float(row[column]) - exact) > 0.01 * exact + 0.05:
                        wrong.append(f"{cid} history.csv {day} {column}: {row[column]} is not within 1% of {exact}")
    return wrong


# --- the demo site -------------------------------------------------------------------------------


def test_every_figure_of_the_demo_site_is_what_an_independent_reader_gets(tmp_path):
    root = copy_demo(tmp_path / "demo")
    assert published_mismatches(root, DEMO_NOW) == []


# --- generated tricky histories ------------------------------------------------------------------

NOW = datetime(2026, 3, 20, 11, 51, 7, tzinfo=timezone.utc)  # mid-day: "7d" is not 7 x 24 hours
TODAY = NOW.date()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def line(component: str, moment: datetime, status: str, location: str, latency: float | None) -> str:
    row = {"v": 1, "c": component, "t": stamp(moment), "s": status, "r": "ok" if status == "up" else "slow"
           if status == "degraded" else "timeout", "loc": location}
    if latency is not None:
        row["ms"] = latency
    return json.dumps(row, separators=(",", ":"))


def tricky_site(root: Path, mode: str) -> Path:
    """A site whose history has every awkward case README's definitions must cover."""
    maintenance_start = datetime.combine(TODAY - timedelta(days=2), datetime.min.time(), timezone.utc) + timedelta(hours=9)
    (root / "incidents").mkdir(parents=True)
    (root / "incidents" / "maintenance.md").write_text(
        "---\ntitle: Database switch\ntype: maintenance\ncomponents: [maint]\n"
        f"scheduled_for: {maintenance_start:%Y-%m-%d %H:%M} UTC\n"
        f"scheduled_until: {maintenance_start + timedelta(hours=2):%Y-%m-%d %H:%M} UTC\n---\n\n"
        f"## {maintenance_start + timedelta(hours=2):%Y-%m-%d %H:%M} UTC · Completed\nDone.\n\n"
        f"## {maintenance_start:%Y-%m-%d %H:%M} UTC · In progress\nStarted.\n")
    (root / "site.yaml").write_text(f"""\
site:
  title: Tricky
  base_url: https://status.tricky.example/
display:
  uptime_mode: {mode}
  uptime_days: 40
history:
  raw_days: 60
components:
  - {{id: two, name: Two locations, check: {{type: tcp, host: a.example, port: 1}}}}
  - {{id: maint, name: Maintained, check: {{type: tcp, host: b.example, port: 1}}}}
  - {{id: gappy, name: Gappy, check: {{type: tcp, host: c.example, port: 1, interval: 2m}}}}
  - {{id: changed, name: Changed interval, check: {{type: tcp, host: d.example, port: 1, interval: 5m}}}}
  - {{id: second, name: One second down, check: {{type: tcp, host: e.example, port: 1}}}}
  - {{id: newbie, name: Added yesterday, check: {{type: tcp, host: f.example, port: 1}}}}
  - {{id: quiet, name: Quiet lately, check: {{type: tcp, host: g.example, port: 1}}}}
  - {{id: manual, name: Manual}}
""")
    rng = random.Random(16)
    lines: list[tuple[datetime, str]] = []

    def result(component, moment, status="up", location="eu", latency=None):
        if latency is None and status != "down":
            latency = round(rng.uniform(40, 400), 1)
        lines.append((moment, line(component, moment, status, location, latency)))

    start = datetime.combine(TODAY - timedelta(days=35), datetime.min.time(), timezone.utc)
    moment = start
    while moment < NOW + timedelta(hours=1):  # results after `now` must be ignored
        step = timedelta(minutes=5, seconds=rng.randint(-20, 20), milliseconds=rng.randint(0, 999))
        # Two locations that disagree: "us" sees an outage "eu" does not.
        result("two", moment, "down" if moment.hour == 3 and moment.day % 3 == 0 else "up", "eu")
        result("two", moment + timedelta(seconds=7), "down" if moment.hour in (3, 4) and moment.day % 3 == 0
               else "degraded" if rng.random() < 0.05 else "up", "us")
        # Down for the whole maintenance window (which must not count), and briefly outside it.
        in_window = maintenance_start <= moment < maintenance_start + timedelta(hours=2)
        result("maint", moment, "down" if in_window or (moment.hour == 20 and moment.minute < 12) else "up")
        # Empty days and a long gap: nothing 10 to 8 days ago, nor for 5 hours yesterday.
        yesterday_gap = (TODAY - timedelta(days=1) == moment.date() and 6 <= moment.hour < 11)
        if not (TODAY - timedelta(days=10) <= moment.date() <= TODAY - timedelta(days=8)) and not yesterday_gap:
            result("gappy", moment, "down" if moment.hour == 5 and moment.minute < 30 else "up")
        # Every minute until noon, every 5 minutes after: the configured 5 minutes hold a result,
        # not three of the day's usual 1-minute gaps.
        changed_day = datetime.combine(TODAY - timedelta(days=3), datetime.min.time(), timezone.utc)
        if moment.hour < 12 and moment.date() == changed_day.date():
            for minute in range(5):
                result("changed", moment + timedelta(minutes=minute), "up")
        elif not changed_day + timedelta(hours=12, minutes=55) <= moment < changed_day + timedelta(hours=13, minutes=16):
            result("changed", moment, "degraded" if moment.minute < 5 and moment.hour == 18 else "up")
        # One second down, 20 days ago: 30 days' uptime is 1.0 to 6 decimals, unless rounded down.
        if start + timedelta(days=15) <= moment < start + timedelta(days=15) + step:
            result("second", moment, "down")
            result("second", moment + timedelta(seconds=1), "up")
        else:
            result("second", moment, "up")
        if moment >= datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(hours=15):
            result("newbie", moment, "up" if rng.random() < 0.97 else "down")
        if moment < NOW - timedelta(days=2):
            result("quiet", moment, "up")
        moment += step
    # Down at 13:00, then the runner stops for 15 minutes.
    changed_day = datetime.combine(TODAY - timedelta(days=3), datetime.min.time(), timezone.utc)
    result("changed", changed_day + timedelta(hours=13), "down")
    result("changed", changed_day + timedelta(hours=13, minutes=15), "up")
    # Around midnight: a down result a minute before, still holding after it.
    for offset in range(1, 4):
        midnight = datetime.combine(TODAY - timedelta(days=offset), datetime.min.time(), timezone.utc)
        result("two", midnight - timedelta(seconds=61), "down", "eu")
        result("two", midnight + timedelta(milliseconds=1), "up", "eu")
    shards: dict[date, list[str]] = {}
    for moment, text_line in sorted(lines):
        shards.setdefault(moment.date(), []).append(text_line)
    for day, day_lines in shards.items():
        path = root / "history" / "raw" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        duplicates = day_lines[:: 17]  # what a union merge of two branches leaves behind
        path.write_text("\n".join(day_lines + duplicates) + "\n")
    return root


@pytest.mark.parametrize("mode", ["results", "duration"])
def test_every_figure_of_a_tricky_history_is_what_an_independent_reader_gets(tmp_path, mode):
    root = tricky_site(tmp_path / "tricky", mode)
    assert published_mismatches(root, NOW) == []


def test_a_one_second_outage_never_reads_as_full_uptime(tmp_path):
    root = tricky_site(tmp_path / "tricky", "duration")
    status = json.loads((build(root, NOW) / "api/status.json").read_text())
    second = next(c for c in status["components"] if c["id"] == "second")
    assert second["uptime"]["30d"] < 1.0 and second["uptime"]["30d"] == 0.999999


def test_a_result_holds_for_three_configured_intervals_whatever_the_spacing_that_day(tmp_path):
    root = tricky_site(tmp_path / "tricky", "duration")
    out = build(root, NOW)
    with (out / "api/history.csv").open(newline="") as handle:
        row = next(r for r in csv.DictReader(handle)
                   if r["component_id"] == "changed" and r["date"] == (TODAY - timedelta(days=3)).isoformat())
    # The down result at 13:00-13:05 is followed by 15 minutes without results: with a 5-minute
    # interval it holds all of them, not three of the morning's 1-minute gaps.
    assert float(row["downtime_seconds"]) == 15 * 60


def test_the_page_says_what_each_window_is(tmp_path):
    root = tricky_site(tmp_path / "tricky", "results")
    component_page = page(build(root, NOW), "components/two/index.html")
    titles = dict(zip(texts(component_page, "//dl[@class='uptime']//dt"),
                      component_page.xpath("//dl[@class='uptime']//dt/@title")))
    assert titles["7d"] == "today (UTC) so far and the 6 UTC days before it"
    assert titles["24h"] == "the 24 hours before the page was built"
    assert "rounded down" in text(component_page.xpath("//dl[@class='uptime']/following-sibling::p[1]")[0])
    openapi = json.loads((root / "build/api/openapi.json").read_text())
    csv_doc = openapi["paths"]["/api/history.csv"]["get"]["description"]
    assert "latency_p50_ms" in csv_doc and "approximate" in csv_doc
