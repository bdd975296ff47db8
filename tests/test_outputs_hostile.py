"""Hostile text in every user-written field stays inert in the outputs read outside the page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import feedparser
import icalendar
import lxml.etree
import pytest

from generator.engine.build import build
from test_hostile_input import INCIDENT, SITE, active_markup
from conftest import DEMO_NOW, write_site

SVG = "{http://www.w3.org/2000/svg}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    root = write_site(tmp_path_factory.mktemp("hostile") / "site", SITE, {"2026-11-20-hostile.md": INCIDENT})
    build(root, now=DEMO_NOW)
    return root / "build"


def test_badges_are_inert_svg(output):
    for path in output.rglob("*.svg"):
        tree = lxml.etree.fromstring(path.read_bytes())  # well-formed XML, or this raises
        for element in tree.iter():
            assert element.tag not in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}a"), path
            assert not [name for name in element.attrib if name.lower().startswith("on")], path
            assert not [v for name, v in element.attrib.items() if "href" in name and "javascript" in v.lower()], path
    title = lxml.etree.fromstring((output / "badges/api/status.svg").read_bytes()).find(f"{SVG}title").text
    assert "<script>alert('x')</script>" in title  # shown, as text


def test_feed_content_is_sanitized_html(output, tmp_path):
    fragments = tmp_path / "fragments"
    fragments.mkdir()
    atom = lxml.etree.fromstring((output / "feed.atom").read_bytes())
    contents = [e.text for e in atom.iter(f"{ATOM}content")]
    contents += [item["content_html"] for item in json.loads((output / "feed.json").read_bytes())["items"]]
    rss = lxml.etree.fromstring((output / "feed.rss").read_bytes())
    contents += [e.text for e in rss.iter("description")][1:]  # the first is the channel's
    assert len(contents) == 3
    for number, html in enumerate(contents):
        (fragments / f"{number}.html").write_text(f"<div>{html}</div>")
    assert active_markup(fragments) == []
    for name in ("feed.atom", "feed.rss", "history.atom", "components/api/feed.atom"):
        feed = feedparser.parse((output / name).read_bytes())
        assert not feed.bozo, name
        assert feed.entries[0].title.startswith("<script>alert('x')</script>")  # the title, as plain text


def test_structured_outputs_parse_and_keep_text_as_text(output):
    summary = json.loads((output / "api/v2/summary.json").read_bytes())
    assert summary["incidents"][0]["name"].startswith("<script>")
    body = summary["incidents"][0]["incident_updates"][0]["body"]  # plain text: the markup is gone, not escaped
    assert "[click me]" not in body and "click me" in body
    assert not any(tag in body for tag in ("<script", "<img", "<iframe", "<svg", "&lt;", "&amp;"))
    status = json.loads((output / "api/status.json").read_bytes())
    (output / "fragments").mkdir(exist_ok=True)
    (output / "fragments/latest.html").write_text(status["incidents"][0]["latest_update"]["html"])
    assert active_markup(output / "fragments") == []
    rows = list(csv.reader(io.StringIO((output / "api/history.csv").read_text())))
    assert rows[0][0] == "date"
    icalendar.Calendar.from_ical((output / "maintenance.ics").read_bytes())
    json.loads((output / "api/openapi.json").read_bytes())


def test_llms_txt_keeps_user_text_inside_its_lines(output):
    text = (output / "llms.txt").read_text()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[1:] == ["## Components", "## Active incidents", "## Maintenance in progress",
                            "## Scheduled maintenance", "## Machine-readable", "## Optional"]
    assert headings[0].startswith("# <script>")


def test_user_text_never_reaches_a_script(output):
    widget = (output / "embed/status.js").read_text()
    assert "alert" not in widget
    embed = (output / "embed/index.html").read_text()
    script = embed.split("<script>")[1].split("</script>")[0]
    assert "alert" not in script
