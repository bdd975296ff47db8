"""The embeddable status, in headless Chromium, on a host page of another origin.

Two servers on 127.0.0.1: one serves build/ as Cloudflare Pages or Netlify would, applying its
_headers file (so the widget's cross-origin fetch also tests those rules), the other the host page.
"""

from __future__ import annotations

import http.server
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from generator.engine.build import build
from servers import static_server
from test_outputs_api import fresh_demo
from conftest import DEMO_NOW


def read_headers_file(path: Path) -> list[tuple[re.Pattern, list[tuple[str, str]]]]:
    """_headers as both hosts read it: a path (a trailing * matches anything) and indented headers."""
    rules: list[tuple[re.Pattern, list[tuple[str, str]]]] = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace():
            name, value = line.strip().split(":", 1)
            rules[-1][1].append((name.strip(), value.strip()))
        else:
            rules.append((re.compile("^" + re.escape(line.strip()).replace(r"\*", ".*") + "$"), []))
    return rules


class _HeadersFileHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with the headers _headers gives their path (a header a rule sets replaces the default)."""

    rules: list = []

    def _rule_headers(self) -> dict[str, str]:
        path = urlsplit(self.path).path
        if path.endswith("/"):
            path += "index.html"
        headers: dict[str, str] = {}
        for pattern, pairs in self.rules:
            if pattern.match(path):
                for name, value in pairs:
                    # Cloudflare joins a header set by two rules with a comma; keep that visible.
                    headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return headers

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() not in {name.lower() for name in self._rule_headers()}:
            super().send_header(keyword, value)

    def end_headers(self) -> None:
        for name, value in self._rule_headers().items():
            super().send_header(name, value)
        super().end_headers()

    def log_message(self, *args) -> None:
        pass


@contextmanager
def static_host(directory: Path, *, apply_headers: bool = True):
    rules = read_headers_file(directory / "_headers") if apply_headers else []
    handler_class = type("Handler", (_HeadersFileHandler,), {"rules": rules})
    with static_server(directory, handler_class) as base:
        yield base


HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Host</title></head>
<body>
<h1>Our product</h1>
<iframe id="frame" src="{site}/embed/index.html?components=api,webhooks&amp;theme=dark" width="360" height="140"
        style="border:0" title="Service status"></iframe>
<iframe id="plain" src="{site}/embed/" width="360" height="60" style="border:0" title="Service status"></iframe>
<div data-heliograph data-components="webhooks,sepa"></div>
<script src="{site}/embed/status.js" async></script>
<script>
  window.heights = [];
  window.addEventListener("message", (e) => {{ if (e.data && e.data.heliograph === "embed-height") heights.push(e.data.height); }});
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    demo = fresh_demo(tmp_path_factory.mktemp("embed") / "demo")
    build(demo, now=DEMO_NOW)
    return demo / "build"


@contextmanager
def host_page(tmp_path: Path, site_url: str):
    (tmp_path / "host").mkdir(exist_ok=True)
    (tmp_path / "host/index.html").write_text(HOST_PAGE.format(site=site_url))
    with static_server(tmp_path / "host") as host_url:
        yield host_url + "/index.html"


def test_iframe_and_script_show_the_status_on_another_origin(browser, built, tmp_path):
    with static_host(built) as site_url, host_page(tmp_path, site_url) as host_url:
        context = browser.new_context()
        page = context.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        origins, problems = set(), []
        page.on("request", lambda request: origins.add("{0.scheme}://{0.netloc}".format(urlsplit(request.url))))
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        failed = []
        page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(host_url)

        frame = page.frame_locator("#frame")
        assert frame.locator(".hg-desc").inner_text() == "Minor Service Outage"
        assert frame.locator(".hg-site").inner_text() == "Northwind Pay Status"
        shown = frame.locator(".hg-list li:not([hidden])")
        assert shown.evaluate_all("items => items.map(i => i.innerText.replace(/\\s+/g, ' ').trim())") == [
            "API Operational", "Webhooks Degraded performance"]
        assert frame.locator("#hg").get_attribute("data-theme") == "dark"
        link = frame.locator(".hg-overall")
        assert (link.get_attribute("href"), link.get_attribute("target"), link.get_attribute("rel")) == (
            "https://status.northwind.example/", "_blank", "noopener")
        # Without ?components= only the overall status shows.
        plain = page.frame_locator("#plain")
        assert plain.locator(".hg-desc").inner_text() == "Minor Service Outage"
        assert plain.locator(".hg-list").is_hidden()

        widget = page.locator("[data-heliograph] .hg")  # Playwright's CSS reaches into the open shadow root
        assert widget.locator(".hg-desc").inner_text() == "Minor Service Outage"
        assert widget.locator("li").evaluate_all("items => items.map(i => i.innerText.replace(/\\s+/g, ' ').trim())") == [
            "Webhooks Degraded performance", "SEPA transfers Operational"]
        # Its links go to the site the script came from, derived from the script's own URL.
        assert widget.locator("li a").first.get_attribute("href") == f"{site_url}/components/webhooks/"
        assert page.locator("[data-heliograph]").evaluate("host => host.shadowRoot.querySelector('style') !== null")
        # The host page's styles do not reach in, nor ours out.
        assert page.locator("h1").evaluate("h => getComputedStyle(h).color") == "rgb(0, 0, 0)"

        page.wait_for_function("window.heights.length >= 1")
        assert all(height > 20 for height in page.evaluate("window.heights"))
        # No third-party requests, no cookies, no errors (a Content-Security-Policy violation is one).
        assert origins == {urlsplit(site_url)._replace(path="").geturl(), urlsplit(host_url)._replace(path="").geturl()}
        assert context.cookies() == []
        # The host page has no favicon; anything else missing would be ours.
        assert [url for url in failed if not url.endswith("/favicon.ico")] == []
        assert [p for p in problems if not p.startswith("Failed to load resource")] == []
        context.close()


def test_the_widget_needs_the_cors_rules_from_headers(browser, built, tmp_path):
    """Served without _headers, the browser refuses the cross-origin read: the widget says so and links the page."""
    with static_host(built, apply_headers=False) as site_url, host_page(tmp_path, site_url) as host_url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        page.goto(host_url)
        assert page.locator("[data-heliograph] .hg-desc").inner_text() == "Status unavailable: open the status page"
        assert page.locator("[data-heliograph] a").get_attribute("href") == site_url + "/"
        page.close()


def test_headers_served_for_cross_origin_readers(browser, built):
    with static_host(built) as site_url:
        page = browser.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        responses = {path: page.request.get(site_url + "/" + path) for path in
                     ("api/v2/summary.json", "feed.json", "feed.atom", "maintenance.ics", "badges/status.svg",
                      "embed/status.js", "index.html")}
        page.close()
    for path, response in responses.items():
        assert response.ok, path
        cors = response.headers.get("access-control-allow-origin")
        assert cors == (None if path == "index.html" else "*"), path
    assert responses["feed.json"].headers["content-type"].startswith("application/feed+json")
    assert responses["maintenance.ics"].headers["content-type"].startswith("text/calendar")
    assert responses["badges/status.svg"].headers["content-type"].startswith("image/svg+xml")
    assert responses["embed/status.js"].headers["content-type"].startswith("text/javascript")
    assert "max-age=60" in responses["api/v2/summary.json"].headers["cache-control"]


def test_iframe_without_javascript_shows_the_overall_status(browser, built):
    with static_host(built) as site_url:
        context = browser.new_context(java_script_enabled=False, color_scheme="dark")
        page = context.new_page()
        page.clock.set_fixed_time(DEMO_NOW)  # read when built: the embed judges staleness then
        page.goto(site_url + "/embed/index.html?components=api")
        assert page.locator(".hg-desc").inner_text() == "Minor Service Outage"
        assert page.locator(".hg-list").is_hidden()
        # prefers-color-scheme: dark, with no ?theme=, gives the dark palette.
        assert page.locator(".hg").evaluate("box => getComputedStyle(box).backgroundColor") == "rgb(13, 17, 23)"
        context.close()


def test_embed_is_small_and_keeps_user_text_out_of_scripts(built):
    html = (built / "embed/index.html").read_bytes()
    script = (built / "embed/status.js").read_bytes()
    # The script also looks up its words in the site's language (embed.widget_words; none for English),
    # and both find the reader's language (?lang=, data-lang) among the site's, and mark components
    # stale when read after the page missed a rebuild (the box carries that moment and the words);
    # the script asks for news every 5 minutes while open.
    assert len(html) < 10_500 and len(script) < 11_000
    tree = lxml.html.fromstring(html)
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    inline = tree.xpath("//script")[0].text
    assert "Northwind" not in inline and "Webhooks" not in inline
    assert b"Northwind" not in script and b"innerHTML" not in script
