"""`languages: [en, de, ar]`: the pages built once per language, the first at the root and each
other under /<tag>/, with hreflang links and a language switcher that needs no JavaScript
(issue #19 part 1). The demo is built for real and read back as a reader and a crawler would.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from conftest import DEMO_NOW, copy_demo
from generator.engine.build import build
from servers import static_server

INCIDENT = "incidents/2026-11-18-api-errors/index.html"


def _languages_site(site: Path, languages: str = "[en, de, ar]") -> Path:
    config = site / "site.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^  language: .*$", f"  languages: {languages}", text), encoding="utf-8")
    shutil.rmtree(site / "templates", ignore_errors=True)  # the theme as installed
    return site


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    site = _languages_site(copy_demo(tmp_path_factory.mktemp("languages") / "demo"))
    build(site, now=DEMO_NOW)
    return site / "build"


class _Links(HTMLParser):
    """Every link and resource a page names, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.html_attributes: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_attributes = attributes
        for name in ("href", "src"):
            if attributes.get(name):
                self.found.append((tag, attributes))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _pages(build_dir: Path, prefix: str = "") -> set[str]:
    """The HTML pages of one language, relative to its folder."""
    base = build_dir / prefix
    others = {"de", "ar"} if not prefix else set()
    return {p.relative_to(base).as_posix() for p in base.rglob("*.html")
            if p.relative_to(base).parts[0] not in others and p.name != "404.html"}


def test_every_page_is_built_in_every_language_and_what_has_no_language_once(built):
    english = _pages(built)
    assert {"index.html", INCIDENT, "history/index.html", "subscribe/index.html"} <= english
    assert _pages(built, "de") == english and _pages(built, "ar") == english
    for folder in ("de", "ar"):  # the API, feeds, badges, calendar and assets are the site's, not a language's
        assert sorted(p.name for p in (built / folder).iterdir()) == ["404.html", "components", "embed", "history",
                                                                     "incidents", "index.html", "subscribe"]
    german, arabic = (built / "de" / INCIDENT).read_text(encoding="utf-8"), (built / "ar/index.html").read_text(encoding="utf-8")
    assert _parse(built / "de" / INCIDENT).html_attributes["lang"] == "de" and ">Verlauf</a>" in german
    assert _parse(built / "ar/index.html").html_attributes == {"lang": "ar", "dir": "rtl", "data-theme": "auto"}
    assert "Verlauf" not in (built / INCIDENT).read_text(encoding="utf-8")
    assert "انقطاع بسيط في الخدمة" in arabic  # the demo's overall status, in Arabic


def test_every_link_resolves_and_page_links_stay_in_the_readers_language(built):
    for folder in ("", "de/", "ar/"):
        for page in sorted(_pages(built, folder)):
            address = f"https://x.example/{folder}{page}"
            for tag, attributes in _parse(built / folder / page).found:
                target = attributes.get("href") or attributes.get("src")
                if "://" in target or target.startswith(("#", "mailto:")):
                    continue
                resolved = urlsplit(urljoin(address, target)).path.lstrip("/")
                if resolved.endswith("/") or not resolved:  # a folder: every host serves its index.html
                    resolved += "index.html"
                assert (built / resolved).is_file(), (folder + page, target)
                switcher = attributes.get("hreflang") is not None
                if resolved.endswith(".html") and not switcher:  # a page, not the switcher's other language
                    assert resolved.startswith(folder) and not (folder == "" and resolved.startswith(("de/", "ar/"))), (
                        folder + page, target)


def test_hreflang_names_each_language_version_of_the_page_and_they_name_each_other(built):
    for page in (INCIDENT, "index.html", "history/index.html"):
        for folder in ("", "de/", "ar/"):
            alternates = {attributes["hreflang"]: attributes["href"] for tag, attributes in _parse(built / folder / page).found
                          if tag == "link" and attributes.get("hreflang")}
            address = page.removesuffix("index.html")
            assert alternates == {"en": f"https://status.northwind.example/{address}",
                                  "de": f"https://status.northwind.example/de/{address}",
                                  "ar": f"https://status.northwind.example/ar/{address}",
                                  "x-default": f"https://status.northwind.example/{address}"}, (folder, page)
            canonical = [a["href"] for tag, a in _parse(built / folder / page).found if a.get("rel") == "canonical"]
            assert canonical == [f"https://status.northwind.example/{folder}{address}"]
    sitemap = (built / "sitemap.xml").read_text(encoding="utf-8")
    assert all(f"https://status.northwind.example/{folder}{INCIDENT.removesuffix('index.html')}</loc><lastmod>" in sitemap
               for folder in ("", "de/", "ar/"))


def test_a_reader_switches_language_on_the_same_page_without_javascript(browser, built, tmp_path):
    with static_server(built) as url:
        for width in (375, 1280):
            context = browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 800})
            page = context.new_page()
            page.goto(f"{url}/de/{INCIDENT}")
            switcher = page.locator("details.languages")
            assert switcher.locator("summary").inner_text().endswith("Deutsch")  # the language the page is in
            switcher.locator("summary").click()
            page.screenshot(path=tmp_path / f"switcher-{width}.png")
            # The open list fits the screen: nothing sideways to scroll, no language cut off at either edge.
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
            for link in switcher.locator("a").all():
                box = link.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, link.inner_text(), box)
            page.get_by_role("link", name="العربية").click()
            assert page.url == f"{url}/ar/{INCIDENT}"
            assert page.locator("html").get_attribute("dir") == "rtl"
            page.locator("details.languages summary").click()
            page.get_by_role("link", name="English").click()
            assert page.url == f"{url}/{INCIDENT}" and page.locator("html").get_attribute("lang") == "en"
            context.close()


def test_a_site_in_one_language_has_no_switcher_or_hreflang(demo_copy):
    build(demo_copy, now=DEMO_NOW)
    page = (demo_copy / "build" / INCIDENT).read_text(encoding="utf-8")
    assert "hreflang" not in page and 'class="languages"' not in page
    assert not (demo_copy / "build" / "de").exists()


def test_a_rebuild_in_three_languages_after_an_edit_equals_a_clean_build(tmp_path):
    site = _languages_site(copy_demo(tmp_path / "site"))
    build(site, now=DEMO_NOW)
    incident = site / "incidents" / "2026-11-18-api-errors.md"
    incident.write_text(incident.read_text(encoding="utf-8").replace("Resolved", "Resolved", 1) + "\nOne more line.\n",
                        encoding="utf-8")
    build(site, now=DEMO_NOW)
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build", ".heliograph-cache"))
    build(clean, now=DEMO_NOW)

    def files(directory: Path) -> dict[str, bytes]:
        return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}

    incremental, fresh = files(site / "build"), files(clean / "build")
    assert incremental.keys() == fresh.keys()
    assert [path for path in fresh if incremental[path] != fresh[path]] == []
    assert b"One more line." in fresh[f"de/{INCIDENT}"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_with_the_switcher_open_in_any_language(browser, built, scheme):
    from test_accessibility import AXE, _needs, _violations

    _needs(AXE, "axe-core")
    found = {}
    with static_server(built) as url:
        for width in (375, 1280):
            context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
            page = context.new_page()
            for path in ("index.html", f"de/{INCIDENT}", "ar/index.html", "ar/history/index.html"):
                page.goto(f"{url}/{path}")
                page.locator("details.languages summary").click()
                if violations := _violations(page):
                    found[(width, path)] = violations
            context.close()
    assert found == {}


def test_the_nu_html_checker_finds_no_error_in_any_language(built):
    import json
    import subprocess

    from test_accessibility import VNU, _needs

    _needs(VNU, "the Nu HTML checker (vnu-jar)")
    pages = sorted(str(path) for folder in ("de", "ar") for path in (built / folder).rglob("*.html"))
    done = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
                          capture_output=True, text=True, timeout=600)
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    assert [f"{m.get('url', '').split('/build/')[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages
            if m.get("type") == "error"] == []
    assert len(pages) > 20


def test_an_incident_written_in_english_reads_left_to_right_on_an_arabic_page(browser, built):
    with static_server(built) as url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        page.goto(f"{url}/ar/{INCIDENT}")
        directions = page.evaluate("""() => [...document.querySelectorAll('.prose')].map(
            element => getComputedStyle(element).direction)""")
        heading = page.evaluate("getComputedStyle(document.querySelector('h1')).direction")
        title = page.evaluate("getComputedStyle(document.querySelector('h1 [dir=auto]')).direction")
        page.close()
    # The page around it is right to left; the demo's updates and title, written in English, keep their own direction.
    assert heading == "rtl" and title == "ltr" and directions and set(directions) == {"ltr"}


EMBED_HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Host</title></head>
<body>
<iframe id="de-at" src="{site}/embed/?lang=de-AT&amp;components=api&amp;theme=dark#top" width="360" height="120" title="Status"></iframe>
<iframe id="ar" src="{site}/embed/index.html?lang=AR&amp;components=all" width="360" height="200" title="Status"></iframe>
<iframe id="unknown" src="{site}/embed/?lang=fr&amp;components=api" width="360" height="120" title="Status"></iframe>
<iframe id="de-folder" src="{site}/de/embed/?components=api" width="360" height="120" title="Status"></iframe>
<iframe id="back" src="{site}/de/embed/?lang=en&amp;components=api" width="360" height="120" title="Status"></iframe>
<div id="w-de" data-heliograph data-lang="de-AT" data-components="api"></div>
<div id="w-ar" data-heliograph data-lang="ar" data-components="api"></div>
<div id="w-site" data-heliograph data-components="api"></div>
<div id="w-unknown" data-heliograph data-lang="xx" data-components="api"></div>
<script src="{site}/embed/status.js" async></script>
</body></html>
"""


def _box_text(locator) -> list[str]:
    return locator.locator(".hg-desc, .hg-list li:not([hidden])").evaluate_all(
        "nodes => nodes.map(n => n.innerText.replace(/\\s+/g, ' ').trim())")


def test_the_embed_and_the_widget_follow_the_readers_language(browser, built, tmp_path):
    from test_embed import static_host

    arabic = re.search(r'class="hg-desc">([^<]+)<', (built / "ar/embed/index.html").read_text(encoding="utf-8"))[1]
    assert arabic != "Minor Service Outage"
    (tmp_path / "host").mkdir()
    with static_host(built) as site_url:
        (tmp_path / "host/index.html").write_text(EMBED_HOST_PAGE.format(site=site_url), encoding="utf-8")
        with static_server(tmp_path / "host") as host_url:
            page = browser.new_page()
            page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
            problems = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(host_url + "/index.html")
            page.locator("#w-unknown .hg-desc").wait_for()

            # ?lang= finds the language's own box (de-AT: de), keeping the other options.
            german = page.frame_locator("#de-at")
            assert _box_text(german) == ["Leichte Dienststörung", "API Betriebsbereit"]
            assert german.locator("#hg").get_attribute("data-theme") == "dark"
            frame = page.frame(url=re.compile(r"/de/embed/\?lang=de-AT"))
            assert frame is not None and frame.url == f"{site_url}/de/embed/?lang=de-AT&components=api&theme=dark#top"
            assert german.locator("html").get_attribute("lang") == "de"
            # Its links lead to the page in the same language.
            assert german.locator(".hg-list a").first.get_attribute("href").endswith("/de/components/api/")
            assert page.frame_locator("#de-folder").locator(".hg-desc").inner_text() == "Leichte Dienststörung"

            # Case does not matter; a right-to-left language is laid out so.
            assert page.frame_locator("#ar").locator(".hg-desc").inner_text() == arabic
            assert page.frame_locator("#ar").locator("html").get_attribute("dir") == "rtl"
            # A language the site does not have keeps the site's; ?lang=en leads back from a language's folder.
            assert _box_text(page.frame_locator("#unknown")) == ["Minor Service Outage", "API Operational"]
            assert _box_text(page.frame_locator("#back")) == ["Minor Service Outage", "API Operational"]

            # The script widget: data-lang, else the site's language.
            widget = page.locator("#w-de .hg")
            assert _box_text(widget) == ["Leichte Dienststörung", "API Betriebsbereit"]
            assert widget.get_attribute("lang") == "de"
            assert widget.locator(".hg-list a").get_attribute("href") == f"{site_url}/de/components/api/"
            assert widget.locator(".hg-overall").get_attribute("href") == f"{site_url}/de/"
            assert page.locator("#w-ar .hg .hg-desc").inner_text() == arabic
            assert page.locator("#w-ar .hg").get_attribute("dir") == "rtl"
            for english in ("#w-site", "#w-unknown"):
                assert _box_text(page.locator(english + " .hg")) == ["Minor Service Outage", "API Operational"]
                assert page.locator(english + " .hg-list a").get_attribute("href") == f"{site_url}/components/api/"
            page.close()
    assert problems == []
