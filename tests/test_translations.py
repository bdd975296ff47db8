"""The pages in the site's language: complete catalogs, CLDR dates and numbers, right to left.

Catalogs are read back with Babel; pages are built from a copy of the demo with `language:` set,
and the right-to-left page is measured in headless Chromium.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from clirun import invoke
from conftest import DEMO_NOW
from generator.engine.build import CACHE_DIR, build
from generator.engine.fingerprint import default_theme_dir
from generator.render.i18n import template_messages
from servers import static_server

THEME = default_theme_dir()
SHIPPED = sorted((THEME / "locale").glob("*.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _language_site(demo_copy: Path, language: str) -> Path:
    config = demo_copy / "site.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^  language: .*$", f"  language: {language}", text), encoding="utf-8")
    shutil.rmtree(demo_copy / "templates", ignore_errors=True)  # the theme as installed
    return demo_copy


def test_twenty_languages_ship_with_right_to_left_and_cjk_among_them():
    shipped = {path.stem for path in SHIPPED}
    assert len(shipped) >= 20 and {"ar", "he"} <= shipped and {"ja", "zh_Hans", "ko"} <= shipped


@pytest.mark.parametrize("catalog", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_catalog_translates_every_message_the_pages_use(catalog):
    wanted = template_messages(THEME)
    with catalog.open("rb") as handle:
        messages = {message.id if isinstance(message.id, str) else message.id[0]: message
                    for message in read_po(handle) if message.id}
    missing = [text for text in wanted if text not in messages and not any(
        not isinstance(m.id, str) and text in m.id for m in messages.values())]
    assert missing == []
    for message in messages.values():
        assert not message.fuzzy, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), message.id  # translated, every plural form too
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            # The same placeholders (an Arabic singular may spell the number out: fewer is allowed there).
            assert set(PLACEHOLDER.findall(string)) <= expected, (message.id, string)
            if not isinstance(message.id, tuple):
                assert set(PLACEHOLDER.findall(string)) == expected, (message.id, string)
    unused = [text for text in messages if text not in wanted]
    assert unused == []


def test_a_german_site_reads_german_with_cldr_dates_and_numbers(demo_copy):
    site = _language_site(demo_copy, "de")
    build(site, now=DEMO_NOW)
    page = (site / "build" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="de" data-theme' in page
    assert "Aktuelle Störungen" in page and "Komponenten" in page and "Vergangene Störungen" in page
    assert "<h1>Leichte Dienststörung</h1>" in page
    assert re.search(r"\d+,\d\d\u00a0% Verfügbarkeit", page)  # "99,95 %"
    assert re.search(r">\d{1,2}\. (Nov|Dez)\. 2026, \d\d:\d\d CET</time>", page)
    assert "Active incidents" not in page and "days ago" not in page
    incident = (site / "build" / "incidents" / "2026-11-18-api-errors" / "index.html").read_text(encoding="utf-8")
    assert "Behoben" in incident and "Dauer" in incident and "Aktualisierungen" in incident
    history = (site / "build" / "history" / "index.html").read_text(encoding="utf-8")
    assert "November 2026" in history and "Störungsverlauf" in history


def test_a_site_overrides_one_message_and_adds_a_language(demo_copy, tmp_path):
    site = _language_site(demo_copy, "de")
    (site / "templates" / "locale").mkdir(parents=True)
    (site / "templates" / "locale" / "de.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Components"\nmsgstr "Dienste"\n', encoding="utf-8")
    build(site, now=DEMO_NOW)
    page = (site / "build" / "index.html").read_text(encoding="utf-8")
    assert ">Dienste</h2>" in page and "Aktuelle Störungen" in page  # the rest is the theme's
    # Changing the site's catalog renders the pages kept between builds again.
    (site / "templates" / "locale" / "de.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Incident history"\nmsgstr "Chronik"\n', encoding="utf-8")
    build(site, now=DEMO_NOW)
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build", CACHE_DIR))
    build(clean, now=DEMO_NOW)
    for path in ("history/index.html", "incidents/2026-11-18-api-errors/index.html", "index.html"):
        assert (site / "build" / path).read_bytes() == (clean / "build" / path).read_bytes(), path
    assert "<h1>Chronik</h1>" in (site / "build" / "history" / "index.html").read_text(encoding="utf-8")
    # A language the theme does not ship: the site's catalog, CLDR's formats.
    config = site / "site.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("  language: de", "  language: fy"), encoding="utf-8")
    (site / "templates" / "locale" / "fy.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Components"\nmsgstr "Ûnderdielen"\n', encoding="utf-8")
    build(site, now=DEMO_NOW)
    page = (site / "build" / "index.html").read_text(encoding="utf-8")
    assert "fy" not in {path.stem for path in SHIPPED}
    assert ">Ûnderdielen</h2>" in page and re.search(r">\d{1,2} (Nov|Des) 2026 \d\d:\d\d CET</time>", page)


def test_an_arabic_site_is_laid_out_right_to_left_with_mirrored_bars(browser, demo_copy):
    site = _language_site(demo_copy, "ar")
    build(site, now=DEMO_NOW)
    page_text = (site / "build" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl"' in page_text and "المكوّنات" in page_text
    with static_server(site / "build") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/index.html")
        facts = page.evaluate("""() => {
          const bars = document.querySelector('.bars');
          const rects = bars.querySelectorAll('rect');
          const first = rects[0].getBoundingClientRect(), last = rects[rects.length - 1].getBoundingClientRect();
          const title = document.querySelector('.banner h1').getBoundingClientRect();
          const banner = document.querySelector('.banner').getBoundingClientRect();
          return {todayLeftOfOldest: last.left < first.left, titleAtRight: banner.right - title.right < title.left - banner.left,
                  sideways: document.documentElement.scrollWidth - innerWidth};
        }""")
        page.close()
    assert facts == {"todayLeftOfOldest": True, "titleAtRight": True, "sideways": 0}


def test_english_stays_the_templates_own_words(site_root):
    ran = invoke("build", "--now", "2026-11-20T12:00:00Z", cwd=site_root)
    assert ran.code == 0, ran.stderr
    page = (site_root / "build" / "index.html").read_text(encoding="utf-8")
    assert "dir=" not in page.split(">", 2)[1] and "Components" in page


def test_validate_names_an_unknown_language_at_its_line_with_a_did_you_mean(demo_copy):
    site = _language_site(demo_copy, "frr-XX")
    ran = invoke("validate", cwd=site)
    assert ran.code == 1
    line = next(number for number, text in enumerate((site / "site.yaml").read_text().splitlines(), 1)
                if text.startswith("  language:"))
    assert f"site.yaml:{line}:13: error: unknown language 'frr-XX'" in ran.stderr
    config = site / "site.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("frr-XX", "frx"), encoding="utf-8")
    ran = invoke("validate", cwd=site)
    assert ran.code == 1 and "did you mean" in ran.stderr
