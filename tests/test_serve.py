"""`heliograph serve`: a real server process, real edits, and a real browser tab that reloads by itself."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from clirun import invoke, process_env
from conftest import write_site
from generator.site.problems import Problem
from generator.ops.serve import (VERSION_PATH, BuildOutcome, DevRequestHandler, DevServer, SiteBuilder, error_page,
                             with_reload_script)

STARTED = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M UTC")
INCIDENT = f"""\
---
title: Delayed webhook deliveries
components: [api]
---

## {STARTED} · Investigating
Some events arrive late.
"""
TIMEOUT = 20


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(condition, what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def fetch_until(url: str, wanted, what: str) -> tuple[int, str]:
    return wait_for(lambda: (lambda r: r if wanted(*r) else None)(fetch(url)), what)


class ServeProcess:
    """`python -m generator.cli serve --port 0` with its output collected as it comes."""

    def __init__(self, site: Path, tmpdir: Path):
        self.tmpdir = tmpdir
        self.process = subprocess.Popen(
            [sys.executable, "-m", "generator.cli", "serve", "--port", "0"], cwd=site,
            env=process_env({"TMPDIR": str(tmpdir)}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        for stream, sink in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            threading.Thread(target=self._collect, args=(stream, sink), daemon=True).start()
        self.url = wait_for(self._url, "the server to say where it listens")

    def _collect(self, stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)
            self.lines.put(line)

    def _url(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited early: {''.join(self.stdout)}{''.join(self.stderr)}")
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", "".join(self.stdout))
        return match.group(1) if match else None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            # Generous: on a loaded 2-core CI machine the watcher's last rebuild may still be running.
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def served(tmp_path):
    site = write_site(tmp_path / "site", incidents={"2026-01-10-webhooks.md": INCIDENT})
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    server = ServeProcess(site, tmpdir)
    yield site, server
    server.stop()


def test_serve_rebuilds_reloads_reports_and_recovers(served, browser):
    site, server = served
    incident_url = server.url + "incidents/2026-01-10-webhooks/"
    status, body = fetch(incident_url)
    assert status == 200 and "Delayed webhook deliveries" in body
    assert body.count("data-heliograph-reload") == 1
    assert not (site / "build").exists()  # the preview never touches build/

    tab = browser.new_page()
    tab.goto(incident_url)
    assert "Delayed webhook deliveries" in tab.locator("h1").inner_text()
    tab.evaluate("window.notReloaded = true")  # gone once the tab reloads

    path = site / "incidents/2026-01-10-webhooks.md"
    path.write_text(INCIDENT.replace("Delayed webhook deliveries", "Delayed webhook deliveries in the EU"))
    fetch_until(incident_url, lambda status, body: "deliveries in the EU" in body, "the edit to be served")
    tab.wait_for_function("document.querySelector('h1').innerText.includes('in the EU')", timeout=TIMEOUT * 1000)
    assert tab.evaluate("window.notReloaded") is None

    # A typo: the page and the terminal say where, and the server keeps running.
    path.write_text(INCIDENT.replace("· Investigating", "· Investigatin"))
    status, body = fetch_until(server.url, lambda status, body: status == 500, "the error page")
    assert "incidents/2026-01-10-webhooks.md:6:27" in body and "unknown status &#x27;Investigatin&#x27;" in body
    assert "data-heliograph-reload" in body
    tab.wait_for_function("document.querySelector('h1').innerText.startsWith('The site does not build')",
                          timeout=TIMEOUT * 1000)
    assert "incidents/2026-01-10-webhooks.md:6:27" in tab.locator("ul.problems").inner_text()
    wait_for(lambda: any("incidents/2026-01-10-webhooks.md:6:27: error: unknown status 'Investigatin'" in line
                         for line in server.stderr), "the problem in the terminal")
    assert fetch(server.url + "assets/style.css")[0] == 200  # the last good build's assets still load

    path.write_text(INCIDENT.replace("Delayed webhook deliveries", "Webhooks are back"))
    fetch_until(incident_url, lambda status, body: status == 200 and "Webhooks are back" in body, "recovery")
    tab.wait_for_function("document.querySelector('h1').innerText.includes('Webhooks are back')",
                          timeout=TIMEOUT * 1000)
    tab.close()
    wait_for(lambda: any("Fixed: built" in line for line in server.stdout), "the recovery in the terminal")

    assert server.stop() == 0
    assert "Stopped." in "".join(server.stdout)
    assert list(server.tmpdir.iterdir()) == []  # the temporary build is removed


def test_site_yaml_and_template_edits_rebuild_too(served):
    site, server = served
    (site / "site.yaml").write_text((site / "site.yaml").read_text().replace("Test Status", "Renamed Status"))
    fetch_until(server.url, lambda status, body: "Renamed Status" in body, "the site.yaml edit")
    templates = site / "templates"
    templates.mkdir()
    (templates / "404.html").write_text("{% extends 'base.html' %}{% block main %}<p>Custom missing page{% endblock %}")
    status, body = fetch_until(server.url + "nowhere", lambda status, body: "Custom missing page" in body,
                               "the template edit")
    assert status == 404 and "data-heliograph-reload" in body
    (templates / "404.html").write_text("{% extends 'base.html' %}\n{% block main %}\n{% if %}\n{% endblock %}")
    status, body = fetch_until(server.url, lambda status, body: status == 500, "the template error")
    assert "templates/404.html:3" in body


# --- in process: the pieces ---------------------------------------------------------------


def test_reload_script_goes_before_the_last_body_end():
    page = b"<html><body><p>&lt;/body&gt;</p></BODY >\n</html>"
    injected = with_reload_script(page, "run-1")
    assert injected.startswith(b"<html><body><p>&lt;/body&gt;</p><script data-heliograph-reload>")
    assert injected.endswith(b"</script>\n</BODY >\n</html>")
    assert b'var version = "run-1";' in injected
    assert with_reload_script(b"<p>fragment", "v").startswith(b"<p>fragment<script")


def test_error_page_escapes_and_locates():
    outcome = BuildOutcome("v1", (Problem("incidents/a<b>.md", 3, 7, "bad <script>"),
                                  Problem("site.yaml", None, None, "worse")), ok=False)
    page = error_page(outcome).decode()
    assert "incidents/a&lt;b&gt;.md:3:7" in page and "bad &lt;script&gt;" in page and "<script>" not in page.replace(
        "<script data-heliograph-reload>", "")
    assert "2 problems" in page


@pytest.fixture
def in_process(tmp_path):
    site = write_site(tmp_path / "site", incidents={"2026-01-10-webhooks.md": INCIDENT})
    output = tmp_path / "out"
    server = DevServer(("127.0.0.1", 0), lambda *args: DevRequestHandler(*args, directory=output))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    server.builder = SiteBuilder(site, output, base_url=url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, server, url
    server.shutdown()
    server.server_close()


def test_responses(in_process):
    site, server, url = in_process
    assert server.builder.rebuild().ok
    version = server.builder.outcome.version
    status, body = fetch(url + VERSION_PATH.lstrip("/"))
    assert (status, body) == (200, f'{{"version": "{version}", "ok": true}}')
    status, css = fetch(url + "assets/style.css")
    assert status == 200 and "heliograph-reload" not in css
    with urllib.request.urlopen(url + "history/index.html") as response:
        assert response.headers["Cache-Control"] == "no-store"
        assert f'var version = "{version}"' in response.read().decode()
    redirect = urllib.request.Request(url + "history", method="HEAD")
    with urllib.request.urlopen(redirect) as response:  # follows the redirect to history/
        assert response.url == url + "history/" and response.status == 200
    assert fetch(url + "missing/page")[0] == 404
    assert fetch(url + "missing.png")[0] == 404

    (site / "site.yaml").write_text("site: [")
    outcome = server.builder.rebuild(["site.yaml"])
    assert not outcome.ok and outcome.version != version and outcome.changed == ("site.yaml",)
    assert fetch(url)[0] == 500 and fetch(url + "assets/style.css")[0] == 200


def test_template_crash_is_located(in_process):
    site, server, url = in_process
    (site / "templates").mkdir()
    (site / "templates/history.html").write_text("{% extends 'base.html' %}\n{% block main %}\n"
                                                 "{{ no_such_thing.attribute }}\n{% endblock %}\n")
    outcome = server.builder.rebuild()
    assert not outcome.ok
    [problem] = outcome.problems
    assert (problem.file, problem.line) == ("templates/history.html", 3)
    assert "no_such_thing" in problem.message and "Traceback" in outcome.detail


def test_a_taken_port_is_a_clear_error(site_root):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ran = invoke("serve", "--port", str(taken.getsockname()[1]), cwd=site_root)
    assert ran.code == 1
    assert "cannot listen on 127.0.0.1:" in ran.stderr and "pick another port with --port" in ran.stderr
