"""Automatic incidents (issue #18 part 2), the groundwork: `auto: true` in an incident's front
matter and `alerts.auto_incident` in site.yaml are accepted, and bad values are located.

Real sites written by `heliograph init`, built and validated through the CLI.
"""

from __future__ import annotations

from pathlib import Path

from clirun import invoke

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


def test_alerts_auto_incident_is_a_known_key_and_must_be_a_flag(tmp_path: Path) -> None:
    site = _site(tmp_path)
    config = site / "site.yaml"
    original = config.read_text()
    assert "#   auto_incident:" in original  # the commented example `init` writes
    config.write_text(original + "\nalerts:\n  auto_incident: true\n")
    accepted = invoke("validate", cwd=site)
    assert accepted.code == 0, accepted.stderr
    config.write_text(original + "\nalerts:\n  auto_incident: maybe\n")
    refused = invoke("validate", cwd=site)
    assert refused.code == 1
    assert '"auto_incident" must be true or false' in refused.stderr
    assert "site.yaml:" in refused.stderr
