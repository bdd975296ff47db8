"""`heliograph demo`: the repository's demo, moved to end now, looks alive on any date.

Run as a newcomer runs README's first command, in its own process, at dates long after the
committed demo's; read back from the built API and pages.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import pytest

from clirun import run
from conftest import REPO


def _source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([REPO / "site.yaml", *(REPO / "incidents").rglob("*"), *(REPO / "history").rglob("*")]):
        if path.is_file():
            digest.update(path.relative_to(REPO).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("now", ["2027-03-01T15:30:00Z", "2027-03-01T06:10:00Z", "2026-12-24T23:59:00Z"])
def test_the_demo_ends_now_whatever_the_date(tmp_path, now):
    before = _source_digest()
    ran = run("demo", str(tmp_path / "demo"), "--now", now, cwd=tmp_path, timeout=180)
    assert ran.code == 0, ran.stderr
    assert "open " in ran.stderr and "build/index.html" in ran.stderr
    at = datetime.fromisoformat(now.replace("Z", "+00:00"))
    status = json.loads((tmp_path / "demo" / "build" / "api" / "status.json").read_text())
    checked = [c for c in status["components"] if c["monitored"]]
    assert checked
    for component in checked:
        last = datetime.fromisoformat(component["last_checked"].replace("Z", "+00:00"))
        assert timedelta(0) <= at - last <= timedelta(minutes=10), component["id"]
        assert not component["stale"], component["id"]
        assert None not in (component["uptime"]["24h"], component["uptime"]["7d"], component["uptime"]["30d"])
        assert component["response_time_ms"] is not None
    # The same four incidents, at the same distance from the end of the history as in the repository.
    unresolved = json.loads((tmp_path / "demo" / "build" / "api" / "v2" / "incidents" / "unresolved.json").read_text())
    [open_incident] = unresolved["incidents"]
    assert open_incident["name"] == "Delayed webhook deliveries"
    opened = datetime.fromisoformat(open_incident["created_at"].replace("Z", "+00:00"))
    assert timedelta(0) < at - opened < timedelta(days=2)
    upcoming = json.loads((tmp_path / "demo" / "build" / "api" / "v2" / "scheduled-maintenances" / "upcoming.json")
                          .read_text())["scheduled_maintenances"]
    assert [m["name"] for m in upcoming] == ["Database upgrade"]
    assert len(list((tmp_path / "demo" / "incidents").glob("*.md"))) == len(list((REPO / "incidents").glob("*.md")))
    page = (tmp_path / "demo" / "build" / "index.html").read_text(encoding="utf-8")
    assert "No check result since" not in page
    assert _source_digest() == before  # the committed demo is an example of the formats, left as it is


def test_the_demo_refuses_a_folder_of_someone_elses_and_replaces_its_own(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    ran = run("demo", "mine", cwd=tmp_path)
    assert ran.code == 1 and "is not empty" in ran.stderr
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    # README's first command, run twice: the second run writes the demo anew.
    assert run("demo", cwd=tmp_path, timeout=180).code == 0
    assert run("demo", "--now", "2027-01-01T12:00:00Z", cwd=tmp_path, timeout=180).code == 0
    index = (tmp_path / "demo" / "build" / "index.html").read_text(encoding="utf-8")
    assert "2027" in index


def test_readmes_first_command_builds_the_live_demo():
    first = (REPO / "README.md").read_text(encoding="utf-8").splitlines()[0].strip()
    assert first == "pip install -e . && heliograph demo"
