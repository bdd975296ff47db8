"""Layout facts a reader sees, on every page type, light and dark, on a phone and a desktop.

Headless Chromium measures the built demo: the first thing under the header keeps its distance,
the footer's text keeps its distance from the footer's line, nothing scrolls sideways, and the
header's links are evenly spaced. A screenshot of each is saved under the test's tmp_path.
"""

from __future__ import annotations

import pytest

from conftest import DEMO_NOW
from generator.engine.build import build
from servers import static_server
from test_outputs_api import fresh_demo

PAGES = ["index.html", "components/api/index.html", "incidents/2026-11-18-api-errors/index.html",
         "history/index.html", "subscribe/index.html", "404.html"]

MEASURE = """() => {
  const header = document.querySelector('.site-header').getBoundingClientRect();
  const first = document.querySelector('main').firstElementChild.getBoundingClientRect();
  const footer = document.querySelector('.site-footer');
  const footerText = footer.querySelector('p').getBoundingClientRect();
  const links = [...document.querySelectorAll('nav a')].map(a => a.getBoundingClientRect());
  const sameRow = links.slice(1).map((r, i) => [r, links[i]]).filter(([r, l]) => Math.abs(r.top - l.top) < 2);
  return {
    belowHeader: first.top - header.bottom,
    aboveFooterText: footerText.top - footer.getBoundingClientRect().top,
    sideways: document.documentElement.scrollWidth - window.innerWidth,
    gaps: sameRow.map(([r, l]) => Math.round(r.left - l.right)),
  };
}"""


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    demo = fresh_demo(tmp_path_factory.mktemp("layout") / "demo")
    build(demo, now=DEMO_NOW)
    with static_server(demo / "build") as url:
        yield url


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_keeps_its_spacing_and_fits_the_screen(browser, site_url, tmp_path, width, scheme):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    for path in PAGES:
        page.goto(f"{site_url}/{path}")
        page.screenshot(path=tmp_path / f"{path.replace('/', '_')}-{width}-{scheme}.png")
        facts = page.evaluate(MEASURE)
        assert facts["belowHeader"] >= 16, (path, facts)  # main's block padding, not the header line touching
        assert facts["aboveFooterText"] >= 12, (path, facts)
        assert facts["sideways"] <= 0, (path, facts)
        assert facts["gaps"] and max(facts["gaps"]) - min(facts["gaps"]) <= 1, (path, facts)  # no wider gap
    context.close()
