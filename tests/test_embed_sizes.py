"""The embed as a host page shows it: its reported height, narrow frames, and the status site down.

Headless Chromium; the built demo served on one 127.0.0.1 origin (with its _headers rules), host
pages on another. The host snippets are README's own, taken from README.md, so what the README
tells people to paste is what is tested.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from conftest import DEMO_NOW, REPO
from generator.engine.build import build
from servers import static_server
from test_embed import static_host
from test_outputs_api import fresh_demo

SITE = "https://status.example.com/"


def _readme_snippet(marker: str) -> str:
    """The ```html block of README.md that contains `marker`."""
    blocks = re.findall(r"```html\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    [block] = [block for block in blocks if marker in block]
    return block


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    demo = fresh_demo(tmp_path_factory.mktemp("embed-sizes") / "demo")
    build(demo, now=DEMO_NOW)
    return demo / "build"


def _host(tmp_path: Path, body: str):
    folder = tmp_path / "host"
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text(f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>'
                                       f"</head><body><h1>Our product</h1>{body}</body></html>", encoding="utf-8")
    return static_server(folder)


@pytest.mark.parametrize("height, components", [(300, "api"), (140, "all"), (60, "")])
def test_the_reported_height_is_the_boxs_whatever_the_frames_height(browser, built, tmp_path, height, components):
    """A 300 px frame showing a small box must report the box's height, not the frame's."""
    listen = ('<script>window.heights = []; addEventListener("message", (e) => {'
              ' if (e.data && e.data.heliograph === "embed-height") heights.push(e.data.height); });</script>')
    frame = ('<iframe id="f" src="SITE/embed/index.html?components=' + components + '" width="360" '
             'height="' + str(height) + '" style="border:0" title="Service status"></iframe>')
    with static_host(built) as site_url, _host(tmp_path, frame.replace("SITE", site_url) + listen) as host_url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        page.goto(host_url + "/index.html")
        page.wait_for_function("window.heights.length >= 1")
        box = page.frame_locator("#f").locator("#hg").evaluate("box => Math.ceil(box.getBoundingClientRect().height)")
        assert page.evaluate("window.heights[window.heights.length - 1]") == box
        assert box < height or components == "all"
        page.close()


def test_a_narrow_frame_wraps_instead_of_cutting_states_off(browser, built, tmp_path):
    frame = ('<iframe id="f" src="{site}/embed/index.html?components=all" width="200" height="600" '
             'style="border:0" title="Service status"></iframe>')
    with static_host(built) as site_url, _host(tmp_path, frame.format(site=site_url)) as host_url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        page.goto(host_url + "/index.html")
        texts = page.frame_locator("#f").locator(".hg-state, .hg-name, .hg-site, .hg-desc")
        texts.first.wait_for()
        cut = texts.evaluate_all("spans => spans.filter(s => s.offsetParent && s.scrollWidth > s.clientWidth)"
                                 ".map(s => s.textContent)")
        assert cut == []
        assert "Operational" in page.frame_locator("#f").locator(".hg-list").inner_text()
        page.close()


def _closed_port_url() -> str:
    """An origin nothing answers on: the status site, down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_readmes_iframe_snippet_says_status_unavailable_when_the_site_is_down(browser, tmp_path):
    snippet = _readme_snippet('id="status-frame"').replace(SITE, _closed_port_url())
    with _host(tmp_path, snippet) as host_url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        page.goto(host_url + "/index.html")
        link = page.get_by_role("link", name="Status unavailable: open the status page")
        link.wait_for(timeout=20_000)
        assert page.locator("iframe").count() == 0
        page.close()


def test_readmes_iframe_snippet_sizes_the_frame_when_the_site_is_up(browser, built, tmp_path):
    with static_host(built) as site_url:
        snippet = _readme_snippet('id="status-frame"').replace(SITE, site_url + "/")
        with _host(tmp_path, snippet) as host_url:
            page = browser.new_page()
            page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
            page.goto(host_url + "/index.html")
            frame = page.locator("#status-frame")
            page.wait_for_function("document.getElementById('status-frame').style.height !== ''")
            box = page.frame_locator("#status-frame").locator("#hg").evaluate(
                "box => Math.ceil(box.getBoundingClientRect().height)")
            assert frame.evaluate("f => f.getBoundingClientRect().height") == box
            page.wait_for_timeout(8_500)  # past the snippet's deadline: the frame stays
            assert frame.count() == 1
            page.close()


def test_readmes_widget_snippet_keeps_its_link_when_the_script_cannot_load(browser, tmp_path):
    snippet = _readme_snippet("data-heliograph").replace(SITE, _closed_port_url())
    with _host(tmp_path, snippet) as host_url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        page.goto(host_url + "/index.html")
        page.wait_for_load_state("load")
        link = page.get_by_role("link", name="Status unavailable: open the status page")
        assert link.is_visible()
        page.close()


def test_readmes_widget_snippet_replaces_the_link_with_the_status(browser, built, tmp_path):
    with static_host(built) as site_url:
        snippet = _readme_snippet("data-heliograph").replace(SITE, site_url + "/")
        with _host(tmp_path, snippet) as host_url:
            page = browser.new_page()
            page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
            page.goto(host_url + "/index.html")
            widget = page.locator("[data-heliograph] .hg-desc")
            widget.wait_for()
            page.wait_for_function("document.querySelector('[data-heliograph]').shadowRoot"
                                   ".querySelector('.hg-list') !== null")
            assert widget.inner_text() == "Minor Service Outage"
            assert not page.get_by_role("link", name="Status unavailable: open the status page").is_visible()
            page.close()
