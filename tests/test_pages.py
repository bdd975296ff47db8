"""The rendered demo site, read back as a reader sees it."""

import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from generator.engine.build import build
from generator.cli import main
from pagetools import broken_links, page, text, texts
from conftest import DEMO_NOW, write_site


@pytest.fixture
def built(demo_copy):
    build(demo_copy, now=DEMO_NOW)
    return demo_copy / "build"


def test_index_shows_banner_active_incident_maintenance_and_components(built):
    index = page(built, "index.html")
    assert texts(index, "//section[contains(@class,'banner')]//h1") == ["Minor Service Outage"]
    active = index.xpath("//section[h2='Active incidents']//article")
    assert len(active) == 1
    assert "Delayed webhook deliveries" in text(active[0]) and "Identified" in text(active[0])
    assert "rolling it back" in text(active[0])
    assert "Some webhook events are arriving" not in text(active[0])  # only the latest update on the front page
    upcoming = text(index.xpath("//section[h2='Scheduled maintenance']")[0])
    assert "Database upgrade" in upcoming and "Dec 8, 2026 03:00 CET" in upcoming
    groups = index.xpath("//li[@class='group']")
    assert [text(g.xpath('.//summary/span[@class="group-name"]')[0]) for g in groups] == \
        ["Core", "Payment rails", "Website and support"]
    webhooks = index.xpath("//li[@class='component'][.//a[text()='Webhooks']]")[0]
    assert "Degraded performance" in text(webhooks)
    # A group with trouble is open; a healthy one is collapsed but still states its status.
    assert groups[0].xpath(".//details/@open") and not groups[1].xpath(".//details/@open")
    assert "Operational" in text(groups[1].xpath(".//summary")[0])
    past = text(index.xpath("//section[h2='Past incidents']")[0])
    assert "Elevated API error rates" in past and "SEPA connection certificate rotation" in past


def test_status_is_never_colour_alone(built):
    index = page(built, "index.html")
    for status in index.xpath("//span[contains(@class,'status ')]"):
        assert status.xpath(".//svg/use"), "an icon"
        assert text(status) in {"Operational", "Degraded performance", "Partial outage", "Major outage",
                                "Under maintenance"}


def test_times_are_local_with_zone_and_machine_readable(built):
    incident = page(built, "incidents/2026-11-18-api-errors/index.html")
    stamps = incident.xpath("//ol[@class='timeline']//time")
    assert [(t.get("datetime"), text(t)) for t in stamps] == [
        ("2026-11-18T14:52:00Z", "Nov 18, 2026 15:52 CET"),
        ("2026-11-18T14:31:00Z", "Nov 18, 2026 15:31 CET"),
        ("2026-11-18T14:15:00Z", "Nov 18, 2026 15:15 CET"),
        ("2026-11-18T14:04:00Z", "Nov 18, 2026 15:04 CET"),
    ]
    assert "Times are shown in Europe/Berlin" in text(incident.xpath("//footer")[0])


def test_incident_page_has_full_timeline_duration_components_and_postmortem(built):
    incident = page(built, "incidents/2026-11-18-api-errors/index.html")
    assert texts(incident, "//h1") == ["Elevated API error rates Resolved"]
    assert texts(incident, "//li[@class='update']/p[@class='update-head']/strong") == \
        ["Resolved", "Monitoring", "Identified", "Investigating"]
    facts = dict(zip(texts(incident, "//dl[@class='facts']/dt"), texts(incident, "//dl[@class='facts']/dd")))
    assert facts["Duration"] == "48 min"
    assert facts["Impact"] == "Major"
    assert facts["Affected"] == "API (partial outage) Dashboard (degraded performance)"
    assert "database failover" in text(incident.xpath("//section[@class='postmortem']")[0])
    assert incident.xpath("//li[@class='update']//code[text()='/v1/*']")


def test_open_incident_duration_says_so_far(built):
    incident = page(built, "incidents/2026-11-23-webhook-delays/index.html")
    facts = dict(zip(texts(incident, "//dl[@class='facts']/dt"), texts(incident, "//dl[@class='facts']/dd")))
    assert facts["Duration"] == "2 h 48 min so far"


def test_history_lists_every_incident_by_month(built):
    history = page(built, "history/index.html")
    assert texts(history, "//section[@class='month']/h2") == ["December 2026", "November 2026"]
    assert len(history.xpath("//ul[@class='history-list']/li")) == 4


def test_history_is_paginated(demo_copy):
    (demo_copy / "site.yaml").write_text((demo_copy / "site.yaml").read_text()
                                         .replace("recent_incident_days: 14", "recent_incident_days: 14\n  history_page_size: 3"))
    build(demo_copy, now=DEMO_NOW)
    first, second = page(demo_copy / "build", "history/index.html"), page(demo_copy / "build", "history/2/index.html")
    assert len(first.xpath("//ul[@class='history-list']/li")) == 3
    assert len(second.xpath("//ul[@class='history-list']/li")) == 1
    assert first.xpath("//a[@rel='next']/@href") == ["../history/2/index.html"]
    assert second.xpath("//a[@rel='prev']/@href") == ["../../history/index.html"]


def test_component_pages_exist_for_every_component(built):
    api = page(built, "components/api/index.html")
    assert "Checked automatically" in text(api)
    assert "Elevated API error rates" in text(api) and "Database upgrade" in text(api)
    support = page(built, "components/support/index.html")
    assert "not checked automatically" in text(support)


def test_every_link_works_when_opened_from_disk(built):
    assert broken_links(built) == []


def test_sub_path_base_url(demo_copy):
    build(demo_copy, now=DEMO_NOW, base_url="https://northwind.github.io/status")
    built = demo_copy / "build"
    assert broken_links(built) == []
    index = page(built, "index.html")
    assert index.xpath("//link[@rel='canonical']/@href") == ["https://northwind.github.io/status/"]
    incident = page(built, "incidents/2026-11-18-api-errors/index.html")
    assert incident.xpath("//link[@rel='canonical']/@href") == \
        ["https://northwind.github.io/status/incidents/2026-11-18-api-errors/"]
    not_found = page(built, "404.html")
    assert set(not_found.xpath("//a/@href")) >= {"/status/index.html", "/status/history/index.html"}
    assert not_found.xpath("//link[@rel='stylesheet']/@href") == ["/status/assets/style.css"]
    urls = [loc.text for loc in ET.parse(built / "sitemap.xml").getroot().iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://northwind.github.io/status/" in urls
    assert all(u.startswith("https://northwind.github.io/status/") for u in urls)
    assert not (built / "CNAME").exists()
    assert "Sitemap: https://northwind.github.io/status/sitemap.xml" in (built / "robots.txt").read_text()


def test_custom_domain_files(built):
    assert (built / "CNAME").read_text() == "status.northwind.example\n"
    assert (built / ".nojekyll").exists()
    assert (built / "assets" / "style.css").stat().st_size < 15_000


def test_no_javascript_on_pages(built):
    for html_file in built.rglob("*.html"):
        if html_file.relative_to(built).as_posix() == "embed/index.html":
            continue  # the iframe widget's one known script; test_hostile_input pins it to the theme's file
        assert not page(built, str(html_file.relative_to(built))).xpath("//script[not(@type='application/ld+json')]")


def test_rebuild_writes_only_changes_and_removes_stale_outputs(demo_copy):
    build(demo_copy, now=DEMO_NOW)
    again = build(demo_copy, now=DEMO_NOW)
    assert (again.written, again.unchanged, again.removed) == (0, again.files, 0)  # reproducible: nothing rewritten
    (demo_copy / "incidents" / "2026-11-12-sepa-maintenance.md").unlink()
    (demo_copy / "build" / "my-own-file.txt").write_text("keep me")
    third = build(demo_copy, now=DEMO_NOW)
    assert third.removed == 1
    assert not (demo_copy / "build" / "incidents" / "2026-11-12-sepa-maintenance").exists()
    assert (demo_copy / "build" / "my-own-file.txt").read_text() == "keep me"


def test_broken_incident_fails_the_build_and_keeps_last_good_output(demo_copy):
    build(demo_copy, now=DEMO_NOW)
    before = (demo_copy / "build" / "index.html").read_bytes()
    (demo_copy / "incidents" / "2026-11-23-webhook-delays.md").write_text("---\ntitle: x\n---\n## soon · Fixed\n")
    result = CliRunner().invoke(main, ["--site", str(demo_copy), "build", "--now", "2026-11-23T12:00:00Z"])
    assert result.exit_code == 1
    assert "incidents/2026-11-23-webhook-delays.md:4:4: error: unparseable time 'soon'" in result.output
    assert "build failed" in result.output
    assert (demo_copy / "build" / "index.html").read_bytes() == before


def test_theme_setting_and_site_templates_override(tmp_path):
    root = write_site(tmp_path / "s", "site: {title: T, base_url: 'https://s.example/', theme: dark}\ncomponents: []\n")
    (root / "templates").mkdir()
    (root / "templates" / "404.html").write_text("{% extends 'base.html' %}{% block main %}Custom 404{% endblock %}")
    build(root, now=DEMO_NOW)
    assert page(root / "build", "index.html").get("data-theme") == "dark"
    assert "Custom 404" in text(page(root / "build", "404.html"))
    assert "All Systems Operational" in text(page(root / "build", "index.html"))
    assert "No incidents in the last 14 days" in text(page(root / "build", "index.html"))


def test_uptime_bars_name_each_days_incidents(built):
    index = page(built, "index.html")

    def day_titles(component: str) -> list[str]:
        row = index.xpath(f"//li[@class='component'][.//a[text()='{component}']]")[0]
        return [t for t in row.xpath(".//svg[@class='bars']//title/text()") if t.startswith("Nov 18, 2026")]

    [api_day] = day_titles("API")
    assert api_day.endswith("; Incident: Elevated API error rates")
    assert "% up" in api_day
    [dashboard_day] = day_titles("Dashboard")
    assert "Incident: Elevated API error rates" in dashboard_day
    bars = index.xpath("//li[@class='component'][.//a[text()='API']]//svg[@class='bars']/rect")
    assert len(bars) == 90
    assert bars[0].xpath("title/text()")[0].endswith("no data")  # before the demo's history began
