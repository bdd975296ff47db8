"""Heartbeats: a job that cannot be probed reports with `heliograph beat`.

A local HTTP server stands in for the GitHub API (GITHUB_API_URL at 127.0.0.1) and records the
dispatch it gets; end to end, a local bare remote stands in for GitHub, and fresh processes
run `beat`, `check` and `build` with HELIOGRAPH_NOW moving the clock.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from conftest import write_site
from gitrun import bare_remote_with_site, sh
from gitrun import clean_env as runner_env

from generator import history
from generator.checks.heartbeat import MISSED, last_beats, missed_beat
from generator.checks.spec import HeartbeatCheck, parse_check

REPO = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
BACKUP_JOB = {
    "GIT_AUTHOR_NAME": "Backup Job", "GIT_AUTHOR_EMAIL": "backup@example.test",
    "GIT_COMMITTER_NAME": "Backup Job", "GIT_COMMITTER_EMAIL": "backup@example.test",
    "GIT_CONFIG_NOSYSTEM": "1",
}
SITE_YAML = """\
site:
  title: Heartbeat Test
  base_url: https://status.test.example/
display:
  uptime_mode: duration
components:
  - id: backup
    name: Nightly Backup
    check: {type: heartbeat, every: 1h, grace: 10m}
  - id: web
    name: Website
"""


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    return runner_env(home, identity=BACKUP_JOB, **extra)


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def heliograph(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "generator.cli", *args, cwd=cwd, env=env)


# --- the GitHub API's stand-in ---------------------------------------------------------------


class FakeGitHub(http.server.ThreadingHTTPServer):
    """Answers POST /repos/.../dispatches with `status` and keeps every request it got."""

    def __init__(self, status: int = 204):
        self.requests: list[dict] = []
        self.status = status
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.send_response(self.server.status)
        if self.server.status == 204:
            self.end_headers()
            return
        answer = json.dumps({"message": "Resource not accessible by personal access token"}).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def github():
    servers = []

    def start(status: int = 204) -> FakeGitHub:
        server = FakeGitHub(status)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_beat_dispatch_posts_a_heartbeat_event_with_the_token_from_the_environment(tmp_path, github):
    api = github()
    token = "github_pat_11TESTTOKENabcdef0123456789"
    env = clean_env(tmp_path, GITHUB_API_URL=api.url, GITHUB_REPOSITORY="acme/status", HELIOGRAPH_TOKEN=token,
                    HELIOGRAPH_NOW=iso(START))
    done = heliograph("beat", "backup", "--dispatch", "--status", "down", "-m", "disk full", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    [request] = api.requests
    assert request["path"] == "/repos/acme/status/dispatches"
    assert request["headers"]["Authorization"] == f"Bearer {token}"
    assert request["headers"]["Accept"] == "application/vnd.github+json"
    body = json.loads(request["body"])
    sent = datetime.fromisoformat(body["client_payload"].pop("time").replace("Z", "+00:00"))
    assert START <= sent < START + timedelta(minutes=1)  # HELIOGRAPH_NOW's clock, running on from START
    assert body == {"event_type": "heartbeat",
                    "client_payload": {"component": "backup", "status": "down", "message": "disk full"}}
    assert token not in done.stdout + done.stderr
    assert "acme/status" in done.stdout


def test_beat_dispatches_by_itself_where_there_is_no_clone_and_takes_github_token_too(tmp_path, github):
    api = github()
    env = clean_env(tmp_path, GITHUB_API_URL=api.url + "/", GITHUB_REPOSITORY="acme/status",
                    GITHUB_TOKEN="ghs_fallbacktoken")
    done = heliograph("beat", "backup", cwd=tmp_path, env=env)  # no site.yaml here or above
    assert done.returncode == 0, done.stderr
    [request] = api.requests
    assert request["path"] == "/repos/acme/status/dispatches"
    assert request["headers"]["Authorization"] == "Bearer ghs_fallbacktoken"
    assert json.loads(request["body"])["client_payload"]["status"] == "up"


def test_a_refused_dispatch_fails_with_githubs_reason_and_never_the_token(tmp_path, github):
    api = github(status=403)
    token = "github_pat_secret_never_printed"
    env = clean_env(tmp_path, GITHUB_API_URL=api.url, GITHUB_REPOSITORY="acme/status", HELIOGRAPH_TOKEN=token)
    done = heliograph("beat", "backup", "--dispatch", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "403" in done.stderr and "Contents: read and write" in done.stderr
    assert "Resource not accessible" in done.stderr
    assert "Traceback" not in done.stderr and token not in done.stdout + done.stderr


def test_dispatch_without_a_token_says_which_variables_it_needs(tmp_path):
    env = clean_env(tmp_path, GITHUB_REPOSITORY="acme/status")
    done = heliograph("beat", "backup", "--dispatch", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "HELIOGRAPH_TOKEN or GITHUB_TOKEN" in done.stderr and "Traceback" not in done.stderr


# --- site.yaml -------------------------------------------------------------------------------


def test_a_heartbeat_check_is_every_plus_grace_and_its_mistakes_are_located(tmp_path):
    problems: list = []
    spec = parse_check({"type": "heartbeat", "every": "1h", "grace": "10m"}, lambda p, m: problems.append((p, m)))
    assert spec == HeartbeatCheck(every=3600.0, grace=600.0, interval=3600.0) and spec.overdue_after == 4200.0
    assert problems == []
    site = write_site(tmp_path / "site", SITE_YAML.replace("{type: heartbeat, every: 1h, grace: 10m}",
                                                           "{type: heartbeat, grace: soon, timeout: 5s}"))
    done = heliograph("validate", cwd=site, env=clean_env(tmp_path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert 'site.yaml:9:' in done.stderr and 'heartbeat check needs "every"' in done.stderr
    assert 'unknown key "timeout" in heartbeat check' in done.stderr
    assert 'grace: "soon" is not a duration' in done.stderr


def test_a_missed_beat_is_recorded_once_per_period_and_never_while_a_beat_holds():
    spec = HeartbeatCheck(every=3600.0, grace=600.0, interval=3600.0)
    beat_time = START
    from generator.checks.heartbeat import beat_result

    beats = [beat_result("backup", time=beat_time)]
    assert missed_beat("backup", spec, last_beats("backup", beats), START + timedelta(minutes=70)) is None
    missed = missed_beat("backup", spec, last_beats("backup", beats), START + timedelta(minutes=71))
    assert missed is not None and missed.status == "down" and missed.reason == MISSED
    assert "no heartbeat since 2026-11-20 02:00 UTC" in missed.message
    # Later rounds in the same period add nothing; the next period adds one more.
    results = beats + [missed]
    assert missed_beat("backup", spec, last_beats("backup", results), START + timedelta(minutes=100)) is None
    again = missed_beat("backup", spec, last_beats("backup", [missed]), START + timedelta(minutes=131))
    assert again is not None and "02:00 UTC" in again.message  # the last beat carried by the missed result
    # A component that never beat is no data, not down.
    assert missed_beat("backup", spec, last_beats("backup", []), START) is None


def test_a_miss_is_dated_when_its_period_began_so_two_locations_write_one_result(tmp_path):
    """Two runners (two locations of check.yml's matrix) that each check before pulling the
    other's miss write the same line, and the history counts one miss for the period."""
    from generator.checks.heartbeat import beat_result

    spec = HeartbeatCheck(every=3600.0, grace=600.0, interval=3600.0)
    beat = beat_result("backup", time=START)
    overdue = START + timedelta(minutes=70)  # every + grace after the beat
    eu = missed_beat("backup", spec, last_beats("backup", [beat]), START + timedelta(minutes=72))
    us = missed_beat("backup", spec, last_beats("backup", [beat]), START + timedelta(minutes=109))
    assert eu == us and eu.time == overdue
    history.append_results(tmp_path, [beat, eu])
    history.append_results(tmp_path, [us])
    shard = next(tmp_path.rglob("*.jsonl")).read_text()
    assert shard.count("heartbeat_missed") == 2  # both lines are there, as a union merge keeps them
    assert [r.reason for r in history.read_results(tmp_path)] == ["heartbeat", MISSED]  # one result each
    # The next period's miss is dated when that period began, whoever notices it.
    recorded = history.read_results(tmp_path)
    assert missed_beat("backup", spec, last_beats("backup", recorded), START + timedelta(minutes=129)) is None
    later = missed_beat("backup", spec, last_beats("backup", recorded), START + timedelta(minutes=131))
    assert later is not None and later.time == overdue + timedelta(hours=1)


def test_a_miss_is_never_dated_in_a_closed_day_nor_recorded_twice_for_a_fraction_of_a_millisecond(tmp_path):
    from generator.checks.heartbeat import beat_result

    nightly = HeartbeatCheck(every=86400.0, grace=7200.0, interval=86400.0)
    beat = beat_result("backup", time=datetime(2026, 11, 19, 1, 0, tzinfo=timezone.utc))
    # Overdue since 2026-11-20 03:00; noticed the next night, before that period ends.
    noticed = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
    missed = missed_beat("backup", nightly, last_beats("backup", [beat]), noticed)
    assert missed is not None and missed.time == datetime(2026, 11, 21, tzinfo=timezone.utc)
    # A period of a fraction of a millisecond more than an hour: the history keeps the miss to the
    # millisecond, and a later check in the same period still finds it recorded.
    odd = HeartbeatCheck(every=3600.0007, grace=0.0, interval=3600.0)
    first = missed_beat("backup", odd, last_beats("backup", [beat_result("backup", time=START)]),
                        START + timedelta(minutes=61))
    history.append_results(tmp_path, [beat_result("backup", time=START), first])
    assert missed_beat("backup", odd, last_beats("backup", history.read_results(tmp_path)),
                       START + timedelta(minutes=90)) is None


def test_a_beat_that_lands_after_a_miss_recorded_without_it_is_recorded_again_so_the_page_is_up():
    """A dispatched beat is recorded with its sender's time; a check elsewhere that had not seen
    it yet may have recorded a miss after that time. The next check puts the beat's status back."""
    from generator.checks.heartbeat import LATE, beat_result

    spec = HeartbeatCheck(every=3600.0, grace=600.0, interval=3600.0)
    first = beat_result("backup", time=START)
    # Sent before the beat was overdue (70 minutes after the first), recorded after a check that
    # had not seen it dated a miss at that moment.
    late_beat = beat_result("backup", time=START + timedelta(minutes=65))
    unaware = missed_beat("backup", spec, last_beats("backup", [first]), START + timedelta(minutes=73))
    assert unaware is not None and unaware.time > late_beat.time
    # A beat sent after the miss's moment is newer than the miss itself: nothing to correct.
    after = beat_result("backup", time=START + timedelta(minutes=72))
    assert missed_beat("backup", spec, last_beats("backup", [first, unaware, after]),
                       START + timedelta(minutes=80)) is None
    results = [first, late_beat, unaware]
    corrected = missed_beat("backup", spec, last_beats("backup", results), START + timedelta(minutes=80))
    assert corrected is not None and (corrected.status, corrected.reason) == ("up", LATE)
    assert max(results + [corrected], key=lambda r: r.time).status == "up"  # what the page shows
    # Once is enough; and a beat that lands after the miss needs no correction: it is the newest.
    assert missed_beat("backup", spec, last_beats("backup", results + [corrected]), START + timedelta(minutes=90)) is None
    after_miss = beat_result("backup", time=unaware.time + timedelta(minutes=1))
    assert missed_beat("backup", spec, last_beats("backup", [first, unaware, after_miss]),
                       START + timedelta(minutes=80)) is None


# --- end to end: beat, history, check, build --------------------------------------------------


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_remote_with_site(tmp_path, SITE_YAML, clean_env(tmp_path))


def fresh_clone(bare: Path, target: Path, env: dict[str, str]) -> Path:
    sh("git", "clone", "--quiet", str(bare), str(target), cwd=target.parent, env=env)
    return target


def component_page(site: Path, now: datetime, env: dict[str, str]) -> str:
    done = heliograph("build", "--now", iso(now), cwd=site, env=env)
    assert done.returncode == 0, done.stderr
    return (site / "build" / "components" / "backup" / "index.html").read_text()


def status_json(site: Path) -> dict:
    data = json.loads((site / "build" / "api" / "status.json").read_text())
    return {c["id"]: c for c in data["components"]}


def test_a_beat_pushed_from_a_clone_shows_up_and_a_missed_one_shows_down_with_the_last_beats_time(tmp_path, remote):
    home = tmp_path
    job = fresh_clone(remote, tmp_path / "backup-host", clean_env(home))
    beat_at = START + timedelta(minutes=3)
    done = heliograph("beat", "backup", "-m", "42 GB backed up", cwd=job, env=clean_env(home, HELIOGRAPH_NOW=iso(beat_at)))
    assert done.returncode == 0, done.stderr
    assert "Pushed" in done.stdout

    # The scheduled check, in a clone of its own, sees the beat and records nothing for it.
    runner = fresh_clone(remote, tmp_path / "runner", clean_env(home))
    [beat] = history.read_results(runner / "history")
    assert (beat.component, beat.status, beat.reason, beat.message) == ("backup", "up", "heartbeat", "42 GB backed up")
    fresh = beat_at + timedelta(minutes=65)
    done = heliograph("check", cwd=runner, env=clean_env(home, HELIOGRAPH_NOW=iso(fresh)))
    assert done.returncode == 0, done.stderr
    assert len(history.read_results(runner / "history")) == 1
    page = component_page(runner, fresh, clean_env(home))
    assert "last beat" in page and "42 GB backed up" in page
    assert status_json(runner)["backup"]["status"] == "operational"

    # Past every + grace (1h10m) without a beat: down, with when the last beat came.
    late = beat_at + timedelta(minutes=71)
    done = heliograph("check", cwd=runner, env=clean_env(home, HELIOGRAPH_NOW=iso(late)))
    assert done.returncode == 0, done.stderr
    assert "heartbeat_missed" in done.stdout
    # The miss is dated when the beat became overdue, a minute before the check noticed it.
    [missed] = [r for r in history.read_results(runner / "history") if r.reason == MISSED]
    assert missed.time == beat_at + timedelta(minutes=70)
    page = component_page(runner, late + timedelta(seconds=1), clean_env(home))
    assert status_json(runner)["backup"]["status"] == "major_outage"
    assert "no heartbeat since 2026-11-20 02:03 UTC" in page

    # The missed result lands as check.yml pushes it; the next beat brings the component back up.
    assert heliograph("push", cwd=runner, env=clean_env(home)).returncode == 0
    sh("git", "pull", "--quiet", "--rebase", cwd=job, env=clean_env(home))
    done = heliograph("beat", "backup", cwd=job, env=clean_env(home, HELIOGRAPH_NOW=iso(late + timedelta(minutes=5))))
    assert done.returncode == 0, done.stderr
    sh("git", "pull", "--quiet", "--rebase", cwd=runner, env=clean_env(home))
    component_page(runner, late + timedelta(minutes=6), clean_env(home))
    assert status_json(runner)["backup"]["status"] == "operational"


def test_two_locations_that_each_notice_a_missed_beat_push_one_miss_between_them(tmp_path, remote):
    """check.yml's matrix runs a job per location; each checks in a clone of its own, and the second
    may check before the first's miss reaches the repository."""
    home = tmp_path
    job = fresh_clone(remote, tmp_path / "backup-host", clean_env(home))
    beat_at = START + timedelta(minutes=3)
    assert heliograph("beat", "backup", cwd=job, env=clean_env(home, HELIOGRAPH_NOW=iso(beat_at))).returncode == 0
    runners = {location: fresh_clone(remote, tmp_path / location, clean_env(home)) for location in ("eu-west", "us-east")}
    for minutes, (location, runner) in zip((72, 101), runners.items()):
        done = heliograph("check", cwd=runner, env=clean_env(home, HELIOGRAPH_NOW=iso(beat_at + timedelta(minutes=minutes)),
                                                            HELIOGRAPH_LOCATION=location))
        assert done.returncode == 0 and "heartbeat_missed" in done.stdout, done.stderr
    for runner in runners.values():
        done = heliograph("push", cwd=runner, env=clean_env(home))
        assert done.returncode == 0, done.stderr

    landed = fresh_clone(remote, tmp_path / "landed", clean_env(home))
    missed = [r for r in history.read_results(landed / "history") if r.reason == MISSED]
    assert [r.time for r in missed] == [beat_at + timedelta(minutes=70)]
    component_page(landed, beat_at + timedelta(minutes=102), clean_env(home))
    assert status_json(landed)["backup"]["status"] == "major_outage"


def test_check_yml_records_a_dispatched_beat_from_the_event_before_checking(tmp_path, remote):
    """The workflow's own step scripts, in order, for a heartbeat repository_dispatch event."""
    job_steps = yaml.safe_load((REPO / ".github" / "workflows" / "check.yml").read_text())["jobs"]["check"]["steps"]
    names = [step.get("name") for step in job_steps]
    [record] = [step for step in job_steps if "--record-from-event" in step.get("run", "")]
    assert "repository_dispatch" in record["if"] and "heartbeat" in record["if"]
    assert names.index(record["name"]) < names.index("Check") < names.index("Commit and push the results")

    home = tmp_path
    sent = START + timedelta(minutes=1)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "heartbeat", "client_payload": {
        "component": "backup", "status": "up", "message": "queue drained", "time": iso(sent)}}))
    workdir = fresh_clone(remote, tmp_path / "actions", clean_env(home))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "heliograph").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m generator.cli "$@"\n')
    (bin_dir / "heliograph").chmod(0o755)
    env = clean_env(home, GITHUB_EVENT_PATH=str(event), HELIOGRAPH_NOW=iso(sent + timedelta(minutes=2)),
                    HELIOGRAPH_LOCATION="github-actions", GITHUB_OUTPUT=str(tmp_path / "output"),
                    PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", COMPONENTS="", REPEAT="1", EVERY="60s")
    for step in job_steps:
        if step.get("name") in (record["name"], "Check", "Commit and push the results"):
            sh("bash", "-e", "-c", step["run"], cwd=workdir, env=env)

    landed = fresh_clone(remote, tmp_path / "landed", clean_env(home))
    [beat] = history.read_results(landed / "history")
    assert (beat.component, beat.status, beat.message, beat.time) == ("backup", "up", "queue drained", sent)
    page = component_page(landed, sent + timedelta(minutes=5), clean_env(home))
    assert "queue drained" in page and status_json(landed)["backup"]["status"] == "operational"


def test_a_bad_heartbeat_event_is_a_located_error_and_records_nothing(tmp_path):
    site = write_site(tmp_path / "site", SITE_YAML)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "heartbeat", "client_payload": {"component": "backpu"}}))
    done = heliograph("beat", "--record-from-event", str(event), cwd=site, env=clean_env(tmp_path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "event.json: error: heartbeat event: component 'backpu'" in done.stderr
    assert 'did you mean "backup"' in done.stderr
    assert history.read_results(site / "history") == []
    # Another kind of event records nothing, and that is no failure.
    event.write_text(json.dumps({"action": "check", "client_payload": {}}))
    done = heliograph("beat", "--record-from-event", str(event), cwd=site, env=clean_env(tmp_path))
    assert done.returncode == 0 and "nothing to record" in done.stdout


def test_beat_for_a_component_without_a_heartbeat_check_is_refused(tmp_path):
    site = write_site(tmp_path / "site", SITE_YAML)
    done = heliograph("beat", "web", "--no-push", cwd=site, env=clean_env(tmp_path))
    assert done.returncode == 1 and "has no heartbeat check" in done.stderr and "Traceback" not in done.stderr
    assert history.read_results(site / "history") == []
