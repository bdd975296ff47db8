"""Feeds (RSS, Atom, JSON Feed) read back with feedparser and a JSON Feed schema; the calendar with icalendar."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import icalendar
import jsonschema
import pytest

from generator.engine.build import build
from generator.render.ics import fold
from test_outputs_api import fresh_demo
from conftest import DEMO_NOW, write_site

BASE = "https://status.northwind.example/"
# The demo's incidents by the time of their newest update, newest first.
BY_UPDATE = ["Delayed webhook deliveries", "Database upgrade", "Elevated API error rates",
             "SEPA connection certificate rotation"]

RFC3339 = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"}
URL = {"type": "string", "pattern": "^https?://"}
JSON_FEED_1_1 = {  # https://jsonfeed.org/version/1.1, required and typed fields
    "type": "object",
    "required": ["version", "title", "items"],
    "not": {"required": ["author"]},  # 1.0's singular author is deprecated
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string", "minLength": 1},
        "home_page_url": URL, "feed_url": URL, "description": {"type": "string"}, "icon": URL, "favicon": URL,
        "language": {"type": "string"}, "expired": {"type": "boolean"},
        "authors": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "url": URL, "avatar": URL}, "anyOf": [
            {"required": ["name"]}, {"required": ["url"]}, {"required": ["avatar"]}]}},
        "items": {"type": "array", "items": {
            "type": "object",
            "required": ["id"],
            "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
            "not": {"required": ["author"]},
            "properties": {
                "id": {"type": "string", "minLength": 1}, "url": URL, "external_url": URL,
                "title": {"type": "string"}, "content_html": {"type": "string"}, "content_text": {"type": "string"},
                "summary": {"type": "string"}, "image": URL, "banner_image": URL,
                "date_published": RFC3339, "date_modified": RFC3339,
                "tags": {"type": "array", "items": {"type": "string"}}, "language": {"type": "string"},
            },
        }},
    },
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    demo = fresh_demo(tmp_path_factory.mktemp("feeds") / "demo")
    build(demo, now=DEMO_NOW)
    return demo / "build"


def parse(path: Path):
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


@pytest.mark.parametrize("name", ["feed.atom", "feed.rss", "history.atom", "history.rss"])
def test_page_feeds_list_every_incident_with_its_trail(built, name):
    feed = parse(built / name)
    assert feed.feed.title == "Northwind Pay Status"
    assert feed.feed.link == BASE
    assert any(link.get("rel") == "self" and link.href == BASE + name for link in feed.feed.links)
    assert [e.title for e in feed.entries] == BY_UPDATE
    errors = feed.entries[2]
    url = BASE + "incidents/2026-11-18-api-errors/"
    assert errors.id == url and errors.link == url
    assert errors.published_parsed[:5] == (2026, 11, 18, 14, 4)
    content = errors.content[0].value if "content" in errors else errors.description
    # The trail, newest first, each update as its time, its status in bold and its body.
    positions = [content.index(f"<strong>{s}</strong>") for s in ("Resolved", "Monitoring", "Identified", "Investigating")]
    assert positions == sorted(positions)
    assert re.search(r"<small>Nov 18, 2026 15:52 CET</small><br ?/?><strong>Resolved</strong>", content)
    assert "elevated <strong>5xx</strong> rates on <code>/v1/*</code>" in content
    assert "API (partial outage), Dashboard (degraded performance)" in content
    assert "<strong>Postmortem</strong>" in content and "stale connections" in content
    assert [t.label or t.term for t in errors.tags] == ["API", "Dashboard"]
    maintenance = feed.entries[1]
    maintenance_content = maintenance.content[0].value if "content" in maintenance else maintenance.description
    assert "<strong>Scheduled maintenance</strong>: Dec 8, 2026 03:00 CET – Dec 8, 2026 04:00 CET" in maintenance_content


def test_atom_dates_follow_the_newest_update(built):
    feed = parse(built / "feed.atom")
    assert feed.feed.updated_parsed[:5] == (2026, 11, 23, 10, 5)
    errors = feed.entries[2]
    assert errors.updated_parsed[:5] == (2026, 11, 18, 14, 52)
    assert errors.summary.startswith("Resolved: Error rates have been at normal levels")
    assert feed.feed.id == BASE


def test_an_added_update_moves_updated_but_never_the_id(demo_copy):
    build(demo_copy, now=DEMO_NOW)
    before = parse(demo_copy / "build/feed.atom").entries[0]
    path = demo_copy / "incidents/2026-11-23-webhook-delays.md"
    text = path.read_text()
    front_matter_end = text.index("\n## ")
    path.write_text(text[:front_matter_end] + "\n## 2026-11-23 11:40 UTC · Resolved\nAll delayed events are delivered.\n"
                    + text[front_matter_end:])
    build(demo_copy, now=DEMO_NOW)
    feed = parse(demo_copy / "build/feed.atom")
    after = feed.entries[0]
    assert after.id == before.id and after.link == before.link
    assert after.updated_parsed[:5] == (2026, 11, 23, 11, 40) != before.updated_parsed[:5]
    assert feed.feed.updated_parsed[:5] == (2026, 11, 23, 11, 40)
    assert "All delayed events are delivered." in after.content[0].value
    assert parse(demo_copy / "build/feed.rss").entries[0].id == before.id
    assert f'<guid isPermaLink="true">{before.id}</guid>'.encode() in (demo_copy / "build/feed.rss").read_bytes()


def test_component_feeds_hold_what_concerns_the_component(built):
    api = parse(built / "components/api/feed.atom")
    assert api.feed.title == "API · Northwind Pay Status"
    assert api.feed.link == BASE + "components/api/"
    assert [e.title for e in api.entries] == ["Database upgrade", "Elevated API error rates"]
    assert [e.title for e in parse(built / "components/sepa/feed.rss").entries] == ["SEPA connection certificate rotation"]
    assert parse(built / "components/cards/feed.atom").entries == []


def test_json_feed_follows_the_spec(built):
    document = json.loads((built / "feed.json").read_bytes())
    jsonschema.validate(document, JSON_FEED_1_1)
    assert document["feed_url"] == BASE + "feed.json" and document["home_page_url"] == BASE
    assert [i["title"] for i in document["items"]] == BY_UPDATE
    errors = document["items"][2]
    assert errors["id"] == errors["url"] == BASE + "incidents/2026-11-18-api-errors/"
    assert (errors["date_published"], errors["date_modified"]) == ("2026-11-18T14:04:00Z", "2026-11-18T14:52:00Z")
    assert errors["tags"] == ["API", "Dashboard"]
    assert errors["_heliograph"]["kind"] == "incident" and errors["_heliograph"]["components"] == ["api", "dashboard"]
    upgrade = document["items"][1]
    assert upgrade["_heliograph"]["scheduled_for"] == "2026-12-08T02:00:00Z"
    assert "Scheduled maintenance" in upgrade["content_html"]


def test_a_page_without_incidents_has_valid_empty_feeds(tmp_path):
    root = write_site(tmp_path / "site")
    build(root, now=DEMO_NOW)
    for name in ("feed.atom", "feed.rss", "history.atom", "components/api/feed.rss"):
        assert parse(root / "build" / name).entries == []
    jsonschema.validate(json.loads((root / "build/feed.json").read_bytes()), JSON_FEED_1_1)


def test_feeds_stay_well_formed_xml_whatever_a_title_holds(tmp_path):
    """The feeds are written without an XML library: every character a title may hold is either
    escaped or, where XML 1.0 cannot hold it at all, dropped, and the rest reads back as written."""
    import lxml.etree

    title = 'Ünïcode 🚀 & <b>"quotes"</b> \'apostrophes\' ]]> tab\there \x01\x0b\x1f\ufffe end'
    # YAML's double quotes as JSON writes them, but U+FFFE, which a YAML file may only hold escaped.
    quoted = json.dumps(title, ensure_ascii=False).replace("\ufffe", "\\uFFFE")
    root = write_site(tmp_path / "site", incidents={"2026-11-20-odd.md": (
        f"---\ntitle: {quoted}\ncomponents: {{api: major_outage}}\n---\n\n"
        "## 2026-11-20 10:00 UTC - Investigating\n\nLooking into it.\n")})
    build(root, now=DEMO_NOW)
    shown = 'Ünïcode 🚀 & <b>"quotes"</b> \'apostrophes\' ]]> tab\there  end'
    for name in ("feed.atom", "feed.rss", "components/api/feed.atom", "components/api/feed.rss"):
        data = (root / "build" / name).read_bytes()
        lxml.etree.fromstring(data)  # well-formed, or this raises
        assert parse(root / "build" / name).entries[0].title == shown, name
    categories = [c.get("label") for c in lxml.etree.fromstring((root / "build/feed.atom").read_bytes()).iter(
        "{http://www.w3.org/2005/Atom}category")]
    assert categories == ["API"]


# --- maintenance.ics ------------------------------------------------------------------------


def test_calendar_parses_and_lists_maintenance(built):
    raw = (built / "maintenance.ics").read_bytes()
    calendar = icalendar.Calendar.from_ical(raw)
    assert calendar["VERSION"] == "2.0" and calendar["METHOD"] == "PUBLISH" and "PRODID" in calendar
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert list(events) == ["Maintenance: SEPA connection certificate rotation", "Maintenance: Database upgrade"]
    upgrade = events["Maintenance: Database upgrade"]
    assert upgrade["UID"] == "2026-12-08-database-upgrade@status.northwind.example"
    assert upgrade["DTSTART"].dt == datetime(2026, 12, 8, 2, 0, tzinfo=timezone.utc)
    assert upgrade["DTEND"].dt == datetime(2026, 12, 8, 3, 0, tzinfo=timezone.utc)
    assert upgrade["DTSTAMP"].dt == datetime(2026, 11, 21, 16, 0, tzinfo=timezone.utc)
    assert upgrade["STATUS"] == "CONFIRMED"
    assert str(upgrade["URL"]) == BASE + "incidents/2026-12-08-database-upgrade/"
    assert str(upgrade["DESCRIPTION"]).startswith("Affects: API, Dashboard, Payouts\n\n2026-11-21 16:00 UTC · Scheduled\n")
    assert [str(c) for c in upgrade["CATEGORIES"].cats] == ["API", "Dashboard", "Payouts"]
    sepa = events["Maintenance: SEPA connection certificate rotation"]
    assert sepa["DTEND"].dt == datetime(2026, 11, 12, 5, 21, tzinfo=timezone.utc)  # it ended early
    assert int(sepa["SEQUENCE"]) == 2


def test_calendar_lines_are_crlf_and_folded_at_75_octets(built):
    raw = (built / "maintenance.ics").read_bytes()
    assert raw.endswith(b"END:VCALENDAR\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
    assert all(re.match(rb"^[A-Z-]+[;:]", line) or line.startswith(b" ") for line in lines)


def test_folding_never_splits_a_character():
    line = "DESCRIPTION:" + "é€😀" * 40
    folded = fold(line)
    parts = folded.encode("utf-8").split(b"\r\n")
    assert all(len(part) <= 75 for part in parts)
    assert all(part.decode("utf-8") for part in parts)  # each part is whole UTF-8
    assert folded.replace("\r\n ", "") == line


def test_calendar_keeps_recent_and_drops_old_maintenance(demo_copy):
    build(demo_copy, now=DEMO_NOW + timedelta(days=100))  # SEPA ended 111 days before, the upgrade 85
    calendar = icalendar.Calendar.from_ical((demo_copy / "build/maintenance.ics").read_bytes())
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == ["Maintenance: Database upgrade"]


def test_each_components_feed_lists_its_newest_incidents_even_when_the_pass_stops_early():
    """A component's feed lists its ENTRY_LIMIT most recently updated incidents; the pass that
    picks them stops once every component has that many, and must pick the same ones as
    grouping all of them would, whether an incident names components or none (all)."""
    import random
    from types import SimpleNamespace

    from generator.render.feeds import _newest_by_component
    from generator.status.model import incidents_by_component

    rng = random.Random(3)
    ids = ("api", "web", "db", "cdn")
    newest_first = [SimpleNamespace(name=n, component_ids=tuple(rng.sample(ids, rng.randint(0, 2))))
                    for n in range(200)]
    newest_first[5].component_ids = ("api", "api")  # named twice: listed once
    everything = incidents_by_component(newest_first, ids)
    for limit in (0, 1, 3, 40, 500):
        picked = _newest_by_component(newest_first, ids, limit)
        assert picked == {cid: everything[cid][:limit] for cid in ids}, limit


def test_rss_dates_are_written_as_the_standard_library_writes_rfc_2822():
    """RSS readers parse pubDate as RFC 2822; the feed writes it itself, without importing the
    email package into every build, so it is checked against email.utils over many moments."""
    import random
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from generator.render.feeds import _rfc2822

    draw = random.Random(17)
    for number in range(5000):
        moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=draw.randrange(2**34))
        if number % 3 == 0:
            moment = moment.astimezone(timezone(timedelta(hours=draw.randrange(-12, 14), minutes=draw.choice([0, 30]))))
        assert _rfc2822(moment) == format_datetime(moment)
