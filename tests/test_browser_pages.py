"""The demo site in a real headless Chromium: served under a sub-path, and opened from disk."""

import shutil

import pytest

from generator.engine.build import build
from conftest import DEMO_NOW
from servers import static_server


@pytest.fixture
def served(demo_copy, tmp_path):
    build(demo_copy, now=DEMO_NOW, base_url="https://northwind.github.io/status/")
    www = tmp_path / "www"
    shutil.copytree(demo_copy / "build", www / "status")
    with static_server(www) as base:
        yield base + "/status/"


def test_reader_sees_status_and_follows_links_under_sub_path(browser, served):
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    responses = []
    page.on("response", lambda r: responses.append((r.url, r.status)))
    page.goto(served)
    assert page.locator(".banner h1").inner_text() == "Minor Service Outage"
    # The stylesheet loaded: the banner has its coloured background.
    assert page.locator(".banner").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 248, 197)"
    # A collapsed group opens on click and shows its components.
    page.get_by_text("Payment rails").click()
    assert page.get_by_role("link", name="SEPA transfers").is_visible()
    page.get_by_role("link", name="Elevated API error rates").click()
    page.wait_for_load_state()
    assert page.url == served + "incidents/2026-11-18-api-errors/index.html"
    assert page.locator("li.update").count() == 4
    page.get_by_role("navigation", name="Site").get_by_role("link", name="History").click()
    assert page.locator("h1").inner_text() == "Incident history"
    assert dialogs == [] and failed == []
    assert all(status in (200, 304) for _, status in responses), responses


def test_dark_mode_follows_the_reader_system(browser, served):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(served)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    context.close()
    light = browser.new_page()
    light.goto(served)
    assert light.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"


def test_pages_work_opened_from_disk(browser, demo_copy):
    build(demo_copy, now=DEMO_NOW)
    page = browser.new_page()
    page.goto((demo_copy / "build" / "index.html").as_uri())
    assert page.locator(".banner h1").inner_text() == "Minor Service Outage"
    page.get_by_role("link", name="Delayed webhook deliveries").click()
    assert page.locator("h1").inner_text().startswith("Delayed webhook deliveries")
    assert page.locator("link[rel=stylesheet]").evaluate("l => l.sheet !== null")
