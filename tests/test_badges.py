"""Badges: the files, shields.io endpoint JSON, accessible colours, and text that fits in a real browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import lxml.etree
import pytest

from generator.render import badges
from generator.render.badges import (Badge, overall_badge, render_svg, response_time_badge, status_badge, text_width,
                              uptime_badge)
from generator.engine.build import build
from generator.site.config import Component
from test_outputs_api import fresh_demo, render_with_histories, sample_history
from conftest import DEMO_NOW, write_site

SVG = "{http://www.w3.org/2000/svg}"
SHIELDS_ENDPOINT = {  # https://shields.io/badges/endpoint-badge
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "additionalProperties": False,
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
        "labelColor": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
        "isError": {"type": "boolean"},
        "namedLogo": {"type": "string"},
        "logoSvg": {"type": "string"},
        "logoColor": {"type": "string"},
        "style": {"enum": ["flat", "flat-square", "plastic", "for-the-badge", "social"]},
        "cacheSeconds": {"type": "integer", "minimum": 300},
    },
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    demo = fresh_demo(tmp_path_factory.mktemp("badges") / "demo")
    return render_with_histories(demo, {"api": sample_history("api", DEMO_NOW)})


def test_every_badge_exists_as_svg_and_endpoint_json(files):
    ids = ["api", "dashboard", "webhooks", "cards", "sepa", "payouts", "docs", "dns", "support"]
    stems = ["badges/status"] + [f"badges/{cid}/{name}" for cid in ids for name in
                                 ("status", "uptime-24h", "uptime-7d", "uptime-30d", "uptime-90d", "response-time")]
    assert sorted(p for p in files if p.startswith("badges/")) == sorted(f"{s}.{ext}" for s in stems for ext in ("svg", "json"))
    for stem in stems:
        endpoint = json.loads(files[f"{stem}.json"])
        jsonschema.validate(endpoint, SHIELDS_ENDPOINT)
        svg = lxml.etree.fromstring(files[f"{stem}.svg"])
        spoken = f"{endpoint['label']}: {endpoint['message']}"
        # The SVG and the JSON say the same, and a screen reader hears it.
        assert svg.get("role") == "img" and svg.get("aria-label") == spoken
        assert svg.find(f"{SVG}title").text == spoken
        assert endpoint["color"] in files[f"{stem}.svg"].decode()


def test_badge_values(files):
    def endpoint(stem):
        body = json.loads(files[f"badges/{stem}.json"])
        return body["label"], body["message"], body["color"]

    assert endpoint("status") == ("status", "minor outage", badges.AMBER)
    assert endpoint("webhooks/status") == ("Webhooks", "degraded performance", badges.AMBER)
    assert endpoint("api/status") == ("API", "operational", badges.GREEN)
    assert endpoint("api/uptime-24h") == ("API uptime 24h", "100%", badges.GREEN)
    assert endpoint("api/uptime-7d") == ("API uptime 7d", "99.91%", badges.GREEN)
    assert endpoint("api/uptime-90d") == ("API uptime 90d", "no data", badges.GREY)
    assert endpoint("api/response-time") == ("API response time", "132 ms", badges.GREEN)  # well under 800 ms
    assert endpoint("webhooks/uptime-30d") == ("Webhooks uptime 30d", "no data", badges.GREY)


def test_uptime_and_latency_thresholds():
    assert [badges.uptime_colour(v) for v in (1.0, 0.999, 0.9989, 0.99, 0.9899, 0.95, 0.9499, None)] == [
        badges.GREEN, badges.GREEN, badges.AMBER, badges.AMBER, badges.ORANGE, badges.ORANGE, badges.RED, badges.GREY]
    slow = 800.0
    assert [badges.latency_colour(v, slow) for v in (100, 399, 400, 799, 800, 1599, 1600, None)] == [
        badges.GREEN, badges.GREEN, badges.YELLOW_GREEN, badges.YELLOW_GREEN, badges.AMBER, badges.AMBER,
        badges.ORANGE, badges.GREY]
    assert uptime_badge(Component("a", "A"), "30d", 0.99999).message == "99.99%"  # never rounded up to 100%


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _lightened(colour: str) -> str:
    """Flat style's gradient lays #bbb at 10% over the top edge."""
    return "#" + "".join(f"{round(int(colour[i:i + 2], 16) * 0.9 + 0xbb * 0.1):02x}" for i in (1, 3, 5))


def test_white_text_meets_wcag_aa_on_every_colour():
    colours = {badges.LABEL_GREY, badges.GREEN, badges.YELLOW_GREEN, badges.AMBER, badges.ORANGE, badges.RED,
               badges.BLUE, badges.GREY, *badges.STATUS_COLOURS.values()}
    for colour in colours:
        assert _contrast("#ffffff", colour) >= 4.5, colour
        assert _contrast("#ffffff", _lightened(colour)) >= 4.5, colour


def test_style_comes_from_site_yaml(tmp_path):
    root = write_site(tmp_path / "site", """\
        site: {title: T, base_url: "https://t.example/"}
        badges: {style: for-the-badge}
        components:
          - {id: api, name: Api}
        """)
    build(root, now=DEMO_NOW)
    svg = lxml.etree.fromstring((root / "build/badges/api/status.svg").read_bytes())
    assert svg.get("height") == "28"
    assert [t.text for t in svg.iter(f"{SVG}text")] == ["API", "OPERATIONAL"]
    assert json.loads((root / "build/badges/api/status.json").read_bytes())["style"] == "for-the-badge"


def test_text_is_escaped_and_never_markup():
    svg = render_svg(Badge("<script>alert(1)</script> & \"q\"", "a\x00b\nc", badges.GREEN), "flat")
    tree = lxml.etree.fromstring(svg.encode())
    assert not list(tree.iter(f"{SVG}script"))
    assert tree.get("aria-label") == '<script>alert(1)</script> & "q": a b c'


def test_measurement_uses_the_font_tables():
    # DejaVu Sans advances at 11px: "i" is 569/2048 em, "W" 2026/2048 em (Verdana's is a hair wider).
    assert text_width("i", 11) == pytest.approx(569 / 2048 * 11)
    assert text_width("W", 11) == pytest.approx(2026 / 2048 * 11)
    assert text_width("WWW", 11) > text_width("iii", 11) * 3
    assert text_width("e\u0301", 11) == text_width("e", 11)  # a combining accent takes no room
    assert text_width("支付", 11) == pytest.approx(22)  # wide characters outside the table: one em each


def test_font_table_is_at_least_as_wide_as_dejavu_sans():
    """Regenerating the table (tools/make_font_metrics.py) keeps this true; checked where fontTools is installed."""
    ttlib = pytest.importorskip("fontTools.ttLib")
    font_file = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font_file.exists():
        pytest.skip("fonts-dejavu-core is not installed")
    font = ttlib.TTFont(font_file)
    cmap, metrics = font.getBestCmap(), font["hmtx"]
    for char in "The quick brown fox: 99.98% ÄÖÜ ß é — Ω Ж":
        assert badges.advance(char) * 2048 >= metrics[cmap[ord(char)]][0], char


# --- in a real browser ------------------------------------------------------------------------

NAMES = ["API", "Card payments", "iiii llll", "WWWWWWWWWW MMMMMM", "Überweisungen (SEPA) & Lastschriften — Europa",
         "Платёжный шлюз", "支付网关", "🚀 Deploys", "A very long component name, longer than any sensible badge should "
         "ever carry, with numbers 1234567890 and % & < > symbols"]

MEASURE = """() => Array.from(document.querySelectorAll('svg')).map((svg, index) => {
  const halves = Array.from(svg.querySelectorAll('rect[fill^="#"]')).filter(r => !r.closest('clipPath'))
      .map(r => r.getBoundingClientRect());
  return Array.from(svg.querySelectorAll('text:not([aria-hidden])')).map(text => {
    const box = text.getBoundingClientRect();
    const centre = box.left + box.width / 2;
    const half = halves.find(h => h.left <= centre && centre <= h.right);
    const natural = text.cloneNode(true);
    natural.removeAttribute('textLength');
    text.parentNode.appendChild(natural);
    const naturalWidth = natural.getComputedTextLength() / 10;
    natural.remove();
    return {index, text: text.textContent, left: box.left, right: box.right, halfLeft: half.left,
            halfRight: half.right, allotted: Number(text.getAttribute('textLength')) / 10, naturalWidth};
  });
}).flat()"""


@pytest.mark.parametrize("style", badges.STYLES)
def test_text_fits_its_half_in_chromium(browser, style):
    rendered = []
    for i, name in enumerate(NAMES):
        component = Component(f"c{i}", name)
        for j, badge in enumerate((status_badge(component, "partial_outage"), uptime_badge(component, "30d", 0.98765),
                                   response_time_badge(component, 12345.0), overall_badge("maintenance"))):
            rendered.append(render_svg(badge, style, id_prefix=f"b{i}x{j}"))
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><body style='margin:0'>" + "".join(f"<div>{svg}</div>" for svg in rendered))
        measured = page.evaluate(MEASURE)
    finally:
        page.close()
    assert len(measured) == 2 * len(rendered)
    letter_spacing = 1.25 if style == "for-the-badge" else 0  # shields' for-the-badge spacing, in the allotted room
    for m in measured:
        where = f"{m['text']!r} in badge {m['index']}"
        assert m["left"] >= m["halfLeft"] - 1 and m["right"] <= m["halfRight"] + 1, where
        # Without textLength, the font's own width fits the room measured for it: the tables are not short.
        natural = m["naturalWidth"] + letter_spacing * len(m["text"])
        assert natural <= m["allotted"] + 1, (where, natural, m["allotted"])
        if re.fullmatch(r"[A-Za-z0-9 .%:&<>,()\-—ÜüÄäÖö]+", m["text"]):
            # ... and not so generous that Latin text is visibly spread out.
            assert natural >= m["allotted"] * 0.9 - 2, (where, natural, m["allotted"])
