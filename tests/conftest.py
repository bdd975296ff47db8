"""Shared fixtures: tiny sites on disk, the demo site, and a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# The time the demo site is rendered at in tests, so its active incident and upcoming maintenance stay so.
DEMO_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

MINIMAL_SITE = """\
site:
  title: Test Status
  base_url: https://status.test.example/
components:
  - id: api
    name: API
    group: Core
  - id: web
    name: Website
    group: Core
  - id: db
    name: Database
"""


def write_site(root: Path, site_yaml: str = MINIMAL_SITE, incidents: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text(textwrap.dedent(site_yaml))
    (root / "incidents").mkdir(exist_ok=True)
    for name, text in (incidents or {}).items():
        (root / "incidents" / name).write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site")


def copy_demo(target: Path) -> Path:
    """A copy of the shipped demo site at `target`, safe to modify."""
    target.mkdir(parents=True)
    for name in ("site.yaml", "incidents", "templates", "history"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.is_file():
            shutil.copy(source, target / name)
    return target


@pytest.fixture
def on_every_core(monkeypatch):
    """Every kind of work spread over forked workers whatever its size, as a large site's cold build does."""
    from dataclasses import fields

    from generator.engine.parallel import Thresholds, tuned

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("threading.active_count", lambda: 1)  # pytest may run threads of its own
    with tuned(**{field.name: 1 for field in fields(Thresholds)}):
        yield


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    return copy_demo(tmp_path / "demo")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM) and os.environ.get("HELIOGRAPH_SKIP_BROWSER_TESTS") == "1":
        pytest.skip(f"{CHROMIUM} is missing and HELIOGRAPH_SKIP_BROWSER_TESTS=1 (CI on macOS and Windows)")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield instance
        instance.close()


@pytest.fixture
def webhook():
    """A JSON webhook receiver on 127.0.0.1 (tests/receivers.py)."""
    from receivers import Webhook

    receiver = Webhook()
    yield receiver
    receiver.close()


@pytest.fixture
def mailbox():
    """An SMTP server on 127.0.0.1 that keeps every message it receives: (Mailbox, port)."""
    from aiosmtpd.controller import Controller
    from receivers import Mailbox, free_port

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()
