"""An automatic incident opened for a degraded component, which then goes down: the incident
says so (an update, the effect raised to a major outage), and a person's own effect is kept."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from clirun import invoke
from test_alerts import send_at, write_results, write_site


def _site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", 'hook: "json://127.0.0.1:9/"', api_url="http://127.0.0.1:9/",
                      extra_alerts="  auto_incident: true\n  on: [down, degraded]\n")


def test_degraded_worsening_to_down_raises_the_incident_and_says_so(tmp_path):
    root = _site(tmp_path)
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
    send_at(root, start)
    send_at(root, write_results(root, start, "ugggg"))
    [opened] = list((root / "incidents").glob("*.md"))
    assert "api: degraded_performance" in opened.read_text() and "impact: minor" in opened.read_text()
    send_at(root, write_results(root, start + timedelta(hours=3), "dddd"))
    text = opened.read_text()
    assert list((root / "incidents").glob("*.md")) == [opened]  # the same incident, no second file
    assert "api: major_outage" in text and "impact: critical" in text
    assert "Worse: Public API is down now: HTTP 503 from 1 of 1 locations." in text
    assert text.count("· Investigating") == 2  # the status a person or the opening gave it stays
    built = invoke("--site", str(root), "build")
    assert built.code == 0, built.stderr
    page = (root / "build" / "incidents" / opened.stem / "index.html").read_text()
    assert "Worse: Public API is down now" in page and "(major outage)" in page


def test_a_person_s_own_effect_is_kept_when_it_worsens(tmp_path):
    root = _site(tmp_path)
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
    send_at(root, start)
    send_at(root, write_results(root, start, "ugggg"))
    [opened] = list((root / "incidents").glob("*.md"))
    edited = opened.read_text().replace("api: degraded_performance", "api: partial_outage")
    opened.write_text(edited)
    send_at(root, write_results(root, start + timedelta(hours=3), "dddd"))
    assert opened.read_text() == edited
