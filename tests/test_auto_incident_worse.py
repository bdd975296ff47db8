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


def test_an_incident_whose_push_failed_is_written_by_the_next_run_and_a_deleted_one_is_not(tmp_path):
    """The claim landed, the incident's own push was refused and the runner went away: the next
    run (a fresh clone) writes and pushes it. Once it is on the remote, a person deleting it is
    final."""
    import subprocess
    import sys

    from generator import history
    from generator.checks.result import CheckResult
    from gitrun import bare_remote_with_site, clean_env, sh
    from test_auto_incidents import EVERY, SITE_YAML

    env = clean_env(tmp_path)
    remote = bare_remote_with_site(tmp_path, SITE_YAML.format(alerts="  auto_incident: true\n", component=""), env)
    refuse = tmp_path / "refuse-incidents"
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\n"
                    f"[ -e '{refuse}' ] || exit 0\n"
                    "while read old new ref; do\n"
                    "  git log --format=%s \"$old..$new\" 2>/dev/null | grep -q 'Incidents written automatically' "
                    "&& { echo 'refused for the test' >&2; exit 1; }\n"
                    "done\nexit 0\n")
    hook.chmod(0o755)
    refuse.write_text("")

    def runner(name: str) -> Path:
        sh("git", "clone", "--quiet", str(remote), name, cwd=tmp_path, env=env)
        return tmp_path / name

    def cli(clone: Path, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "generator.cli", *args], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    first = runner("first")
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=3)
    cli(first, "alert", "send", "--base-delay", "0.01s")  # alerts on, before the outage
    history.append_results(first / "history", [CheckResult("api", start + i * EVERY, "down", "status_503", "HTTP 503",
                                                           12.0, "ci") for i in range(3)])
    cli(first, "push", "--base-delay", "0.01s")
    sent = cli(first, "alert", "send", "--base-delay", "0.01s", "--attempts", "1")
    assert "could not be pushed" in sent.stderr
    looked = runner("look")
    assert list((looked / "incidents").glob("*.md")) == []  # the claim is there, the incident is not
    assert '"k":"down"' in (looked / "history" / "alerts.jsonl").read_text()

    refuse.unlink()
    second = runner("second")  # the next scheduled run: a fresh clone, nothing new due
    cli(second, "alert", "send", "--base-delay", "0.01s")
    check = runner("check")
    [path] = (check / "incidents").glob("*.md")
    assert path.name.endswith("-api-status-503.md") and "auto: true" in path.read_text()
    assert '"k":"incident"' in (check / "history" / "alerts.jsonl").read_text()

    sh("git", "rm", "--quiet", str(path.relative_to(check)), cwd=check, env=env)  # a person: a false alarm
    sh("git", "commit", "--quiet", "-m", "Not an outage", cwd=check, env=env)
    sh("git", "push", "--quiet", "origin", "main", cwd=check, env=env)
    third = runner("third")
    cli(third, "alert", "send", "--base-delay", "0.01s")
    assert list((third / "incidents").glob("*.md")) == []
    assert "Incidents written automatically" not in sh("git", "log", "-1", "--format=%s", cwd=third, env=env)
