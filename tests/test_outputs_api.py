"""api/status.json, api/history.csv, api/openapi.json, llms.txt, _headers and schema.org data."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import lxml.html
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from generator.engine.build import build, render_site
from generator.engine.inputs import read_inputs
from generator.checks.result import CheckResult
from generator.history import ComponentHistory, DayStats
from generator.status.model import page_status
from conftest import DEMO_NOW, REPO, copy_demo, write_site

V2_SCHEMAS = {
    "api/v2/summary.json": "Summary", "api/v2/status.json": "StatusResponse",
    "api/v2/components.json": "ComponentsResponse", "api/v2/incidents.json": "IncidentsResponse",
    "api/v2/incidents/unresolved.json": "IncidentsResponse",
    "api/v2/scheduled-maintenances.json": "ScheduledMaintenancesResponse",
    "api/v2/scheduled-maintenances/upcoming.json": "ScheduledMaintenancesResponse",
    "api/v2/scheduled-maintenances/active.json": "ScheduledMaintenancesResponse",
    "api/status.json": "HeliographStatus",
}


fresh_demo = copy_demo  # for fixtures shared by a module's read-only tests


def sample_history(component_id: str, now: datetime, *, uptime_30d: float | None = 0.99987,
                   latency_ms: float = 120.0, days: int = 90) -> ComponentHistory:
    """A component checked every 5 minutes for `days` days, one failure a day."""
    day_stats = [DayStats(day=(now - timedelta(days=offset)).date(), checks=288, up=286, degraded=1, down=1,
                          downtime_seconds=300.0, latency_p50=latency_ms, latency_p95=latency_ms * 2,
                          latency_max=latency_ms * 5, uptime=287 / 288)
                 for offset in range(days - 1, -1, -1)]
    checked = now - timedelta(minutes=2)
    return ComponentHistory(
        component=component_id,
        latest=CheckResult(component_id, checked, "up", "ok", "HTTP 200", latency_ms, "ci"),
        days=day_stats,
        uptime={"24h": 1.0, "7d": 0.9991, "30d": uptime_30d, "90d": None},
        latency_series=[(now - timedelta(hours=hours), latency_ms + hours) for hours in range(48)],
        locations=("ci",),
        last_checked=checked,
        response_time_ms=latency_ms + 12,
    )


def render_with_histories(root: Path, histories: dict[str, ComponentHistory], now: datetime = DEMO_NOW
                          ) -> dict[str, bytes]:
    inputs = read_inputs(root, now=now)
    latest = {cid: h.latest for cid, h in histories.items() if h.latest}
    status = page_status(inputs.site.components, inputs.incidents.incidents, now, latest)
    return render_site(replace(inputs, histories=histories, status=status))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    demo = fresh_demo(tmp_path_factory.mktemp("api") / "demo")
    return render_with_histories(demo, {"api": sample_history("api", DEMO_NOW),
                                        "dns": sample_history("dns", DEMO_NOW, uptime_30d=None, days=3)})


def openapi_validator(openapi: dict, schema_name: str) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(openapi, DRAFT202012))
    return jsonschema.Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{schema_name}"},
                                           registry=registry)


def test_status_json_says_what_the_page_says(files):
    status = json.loads(files["api/status.json"])
    assert status["status"] == {"indicator": "minor", "description": "Minor Service Outage"}
    components = {c["id"]: c for c in status["components"]}
    assert list(components) == ["api", "dashboard", "webhooks", "cards", "sepa", "payouts", "docs", "dns", "support"]
    api = components["api"]
    assert api["uptime"] == {"24h": 1.0, "7d": 0.9991, "30d": 0.99987, "90d": None}
    assert api["response_time_ms"] == 132.0  # the history's median of the last 24 hours
    assert api["latest_check"] == {"status": "up", "time": "2026-11-23T11:58:00.000Z", "latency_ms": 120.0}
    assert api["url"] == "https://status.northwind.example/components/api/"
    assert (api["monitored"], api["stale"], api["group"]) == (True, False, "Core")
    webhooks = components["webhooks"]
    assert (webhooks["status"], webhooks["status_label"]) == ("degraded_performance", "Degraded performance")
    assert webhooks["open_incidents"] == ["2026-11-23-webhook-delays"]
    assert webhooks["monitored"] is False and webhooks["uptime"]["30d"] is None and webhooks["latest_check"] is None
    incident, = status["incidents"]
    assert incident["url"] == "https://status.northwind.example/incidents/2026-11-23-webhook-delays/"
    assert incident["components"] == [{"id": "webhooks", "effect": "degraded_performance"}]
    assert incident["latest_update"]["status"] == "identified"
    assert "not lost" in incident["latest_update"]["text"] and "<strong>not lost</strong>" in incident["latest_update"]["html"]
    assert [m["id"] for m in status["maintenance"]["upcoming"]] == ["2026-12-08-database-upgrade"]
    assert status["groups"][0] == {"id": "group-core", "name": "Core", "status": "degraded_performance",
                                   "components": ["api", "dashboard", "webhooks"]}


def test_openapi_describes_the_files_truthfully(files):
    openapi = json.loads(files["api/openapi.json"])
    assert openapi["openapi"].startswith("3.1")
    assert openapi["servers"] == [{"url": "https://status.northwind.example"}]
    for path, schema in V2_SCHEMAS.items():
        openapi_validator(openapi, schema).validate(json.loads(files[path]))
    for path in [p for p in files if p.startswith("badges/") and p.endswith(".json")]:
        openapi_validator(openapi, "ShieldsEndpoint").validate(json.loads(files[path]))
    # Every described path exists, for each component and window.
    for template in openapi["paths"]:
        for component in ("api", "support"):
            for window in ("24h", "90d"):
                path = template.format(component=component, window=window).lstrip("/")
                assert path in files, template
    parameter = openapi["paths"]["/badges/{component}/status.svg"]["get"]["parameters"][0]
    assert parameter["schema"]["enum"][:3] == ["api", "dashboard", "webhooks"]


def test_openapi_is_a_valid_openapi_3_1_document(files):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(json.loads(files["api/openapi.json"]))


def test_history_csv_has_a_row_per_monitored_component_per_day(files):
    rows = list(csv.DictReader(io.StringIO(files["api/history.csv"].decode())))
    assert files["api/history.csv"].startswith(b"date,component_id,component_name,uptime_percent,checks,up,degraded,")
    assert b"\r\n" in files["api/history.csv"]
    assert len([r for r in rows if r["component_id"] == "api"]) == 90
    assert len([r for r in rows if r["component_id"] == "dns"]) == 3
    today = [r for r in rows if r["date"] == "2026-11-23"]
    assert [r["component_id"] for r in today] == ["api", "dns"]  # by day, then in site order
    assert today[0] == {
        "date": "2026-11-23", "component_id": "api", "component_name": "API", "uptime_percent": "99.652",
        "checks": "288", "up": "286", "degraded": "1", "down": "1", "maintenance_checks": "0",
        "downtime_seconds": "300", "latency_p50_ms": "120", "latency_p95_ms": "240", "latency_max_ms": "600",
    }
    assert rows == sorted(rows, key=lambda r: r["date"])


def test_history_csv_never_rounds_up_and_keeps_names_out_of_formulas(tmp_path):
    root = write_site(tmp_path / "site", """\
        site: {title: T, base_url: "https://t.example/"}
        components:
          - {id: api, name: "=HYPERLINK(\\"https://evil.example\\")"}
        """)
    history = sample_history("api", DEMO_NOW, days=1)
    history = replace(history, days=[history.days[0]._replace(uptime=0.9999999)])
    rows = list(csv.DictReader(io.StringIO(render_with_histories(root, {"api": history})["api/history.csv"].decode())))
    assert rows[0]["uptime_percent"] == "99.999"
    assert rows[0]["component_name"].startswith("'=")


def test_outputs_with_real_history_files(demo_copy):
    """Through the history stage: results appended by `heliograph check` reach the CSV, status.json and badges."""
    from generator.history import append_results
    shutil.rmtree(demo_copy / "history")  # only these results, not the demo's shipped month
    results = [CheckResult("api", DEMO_NOW - timedelta(minutes=5 * n), "down" if n == 3 else "up", "ok", "", 100.0 + n, "ci")
               for n in range(1, 24)]
    append_results(demo_copy / "history", results)
    build(demo_copy, now=DEMO_NOW)
    output = demo_copy / "build"
    rows = [r for r in csv.DictReader(io.StringIO((output / "api/history.csv").read_text()))
            if r["date"] == "2026-11-23" and r["component_id"] == "api"]
    assert rows and rows[0]["checks"] == "23" and rows[0]["down"] == "1"
    api = next(c for c in json.loads((output / "api/status.json").read_bytes())["components"] if c["id"] == "api")
    assert api["uptime"]["24h"] == pytest.approx(22 / 23)
    assert json.loads((output / "badges/api/uptime-24h.json").read_bytes())["message"] == "95.65%"


def test_every_output_exists_without_any_history(tmp_path):
    root = write_site(tmp_path / "site")
    build(root, now=DEMO_NOW)
    output = root / "build"
    for path in ("api/status.json", "api/history.csv", "api/openapi.json", "llms.txt", "_headers", "feed.json",
                 "maintenance.ics", "badges/status.svg", "badges/api/uptime-90d.svg", "badges/api/response-time.json",
                 "embed/index.html", "embed/status.js", "components/db/feed.atom"):
        assert (output / path).is_file(), path
    assert (output / "api/history.csv").read_text().count("\n") == 1  # the header row
    assert json.loads((output / "badges/api/uptime-90d.json").read_bytes())["message"] == "no data"


def test_llms_txt_summarises_status_components_incidents_and_links(files):
    text = files["llms.txt"].decode()
    assert text.startswith("# Northwind Pay Status\n\n> Live and past status of the Northwind Pay API")
    assert "Current status: **Minor Service Outage** (as of 2026-11-23 12:00 UTC)" in text
    assert "- [API](https://status.northwind.example/components/api/) (Core): Operational; uptime over 30 days: 99.98%; " \
           "response time: 132 ms" in text
    assert "- [Webhooks](https://status.northwind.example/components/webhooks/) (Core): Degraded performance\n" in text
    active = text.split("## Active incidents")[1].split("##")[0]
    assert "[Delayed webhook deliveries](https://status.northwind.example/incidents/2026-11-23-webhook-delays/): " \
           "identified, minor impact, since 2026-11-23 09:12 UTC; affects Webhooks." in active
    assert "## Scheduled maintenance\n\n- [Database upgrade]" in text
    assert "(https://status.northwind.example/api/v2/summary.json)" in text
    assert re.search(r"^## Optional$", text, re.M)
    # Every link is absolute.
    assert all(url.startswith(("https://", "mailto:")) for url in re.findall(r"\]\(([^)]+)\)", text))


def parse_headers_file(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    rules: list[tuple[str, list[tuple[str, str]]]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0].isspace():
            name, value = line.strip().split(":", 1)
            rules[-1][1].append((name.strip(), value.strip()))
        else:
            rules.append((line.strip(), []))
    return rules


def headers_for(rules, path: str) -> dict[str, list[str]]:
    matched: dict[str, list[str]] = {}
    for pattern, headers in rules:
        regex = "^" + re.escape(pattern).replace(r"\*", ".*") + "$"
        if re.match(regex, path):
            for name, value in headers:
                matched.setdefault(name.lower(), []).append(value)
    return matched


def test_headers_give_cors_types_and_short_caching_without_conflicts(files):
    rules = parse_headers_file(files["_headers"].decode())
    assert len(rules) <= 100  # Cloudflare Pages' limit
    expected_types = {"feed.json": "application/feed+json", "feed.atom": "application/atom+xml",
                      "feed.rss": "application/rss+xml", "history.rss": "application/rss+xml",
                      "maintenance.ics": "text/calendar", "api/history.csv": "text/csv",
                      "embed/status.js": "text/javascript"}
    for path in files:
        headers = headers_for(rules, "/" + path)
        # A header set by two matching rules is joined with a comma by Cloudflare: never let that happen.
        assert all(len(values) == 1 for values in headers.values()), (path, headers)
        if path.startswith(("api/", "badges/", "embed/")) or path.endswith((".atom", ".rss", ".json", ".ics")):
            assert headers.get("access-control-allow-origin") == ["*"], path
            max_age = int(re.search(r"max-age=(\d+)", headers["cache-control"][0]).group(1))
            assert max_age <= 300, path
        if path in expected_types:
            assert headers["content-type"][0].startswith(expected_types[path]), path
    assert "access-control-allow-origin" not in headers_for(rules, "/index.html")


def test_headers_follow_a_sub_path(tmp_path):
    root = write_site(tmp_path / "site")
    build(root, now=DEMO_NOW, base_url="https://you.github.io/status/")
    rules = parse_headers_file((root / "build/_headers").read_text())
    assert all(pattern.startswith("/status/") for pattern, _ in rules)


def test_pages_advertise_feeds_and_carry_schema_org_data(demo_copy):
    build(demo_copy, now=DEMO_NOW)
    output = demo_copy / "build"
    index = lxml.html.fromstring((output / "index.html").read_bytes())
    alternates = {link.get("type"): link.get("href") for link in index.xpath("//head/link[@rel='alternate']")}
    assert alternates["application/atom+xml"] == "feed.atom"
    assert alternates["application/rss+xml"] == "feed.rss"
    assert alternates["application/feed+json"] == "feed.json"
    assert alternates["text/calendar"] == "maintenance.ics"
    data = json.loads(index.xpath("//script[@type='application/ld+json']")[0].text)
    assert data["@type"] == "WebPage" and data["description"] == "Minor Service Outage"
    assert data["url"] == "https://status.northwind.example/"
    component = lxml.html.fromstring((output / "components/api/index.html").read_bytes())
    assert "../../components/api/feed.atom" in component.xpath("//head/link[@rel='alternate']/@href")
    incident = lxml.html.fromstring((output / "incidents/2026-11-18-api-errors/index.html").read_bytes())
    data = json.loads(incident.xpath("//script[@type='application/ld+json']")[0].text)
    assert data["@type"] == "LiveBlogPosting"
    assert data["headline"] == "Elevated API error rates"
    assert (data["coverageStartTime"], data["coverageEndTime"]) == ("2026-11-18T14:04:00Z", "2026-11-18T14:52:00Z")
    assert [u["headline"] for u in data["liveBlogUpdate"]] == ["Resolved", "Monitoring", "Identified", "Investigating"]
    assert data["liveBlogUpdate"][-1]["articleBody"].startswith("We are seeing elevated 5xx rates")
    assert [a["name"] for a in data["about"]] == ["API", "Dashboard"]
    active = lxml.html.fromstring((output / "incidents/2026-11-23-webhook-delays/index.html").read_bytes())
    assert "coverageEndTime" not in json.loads(active.xpath("//script[@type='application/ld+json']")[0].text)


def test_text_formats_carry_characters_not_html_entities():
    from generator.site.text import plain
    assert plain("Q&A for R&D: a < b, **bold**, `code` <img src=x onerror=alert(1)>") == \
        "Q&A for R&D: a < b, bold, code"
