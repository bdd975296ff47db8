"""Automatic incidents (issue #18 part 2), the groundwork: `auto: true` in an incident's front
matter and `alerts.auto_incident` is refused until it works, bad values are located, and the
automatic file's text (opening, appended resolve) passes the build's own parser.

Real sites written by `heliograph init`, built and validated through the CLI.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from clirun import invoke

from generator.alerts.auto_incident import auto_incident_id, opening_text, recovered_text
from generator.alerts.rules import Transition
from generator.checks.result import CheckResult

AUTO_INCIDENT = """---
title: API is down
impact: critical
components:
  api: major_outage
auto: {auto}
---

## 2026-12-04 10:00 UTC · Investigating
API is down: HTTP 503 from 2 of 2 locations.
"""


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    assert invoke("init", str(site)).code == 0
    for example in (site / "incidents").glob("*.md"):
        example.unlink()
    return site


def test_an_auto_true_incident_builds_and_shows_on_the_page(tmp_path: Path) -> None:
    site = _site(tmp_path)
    (site / "incidents" / "2026-12-04-api-status-503.md").write_text(AUTO_INCIDENT.format(auto="true"))
    built = invoke("build", cwd=site)
    assert built.code == 0, built.stderr
    page = (site / "build" / "index.html").read_text()
    assert "API is down" in page
    validated = invoke("validate", cwd=site)
    assert validated.code == 0, validated.stderr
    assert "auto" not in validated.stderr


def test_a_non_boolean_auto_is_located_and_keeps_the_last_build(tmp_path: Path) -> None:
    site = _site(tmp_path)
    assert invoke("build", cwd=site).code == 0
    good_index = (site / "build" / "index.html").read_text()
    (site / "incidents" / "2026-12-04-api-status-503.md").write_text(AUTO_INCIDENT.format(auto="sometimes"))
    built = invoke("build", cwd=site)
    assert built.code == 1
    assert "2026-12-04-api-status-503.md:6:7: error:" in built.stderr
    assert '"auto" must be true or false' in built.stderr
    assert "Traceback" not in built.stderr
    assert (site / "build" / "index.html").read_text() == good_index


def test_alerts_auto_incident_is_refused_until_alert_send_acts_on_it(tmp_path: Path) -> None:
    """An accepted setting that does nothing would tell a team incidents open themselves when none would."""
    site = _site(tmp_path)
    config = site / "site.yaml"
    config.write_text(config.read_text() + "\nalerts:\n  auto_incident: true\n")
    refused = invoke("validate", cwd=site)
    assert refused.code == 1
    assert 'unknown key "auto_incident" in alerts' in refused.stderr and "site.yaml:" in refused.stderr


# --- the automatic file's text, through the build's own parser --------------------------------

OPENED = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)


def _down(kind: str = "down") -> Transition:
    result = CheckResult(component="api", time=OPENED, status="down", reason="status_503",
                         message="HTTP 503", latency_ms=12.0, location="eu")
    return Transition(component="api", kind=kind, time=OPENED, since=OPENED - timedelta(minutes=10),
                      state_level=2, bad_locations=2, locations=2, result=result, failed_rounds=3)


def test_an_automatic_incident_opens_as_the_page_shows_it_and_resolves_by_appending(tmp_path: Path) -> None:
    site = _site(tmp_path)
    name = auto_incident_id(_down())
    assert name == "2026-12-04-api-status-503"
    path = site / "incidents" / f"{name}.md"
    path.write_text(opening_text(_down(), "API"))
    text = path.read_text()
    assert "auto: true" in text and "api: major_outage" in text
    assert "API is down: HTTP 503 from 2 of 2 locations" in text
    assert "· Investigating" in text
    assert invoke("build", cwd=site).code == 0
    page = (site / "build" / "index.html").read_text()
    assert "API is down: HTTP 503 from 2 of 2 locations" in page

    # A person meanwhile gives it a better title and adds an update; the resolve keeps both.
    edited = text.replace("title: 'API is down: HTTP 503 from 2 of 2 locations'", "title: Checkout API errors")
    assert edited != text
    edited = edited.replace("## 2026-12-04", "## 2026-12-04 10:05 UTC · Identified\nA bad deploy; rolling back.\n\n## 2026-12-04", 1)
    path.write_text(edited)
    resolved = recovered_text(path.read_text(), "identified", OPENED, OPENED + timedelta(minutes=23))
    assert resolved is not None
    assert resolved.endswith(edited.split("---\n", 2)[2])  # every byte the person wrote stays
    assert "title: Checkout API errors" in resolved and "rolling back" in resolved
    assert "· Resolved\nRecovered after 23 min." in resolved
    path.write_text(resolved)
    built = invoke("build", cwd=site)
    assert built.code == 0, built.stderr
    incident_page = (site / "build" / "incidents" / name / "index.html").read_text()
    assert "Recovered after 23 min." in incident_page and "Checkout API errors" in incident_page


def test_an_incident_a_person_resolved_is_not_resolved_again() -> None:
    text = opening_text(_down(), "API")
    assert recovered_text(text, "resolved", OPENED, OPENED + timedelta(minutes=5)) is None


def test_degraded_opens_with_degraded_performance(tmp_path: Path) -> None:
    site = _site(tmp_path)
    text = opening_text(_down("degraded"), "API")
    assert "api: degraded_performance" in text and "API is degraded" in text
    (site / "incidents" / f"{auto_incident_id(_down('degraded'))}.md").write_text(text)
    built = invoke("build", cwd=site)
    assert built.code == 0, built.stderr
