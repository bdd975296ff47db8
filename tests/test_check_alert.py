"""`heliograph check --alert`: the alert step in the check's own process, after the results
landed. Real checks against a local server, real channels (a JSON webhook receiver and an SMTP
server on 127.0.0.1), a real bare git remote, each command in a process of its own as CI runs it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from clirun import run
from receivers import closed_port
from test_alerts import BOT, down, hook, web, write_site  # noqa: F401  (web: the fixture)


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **BOT, "GIT_CONFIG_GLOBAL": os.devnull},
                          check=True, capture_output=True, text=True).stdout


def cloned_site(tmp_path: Path, channels: str, api_url: str) -> tuple[Path, Path]:
    """A site committed to a bare remote, and a runner's clone of it."""
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    seed = write_site(tmp_path / "seed", channels, api_url=api_url)
    git("init", "--quiet", "-b", "main", cwd=seed)
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "site", cwd=seed)
    git("push", "--quiet", str(remote), "main", cwd=seed)
    git("clone", "--quiet", str(remote), "runner", cwd=tmp_path)
    return remote, tmp_path / "runner"


def check_alert(root: Path, *args: str, env: dict[str, str] | None = None):
    ran = run("check", "--location", "ci", "--alert", *args, cwd=root, env={**BOT, **(env or {})})
    assert ran.code == 0, ran.stdout + ran.stderr
    return ran


def three_failed_pushed_runs(runner: Path, output: Path):
    """`check --alert --push --github-output` three times, the failure threshold; the last run."""
    output.write_text("")
    for _ in range(3):
        ran = check_alert(runner, "--repeat", "1", "--push", "--github-output", env={"GITHUB_OUTPUT": str(output)})
    return ran


def test_check_alert_sends_with_the_third_failed_run_once_without_git(tmp_path, web, webhook):
    web_dir, url = web
    root = write_site(tmp_path / "site", hook(webhook.port), api_url=f"{url}/api.txt")
    check_alert(root)  # alerts switched on: nothing to tell
    down(web_dir)
    for expected in (0, 0, 1, 1):
        check_alert(root)
        assert len(webhook.posts) == expected
    assert webhook.titles == ["[DOWN] Public API is down"]
    assert "3 failed checks in a row" in webhook.posts[0]["message"]
    assert '"k":"down"' in (root / "history" / "alerts.jsonl").read_text().replace(" ", "")


def test_check_push_alert_pushes_results_then_claims_then_sends(tmp_path, web, webhook):
    web_dir, url = web
    remote, runner = cloned_site(tmp_path, hook(webhook.port), f"{url}/api.txt")
    down(web_dir)
    output = tmp_path / "github-output"
    for _ in range(3):
        output.write_text("")
        check_alert(runner, "--repeat", "1", "--push", "--github-output", env={"GITHUB_OUTPUT": str(output)})
    assert webhook.titles == ["[DOWN] Public API is down"]
    assert "pushed=true" in output.read_text().splitlines()
    log = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert log[0].startswith("Alerts claimed: api down")  # claimed and pushed before it was sent
    assert sum(line.startswith("Check results from ci") for line in log) == 3
    assert "api" in git("show", "main:history/alerts.jsonl", cwd=remote)


def test_a_failing_channel_is_a_warning_and_the_results_still_land(tmp_path, web, mailbox):
    web_dir, url = web
    box, smtp_port = mailbox
    channels = (f'broken: "json://127.0.0.1:{closed_port()}/"\n'
                f'team-email: "mailto://127.0.0.1:{smtp_port}?from=alerts@example.com&to=oncall@example.com&mode=insecure"')
    remote, runner = cloned_site(tmp_path, channels, f"{url}/api.txt")
    down(web_dir)
    output = tmp_path / "github-output"
    ran = three_failed_pushed_runs(runner, output)
    assert "alert channel 'broken' failed" in ran.stderr
    assert "::warning title=Alert not sent::" in ran.stdout
    assert [m["Subject"] for m in box.messages] == ["[DOWN] Public API is down"]
    log = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert sum(line.startswith("Check results from ci") for line in log) == 3


def test_results_that_could_not_be_pushed_alert_nobody(tmp_path, web, webhook):
    web_dir, url = web
    remote, runner = cloned_site(tmp_path, hook(webhook.port), f"{url}/api.txt")
    git("remote", "set-url", "origin", str(tmp_path / "gone.git"), cwd=runner)
    down(web_dir)
    output = tmp_path / "github-output"
    ran = three_failed_pushed_runs(runner, output)
    assert "push failed" in ran.stderr
    assert webhook.posts == []  # alerts are decided on results that landed, and claimed on the remote
    assert output.read_text().splitlines().count("pushed=false") == 3  # check.yml then pushes them itself
    assert git("log", "--format=%s", "-1", cwd=runner).startswith("Check results from ci")  # kept, for the next push


def test_alert_cannot_go_with_no_write(tmp_path, web, webhook):
    _, url = web
    root = write_site(tmp_path / "site", hook(webhook.port), api_url=f"{url}/api.txt")
    ran = run("check", "--alert", "--no-write", cwd=root)
    assert ran.code != 0 and "--alert" in ran.stderr and "--no-write" in ran.stderr
