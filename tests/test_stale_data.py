"""Stale data is said to be stale everywhere a status or a latency is published.

A site whose checker stopped (its last results 31 minutes or 11 days before the build, with a
5-minute interval) is built with --now, and every output is read as a reader would: the badge's
SVG text, api/status.json, llms.txt, the component page, the embed. None may show the old latency
as current, and each says the status may be out of date. The same site built right after its
last result still shows the latency.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from clirun import invoke
from conftest import write_site

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
LATENCY_MS = 84.0
SITE = """\
site:
  title: Stale Status
  base_url: https://status.test.example/
components:
  - id: api
    name: API
    check: {type: http, url: "https://api.test.example/health", interval: 5m}
  - id: docs
    name: Docs
"""
MAINTENANCE = """\
---
title: Database upgrade
type: maintenance
components: [api]
scheduled_for: 2026-12-08 02:00 UTC
scheduled_until: 2026-12-08 03:00 UTC
---

## 2026-12-01 16:00 UTC · Scheduled
We will upgrade the database.
"""


def write_history(site: Path, last: datetime, count: int = 30) -> None:
    """`count` up results, 5 minutes apart, the newest at `last`: raw lines as `heliograph check` writes."""
    for n in range(count):
        append_result(site, last - timedelta(minutes=5 * n))


def append_result(site: Path, moment: datetime, status: str = "up") -> None:
    """One result of the api component at `moment`: up (HTTP 200 in 84 ms) or down (HTTP 503)."""
    shard = site / "history" / "raw" / f"{moment:%Y/%m/%d}.jsonl"
    shard.parent.mkdir(parents=True, exist_ok=True)
    line = {"v": 1, "c": "api", "t": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "s": status, "loc": "eu",
            **({"r": "ok", "m": "HTTP 200", "ms": LATENCY_MS} if status == "up" else
               {"r": "http_status", "m": "HTTP 503", "ms": 12.0})}
    with shard.open("a") as out:
        out.write(json.dumps(line) + "\n")


def built_site(tmp_path: Path, age: timedelta) -> Path:
    site = write_site(tmp_path / "site", SITE, {"2026-12-08-database-upgrade.md": MAINTENANCE})
    write_history(site, NOW - age)
    result = invoke("--site", str(site), "build", "--now", NOW.isoformat())
    assert result.code == 0, result.stdout + result.stderr
    return site / "build"


def svg_text(path: Path) -> str:
    tree = lxml.etree.parse(str(path))
    return " ".join(t.strip() for t in tree.xpath("//svg:text//text()", namespaces={"svg": "http://www.w3.org/2000/svg"})
                    if t.strip())


def page_text(path: Path) -> str:
    return re.sub(r"\s+", " ", lxml.html.parse(str(path)).getroot().text_content())


STALE_AGES = [pytest.param(timedelta(minutes=31), id="31-minutes"), pytest.param(timedelta(days=11), id="11-days")]


@pytest.mark.parametrize("age", STALE_AGES)
def test_response_time_is_no_data_once_stale(tmp_path, age):
    build = built_site(tmp_path, age)
    badge = svg_text(build / "badges" / "api" / "response-time.svg")
    assert "no data" in badge and "84" not in badge
    endpoint = json.loads((build / "badges" / "api" / "response-time.json").read_text())
    assert endpoint["message"] == "no data"
    api = {c["id"]: c for c in json.loads((build / "api" / "status.json").read_text())["components"]}
    assert api["api"]["stale"] is True and api["api"]["response_time_ms"] is None
    # The latest check stays published, with its time: history, not a current figure.
    assert api["api"]["latest_check"]["time"] == (NOW - age).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    llms = (build / "llms.txt").read_text()
    api_line = next(line for line in llms.splitlines() if line.startswith("- [API]"))
    assert "response time: no data" in api_line and "84 ms" not in llms


@pytest.mark.parametrize("age", STALE_AGES)
def test_every_status_carries_the_stale_warning(tmp_path, age):
    build = built_site(tmp_path, age)
    since = f"No check result since {NOW - age:%Y-%m-%d %H:%M} UTC"
    llms = (build / "llms.txt").read_text()
    api_line = next(line for line in llms.splitlines() if line.startswith("- [API]"))
    assert since in api_line and "out of date" in api_line
    docs_line = next(line for line in llms.splitlines() if line.startswith("- [Docs]"))
    assert "stale" not in docs_line  # a component nobody checks is never stale

    component = page_text(build / "components" / "api" / "index.html")
    assert "No check result since" in component and "the status shown may be out of date" in component
    assert "84 ms" not in component
    assert "out of date" not in page_text(build / "components" / "docs" / "index.html")

    embed = lxml.html.parse(str(build / "embed" / "index.html")).getroot()
    overall = " ".join(p.text_content() for p in embed.find_class("hg-stale") if p.getparent().get("id") == "hg")
    assert "API: No check result since" in overall
    api_item = embed.xpath('//li[@data-component="api"]')[0].text_content()
    assert "Operational (stale)" in api_item and "out of date" in api_item
    assert "(stale)" not in embed.xpath('//li[@data-component="docs"]')[0].text_content()


def test_component_page_says_why_the_chart_is_missing(tmp_path):
    build = built_site(tmp_path, timedelta(days=11))
    page = lxml.html.parse(str(build / "components" / "api" / "index.html")).getroot()
    assert not page.find_class("chart")
    note = " ".join(p.text_content() for p in page.find_class("no-chart"))
    assert "No response-time chart" in note and "last 7 days" in note and "not reported recently" in note


def test_fresh_data_still_shows_its_latency(tmp_path):
    build = built_site(tmp_path, timedelta(minutes=4))
    assert "84 ms" in svg_text(build / "badges" / "api" / "response-time.svg")
    api = {c["id"]: c for c in json.loads((build / "api" / "status.json").read_text())["components"]}
    assert api["api"]["stale"] is False and api["api"]["response_time_ms"] == LATENCY_MS
    llms = (build / "llms.txt").read_text()
    assert "response time: 84 ms" in llms and "out of date" not in llms
    assert "out of date" not in page_text(build / "components" / "api" / "index.html")
    embed = lxml.html.parse(str(build / "embed" / "index.html")).getroot()
    for hidden in embed.xpath("//p[@hidden]"):  # the box's warning, empty until a script finds it due
        hidden.drop_tree()
    assert not embed.find_class("hg-stale")
    assert "(stale)" not in embed.text_content()
    # An hour of results draws the chart, so there is no note about its absence.
    assert "No response-time chart" not in page_text(build / "components" / "api" / "index.html")


def test_upcoming_maintenance_started_at_is_its_creation_not_its_window(tmp_path):
    build = built_site(tmp_path, timedelta(minutes=4))
    summary = json.loads((build / "api" / "v2" / "summary.json").read_text())
    [maintenance] = summary["scheduled_maintenances"]
    assert maintenance["status"] == "scheduled"
    assert maintenance["started_at"] == "2026-12-01T16:00:00.000Z" == maintenance["created_at"]
    assert maintenance["scheduled_for"] == "2026-12-08T02:00:00.000Z"
    assert datetime.fromisoformat(maintenance["started_at"]) <= NOW


WIDGET_HOST = """<!doctype html>
<html><head><meta charset="utf-8"><title>Host</title></head>
<body><div data-heliograph data-components="api,docs"></div><script src="{site}/embed/status.js" async></script></body></html>
"""


ITEMS = "items => items.map(i => i.innerText.replace(/\\s+/g, ' ').trim())"


@contextlib.contextmanager
def widget_page(browser, build: Path, tmp_path: Path, reader_at: datetime | None = None):
    """The script widget on a page of another origin, read in Chromium (with its clock set to
    `reader_at`, if given) once it has drawn the list: the page and the widget's box. Playwright's
    CSS reaches into the widget's open shadow root."""
    from servers import static_server
    from test_embed import static_host

    host = tmp_path / "host"
    host.mkdir()
    with static_host(build) as site_url:
        (host / "index.html").write_text(WIDGET_HOST.format(site=site_url))
        with static_server(host) as host_url:
            page = browser.new_page()
            if reader_at is not None:
                page.clock.install(time=reader_at)
            page.goto(host_url + "/index.html")
            widget = page.locator("[data-heliograph] .hg")
            widget.locator("li").first.wait_for()  # api/status.json fetched
            yield page, widget
            page.close()


def test_script_widget_on_another_origin_warns_of_stale_data(browser, tmp_path):
    build = built_site(tmp_path, timedelta(days=11))
    with widget_page(browser, build, tmp_path) as (_, widget):
        since = f"No check result since {NOW - timedelta(days=11):%Y-%m-%d %H:%M} UTC"
        assert widget.locator("li").evaluate_all(ITEMS) == [
            f"API Operational (stale) {since}: the status shown may be out of date.", "Docs Operational"]
        assert widget.locator(":scope > .hg-stale").inner_text() == f"API: {since}: the status shown may be out of date."


def _visible_text(page, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all(
        "nodes => nodes.filter(n => n.checkVisibility()).map(n => n.innerText.replace(/\\s+/g, ' ').trim())")


def test_the_embed_read_after_the_page_missed_a_rebuild_says_its_data_may_be_out_of_date(browser, tmp_path):
    """Built 4 minutes after the last result, and read in Chromium with its clock set. Between
    hourly rebuilds a page's newest result is normally up to an hour old: an hour and a half later
    nothing is stale. Two hours after the build the page has missed a rebuild (checks or deploys
    stopped), and the box says what a build then would."""
    from test_embed import static_host

    build = built_site(tmp_path, timedelta(minutes=4))
    note = f"No check result since {NOW - timedelta(minutes=4):%b %-d, %Y %H:%M} UTC: the status shown may be out of date."
    with static_host(build) as site_url:
        page = browser.new_page()
        page.clock.install(time=NOW + timedelta(minutes=1))
        page.goto(site_url + "/embed/index.html?components=all")
        page.clock.run_for(89 * 60 * 1000)  # 13:30: the page is one rebuild old
        assert _visible_text(page, ".hg-stale") == []
        assert _visible_text(page, "li") == ["API Operational", "Docs Operational"]
        page.clock.run_for(31 * 60 * 1000)  # 14:01: status.model.REBUILT_WITHIN after the build
        assert _visible_text(page, "#hg-stale") == [f"API: {note}"]
        assert _visible_text(page, "li") == [f"API Operational (stale) {note}", "Docs Operational"]
        page.close()
        # Opened after that moment, the box says so at once.
        page = browser.new_page()
        page.clock.install(time=NOW + timedelta(hours=3))
        page.goto(site_url + "/embed/index.html?components=api")
        assert _visible_text(page, ".hg-stale") == [f"API: {note}", note]
        page.close()


def test_the_script_widget_judges_staleness_when_it_is_read(browser, tmp_path):
    build = built_site(tmp_path, timedelta(minutes=4))
    status = json.loads((build / "api" / "status.json").read_text())
    assert status["outdated_from"] == (NOW + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert [c["stale"] for c in status["components"]] == [False, False]
    since = f"No check result since {NOW - timedelta(minutes=4):%Y-%m-%d %H:%M} UTC"
    with widget_page(browser, build, tmp_path, reader_at=NOW + timedelta(minutes=1)) as (page, widget):
        page.clock.run_for(89 * 60 * 1000)
        assert widget.locator("li").evaluate_all(ITEMS) == ["API Operational", "Docs Operational"]
        page.clock.run_for(31 * 60 * 1000)
        assert widget.locator("li").evaluate_all(ITEMS) == [
            f"API Operational (stale) {since}: the status shown may be out of date.", "Docs Operational"]
        assert widget.locator(":scope > .hg-stale").inner_text() == f"API: {since}: the status shown may be out of date."


def test_the_script_widget_on_a_page_left_open_shows_a_newer_build(browser, tmp_path):
    """It asks for api/status.json again every 5 minutes: a component that went down and was
    deployed meanwhile is shown down without reloading the page."""
    import time

    build = built_site(tmp_path, timedelta(minutes=4))
    site = build.parent
    with widget_page(browser, build, tmp_path, reader_at=NOW + timedelta(minutes=1)) as (page, widget):
        first = widget.locator("li").first
        assert first.inner_text().split("\n")[-1] == "Operational"
        append_result(site, NOW + timedelta(minutes=2), "down")
        time.sleep(1.1)  # the test's server says a file changed by its time to the second (Last-Modified)
        rebuilt = invoke("--site", str(site), "build", "--now", (NOW + timedelta(minutes=3)).isoformat())
        assert rebuilt.code == 0, rebuilt.stderr
        page.clock.run_for(4 * 60 * 1000)  # 12:05: not yet 5 minutes since it asked
        assert first.inner_text().split("\n")[-1] == "Operational"
        page.clock.run_for(2 * 60 * 1000)  # 12:07: it asks again
        deadline = time.monotonic() + 10
        while first.inner_text().split("\n")[-1] != "Major outage" and time.monotonic() < deadline:
            time.sleep(0.1)  # the answer arrives on the real clock
        assert first.inner_text().split("\n")[-1] == "Major outage"
