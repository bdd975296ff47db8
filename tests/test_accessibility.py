"""Every page type read by axe-core in Chromium, and all of build/ by the Nu HTML checker.

Both tools come from npm (tests/js/package.json; `.ci/run` installs them with `npm ci --prefix
tests/js`, and Java for the checker). Where they are missing the tests skip and say how to get
them, except in CI (`CI=true`), where a missing tool fails the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import DEMO_NOW, REPO
from generator.engine.build import build
from servers import static_server
from test_embed import static_host
from test_outputs_api import fresh_demo

TOOLS = REPO / "tests" / "js" / "node_modules"
AXE = TOOLS / "axe-core" / "axe.min.js"
VNU = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"

PAGES = ["index.html", "components/api/index.html", "components/webhooks/index.html",
         "incidents/2026-11-18-api-errors/index.html", "incidents/2026-12-08-database-upgrade/index.html",
         "history/index.html", "subscribe/index.html", "404.html", "embed/index.html",
         "embed/index.html?components=all&theme=dark"]


def _needs(path, what: str) -> None:
    if path.exists() and (path != VNU or shutil.which("java")):
        return
    message = f"{what} is missing: `npm ci --prefix tests/js` (and Java for the HTML checker) installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    demo = fresh_demo(tmp_path_factory.mktemp("a11y") / "demo")
    build(demo, now=DEMO_NOW)
    return demo / "build"


def _violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
      const result = await axe.run(document, {resultTypes: ['violations']});
      return result.violations.map(v => `${v.impact} ${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
    }""")
    return found


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_on_any_page_type(browser, built, width, scheme):
    _needs(AXE, "axe-core")
    with static_server(built) as url:
        # bypass_csp: the embed's Content-Security-Policy would refuse axe's script, as it should.
        context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme, bypass_csp=True)
        page = context.new_page()
        found = {}
        for path in PAGES:
            page.goto(f"{url}/{path}")
            violations = _violations(page)
            if violations:
                found[path] = violations
        context.close()
    assert found == {}


HOST = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Our product</title></head>
<body><main><h1>Our product</h1>
<div data-heliograph data-components="all"></div>
<script src="SITE/embed/status.js" async></script>
</main></body></html>"""


def test_axe_finds_nothing_on_a_host_page_with_the_widget_from_another_origin(browser, built, tmp_path):
    _needs(AXE, "axe-core")
    (tmp_path / "host").mkdir()
    with static_host(built) as site_url:
        (tmp_path / "host" / "index.html").write_text(HOST.replace("SITE", site_url), encoding="utf-8")
        with static_server(tmp_path / "host") as host_url:
            for scheme in ("light", "dark"):
                context = browser.new_context(color_scheme=scheme)
                page = context.new_page()
                page.goto(host_url + "/index.html")
                page.wait_for_function("document.querySelector('[data-heliograph]').shadowRoot"
                                       "?.querySelector('.hg-list') != null")
                assert _violations(page) == [], scheme
                context.close()


def test_the_nu_html_checker_finds_no_error_in_build(built):
    _needs(VNU, "the Nu HTML checker (vnu-jar)")
    pages = sorted(str(path) for path in built.rglob("*.html"))
    done = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
                          capture_output=True, text=True, timeout=600)
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    errors = [f"{m.get('url', '').split('/build/')[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages
              if m.get("type") == "error"]
    assert errors == []
    assert len(pages) > 15  # every page of the demo, the embed among them
