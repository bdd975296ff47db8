"""The site's language beyond the HTML pages: badges (and what follows from issue #19 part 1).

Sites are copies of the demo with `language:` set, built for real; the files a reader fetches
are read back.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import DEMO_NOW
from generator.engine.build import build
from servers import static_server


def _language_site(demo_copy: Path, language: str) -> Path:
    config = demo_copy / "site.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^  language: .*$", f"  language: {language}", text), encoding="utf-8")
    shutil.rmtree(demo_copy / "templates", ignore_errors=True)  # the theme as installed
    return demo_copy


def _badge(site: Path, stem: str) -> tuple[dict, str]:
    endpoint = json.loads((site / "build" / f"{stem}.json").read_text(encoding="utf-8"))
    return endpoint, (site / "build" / f"{stem}.svg").read_text(encoding="utf-8")


def _svg_width(svg: str) -> int:
    return int(re.search(r'<svg [^>]*width="(\d+)"', svg).group(1))


def test_badges_speak_the_site_language_and_grow_with_its_words(demo_copy, tmp_path):
    english = tmp_path / "en"
    shutil.copytree(demo_copy, english)
    build(english, now=DEMO_NOW)
    german = _language_site(demo_copy, "de")
    build(german, now=DEMO_NOW)

    status, _ = _badge(german, "badges/status")
    assert status["label"] == "Status"
    component = next(p.name for p in sorted((german / "build" / "badges").iterdir()) if p.is_dir())
    state, svg = _badge(german, f"badges/{component}/status")
    english_state, english_svg = _badge(english, f"badges/{component}/status")
    assert english_state["message"] == "operational" and state["message"] == "betriebsbereit"
    assert "betriebsbereit" in svg
    assert _svg_width(svg) > _svg_width(english_svg)  # the longer word gets a wider badge
    uptime, _ = _badge(german, f"badges/{component}/uptime-30d")
    assert "Verfügbarkeit 30d" in uptime["label"]
    assert re.fullmatch(r"\d+(,\d+)?\u00a0%", uptime["message"]), uptime["message"]  # CLDR: "99,95 %"
    latency, _ = _badge(german, f"badges/{component}/response-time")
    assert latency["label"].endswith("Antwortzeit")


def test_badges_in_a_script_the_font_table_lacks_are_still_wide_enough(demo_copy):
    site = _language_site(demo_copy, "ja")
    build(site, now=DEMO_NOW)
    component = next(p.name for p in sorted((site / "build" / "badges").iterdir()) if p.is_dir())
    state, svg = _badge(site, f"badges/{component}/status")
    assert state["message"] == "稼働中"
    # Three ideographs drawn at 11 px from a fallback font take at least 3 em, plus 5 px padding each side.
    message_width = float(re.findall(r'<rect x="[\d.]+" width="([\d.]+)"', svg)[0])
    assert message_width >= 3 * 11 + 10


def test_a_bare_language_code_finds_the_catalog_for_its_likely_script_or_country(demo_copy, tmp_path):
    chinese = tmp_path / "zh"
    shutil.copytree(demo_copy, chinese)
    build(_language_site(chinese, "zh"), now=DEMO_NOW)
    page = (chinese / "build" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in page and ">组件</h2>" in page  # zh -> zh_Hans, the simplified catalog
    portuguese = _language_site(demo_copy, "pt")
    build(portuguese, now=DEMO_NOW)
    page = (portuguese / "build" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="pt"' in page and ">Componentes</h2>" in page  # pt -> pt_BR


def test_traditional_chinese_is_not_given_the_simplified_catalog(demo_copy):
    site = _language_site(demo_copy, "zh-TW")
    build(site, now=DEMO_NOW)
    page = (site / "build" / "index.html").read_text(encoding="utf-8")
    assert ">组件</h2>" not in page and ">Components</h2>" in page


def test_the_embed_and_the_script_widget_speak_the_site_language(browser, demo_copy, tmp_path):
    from test_embed import host_page, static_host

    site = _language_site(demo_copy, "de")
    build(site, now=DEMO_NOW)
    with static_host(site / "build") as site_url, host_page(tmp_path, site_url) as host_url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(host_url)
        frame = page.frame_locator("#frame")
        assert frame.locator(".hg-desc").inner_text() == "Leichte Dienststörung"
        assert frame.locator(".hg-list li:not([hidden])").evaluate_all(
            "items => items.map(i => i.innerText.replace(/\\s+/g, ' ').trim())") == [
            "API Betriebsbereit", "Webhooks Eingeschränkte Leistung"]
        widget = page.locator("[data-heliograph] .hg")
        assert widget.locator(".hg-desc").inner_text() == "Leichte Dienststörung"
        assert widget.locator("li").evaluate_all("items => items.map(i => i.innerText.replace(/\\s+/g, ' ').trim())") == [
            "Webhooks Eingeschränkte Leistung", "SEPA transfers Betriebsbereit"]
        page.close()
    assert problems == []
    english = (site / "build" / "api" / "status.json").read_text(encoding="utf-8")
    assert "Minor Service Outage" in english  # the API the widget reads stays language-neutral


def test_feeds_and_the_maintenance_calendar_speak_the_site_language(demo_copy):
    site = _language_site(demo_copy, "de")
    build(site, now=DEMO_NOW)
    feed = json.loads((site / "build" / "feed.json").read_text(encoding="utf-8"))
    assert feed["language"] == "de"
    api_errors = next(item for item in feed["items"] if item["id"].endswith("/2026-11-18-api-errors/"))
    html = api_errors["content_html"]
    assert "<strong>Betroffen</strong>: " in html and "<strong>Behoben</strong>" in html
    assert re.search(r"<small>\d{1,2}\. Nov\. 2026, \d\d:\d\d CET</small>", html)  # CLDR's date, the site's zone
    assert "Affected" not in html and "Resolved" not in html
    assert api_errors["summary"].startswith("Behoben")
    maintenance = next(item for item in feed["items"] if item["_heliograph"]["kind"] == "maintenance")
    assert "<strong>Geplante Wartung</strong>: " in maintenance["content_html"]
    atom = (site / "build" / "feed.atom").read_text(encoding="utf-8")
    assert "Betroffen" in atom and "Affected" not in atom
    calendar = (site / "build" / "maintenance.ics").read_bytes().decode("utf-8").replace("\r\n ", "")
    assert "X-WR-CALNAME:Northwind Pay Status – Wartung" in calendar
    assert "SUMMARY:Wartung: " in calendar and "Betrifft: " in calendar
    assert "Maintenance: " not in calendar and "Affects: " not in calendar
    assert "DTSTART:2026" in calendar  # times stay UTC, as RFC 5545 has them


def test_llms_txt_speaks_the_site_language_and_keeps_utc_times(demo_copy, tmp_path):
    english = tmp_path / "en"
    shutil.copytree(demo_copy, english)
    build(english, now=DEMO_NOW)
    site = _language_site(demo_copy, "de")
    build(site, now=DEMO_NOW)
    text = (site / "build" / "llms.txt").read_text(encoding="utf-8")
    assert "Aktueller Status: **Leichte Dienststörung** (Stand 2026-11-23 12:00 UTC)." in text
    assert "## Komponenten" in text and "## Maschinenlesbar" in text
    assert re.search(r"Verfügbarkeit in 30 Tagen: \d+(,\d+)?\u00a0%", text)
    assert "Current status" not in text and "Machine-readable" not in text and "affects" not in text
    # The links are the same files as the English one lists.
    links = re.findall(r"\]\((https://[^)]+)\)", text)
    assert links == re.findall(r"\]\((https://[^)]+)\)", (english / "build" / "llms.txt").read_text(encoding="utf-8"))


LAYOUT = """() => {
  const header = document.querySelector('.site-header').getBoundingClientRect();
  const first = (document.querySelector('.banner') || document.querySelector('main').firstElementChild).getBoundingClientRect();
  const bars = document.querySelector('.bars');
  let todayLeftOfOldest = null;
  if (bars) {
    const rects = bars.querySelectorAll('rect');
    todayLeftOfOldest = rects[rects.length - 1].getBoundingClientRect().left < rects[0].getBoundingClientRect().left;
  }
  return {belowHeader: first.top - header.bottom, sideways: document.documentElement.scrollWidth - window.innerWidth,
          todayLeftOfOldest, dir: document.documentElement.dir || 'ltr'};
}"""


@pytest.fixture(scope="module")
def language_sites(tmp_path_factory):
    """The demo built in English, German and Arabic, each served on its own port."""
    from conftest import copy_demo

    with contextlib.ExitStack() as stack:
        urls = {}
        for language in ("en", "de", "ar"):
            site = _language_site(copy_demo(tmp_path_factory.mktemp(language) / "demo"), language)
            build(site, now=DEMO_NOW)
            urls[language] = stack.enter_context(static_server(site / "build"))
        yield urls


@pytest.mark.parametrize("language", ["en", "de", "ar"])
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_in_three_languages_fit_the_screen_and_mirror_in_rtl(browser, language_sites, tmp_path,
                                                                   language, width, scheme):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    for path in ("index.html", "components/api/index.html", "incidents/2026-11-18-api-errors/index.html",
                 "history/index.html", "subscribe/index.html", "404.html"):  # every page type
        page.goto(f"{language_sites[language]}/{path}")
        page.screenshot(path=tmp_path / f"{language}-{path.replace('/', '_')}-{width}-{scheme}.png", full_page=True)
        facts = page.evaluate(LAYOUT)
        assert facts["sideways"] <= 0, (path, facts)  # longer German words and Arabic script still fit
        assert facts["belowHeader"] >= 16, (path, facts)  # the banner (or first block) clear of the header
        assert facts["dir"] == ("rtl" if language == "ar" else "ltr"), (path, facts)
        if path == "index.html":
            assert facts["todayLeftOfOldest"] is (language == "ar"), (path, facts)  # bars mirrored in RTL only
    context.close()


def test_the_embed_and_the_widget_are_laid_out_right_to_left_in_arabic(browser, demo_copy, tmp_path):
    from test_embed import host_page, static_host

    site = _language_site(demo_copy, "ar")
    build(site, now=DEMO_NOW)
    with static_host(site / "build") as site_url, host_page(tmp_path, site_url) as host_url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        page.goto(host_url)
        page.screenshot(path=tmp_path / "ar-embed.png")
        for box in (page.frame_locator("#plain").locator(".hg"), page.locator("[data-heliograph] .hg")):
            description = box.locator(".hg-desc").bounding_box()
            site_name = box.locator(".hg-site").bounding_box()
            assert box.locator(".hg-desc").inner_text() == "انقطاع بسيط في الخدمة"
            assert site_name["x"] + site_name["width"] <= description["x"]  # the site's name at the left, mirrored
        page.close()


def test_for_the_badge_writes_capitals_as_the_language_does(demo_copy):
    site = _language_site(demo_copy, "tr")
    config = site / "site.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "display:\n", "badges: {style: for-the-badge}\ndisplay:\n", 1), encoding="utf-8")
    build(site, now=DEMO_NOW)
    svg = (site / "build" / "badges" / "api" / "uptime-30d.svg").read_text(encoding="utf-8")
    # Turkish keeps the dot of i in capitals: "erişilebilirlik" is ERİŞİLEBİLİRLİK, never ERIŞILEBILIRLIK.
    assert "ERİŞİLEBİLİRLİK" in svg and "ERIŞ" not in svg
