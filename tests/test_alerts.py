"""Alerts to the team (`heliograph alert send`/`test`): real checks against a local server, real
channels (an SMTP server and a JSON webhook receiver on 127.0.0.1), real git for two runners.

Each scenario states the messages it expects. Results carry their own times, so nothing here
depends on how fast a check runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from clirun import invoke
from receivers import closed_port
from servers import static_server

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A static server: a component's check is up while its file exists."""
    directory = tmp_path / "web"
    directory.mkdir()
    (directory / "api.txt").write_text("ok\n")
    with static_server(directory) as url:
        yield directory, url


# --- the site and the commands ----------------------------------------------------------------


def write_site(root: Path, channels: str, *, api_url: str, extra_alerts: str = "", extra_components: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "incidents").mkdir(exist_ok=True)
    (root / "site.yaml").write_text(
        "site: {title: Example, base_url: \"https://status.example.com/\"}\n"
        "alerts:\n"
        "  channels:\n" + "".join(f"    {line}\n" for line in channels.strip().splitlines()) + extra_alerts +
        "components:\n"
        f"  - {{id: api, name: Public API, check: {{type: http, url: \"{api_url}\", retries: 0, timeout: 5s}}}}\n"
        + extra_components)
    return root


def hook(receiver_port: int, query: str = "") -> str:
    return f'hook: "json://127.0.0.1:{receiver_port}/{query}"'


def check(root: Path, location: str = "ci", env: dict[str, str] | None = None) -> None:
    ran = invoke("--site", str(root), "-q", "check", "--location", location, env=env)
    assert ran.code == 0, ran.stderr


def send(root: Path, *args: str, env: dict[str, str] | None = None):
    ran = invoke("--site", str(root), "alert", "send", "--no-push", *args, env=env)
    assert ran.code == 0, ran.stdout + ran.stderr
    return ran


def down(web_dir: Path) -> None:
    (web_dir / "api.txt").unlink(missing_ok=True)


def up(web_dir: Path) -> None:
    (web_dir / "api.txt").write_text("ok\n")


# --- scenarios ---------------------------------------------------------------------------------


def test_alert_comes_with_the_third_failed_run_and_says_what_a_person_needs(tmp_path, web, webhook):
    web_dir, url = web
    root = write_site(tmp_path / "site", hook(webhook.port), api_url=f"{url}/api.txt")
    send(root)  # alerts switched on: nothing to tell
    down(web_dir)
    for expected in (0, 0, 1):
        check(root)
        send(root)
        assert len(webhook.posts) == expected
    assert webhook.titles == ["[DOWN] Public API is down"]
    body = webhook.posts[0]["message"]
    assert "status_404" in body and "HTTP 404" in body
    assert "1 of 1 location" in body and "3 failed checks in a row" in body
    assert "https://status.example.com/components/api/" in body


def test_resolved_is_sent_after_two_good_runs_and_a_rerun_sends_nothing_twice(tmp_path, web, webhook):
    web_dir, url = web
    root = write_site(tmp_path / "site", hook(webhook.port), api_url=f"{url}/api.txt")
    send(root)
    down(web_dir)
    for _ in range(3):
        check(root)
    send(root)
    send(root)  # the job re-run
    assert webhook.titles == ["[DOWN] Public API is down"]
    up(web_dir)
    check(root)
    send(root)
    assert len(webhook.posts) == 1  # one good run is not a recovery yet
    check(root)
    send(root)
    send(root)
    assert webhook.titles == ["[DOWN] Public API is down", "[RESOLVED] Public API is up again"]
    assert "is up again after" in webhook.posts[1]["message"]


def test_flapping_never_reaches_the_threshold(tmp_path, web, webhook):
    web_dir, url = web
    root = write_site(tmp_path / "site", hook(webhook.port), api_url=f"{url}/api.txt")
    send(root)
    for state in (down, down, up, down, down, up, down, down, up):
        state(web_dir)
        check(root)
        send(root)
    assert webhook.posts == []


def test_a_maintenance_window_silences_the_components_it_covers(tmp_path, web, webhook):
    web_dir, url = web
    root = write_site(tmp_path / "site", hook(webhook.port), api_url=f"{url}/api.txt")
    now = datetime.now(timezone.utc)
    start, end = (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M UTC"), (now + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M UTC")
    (root / "incidents" / "upgrade.md").write_text(
        f"---\ntitle: Upgrade\ntype: maintenance\ncomponents: [api]\nscheduled_for: {start}\nscheduled_until: {end}\n---\n\n"
        f"## {start} · Scheduled\nWe upgrade the API.\n")
    send(root)
    down(web_dir)
    for _ in range(4):
        check(root)
        send(root)
    assert webhook.posts == []


def test_locations_alert_only_when_at_least_half_agree(tmp_path, web, webhook):
    web_dir, url = web
    (web_dir / "broken").mkdir()
    root = write_site(tmp_path / "site", hook(webhook.port), api_url="${BASE}/api.txt")
    good, bad = {"BASE": url}, {"BASE": f"{url}/broken"}
    send(root)
    for _ in range(3):  # 1 of 3 locations sees it down: not an outage
        check(root, "eu", bad)
        check(root, "us", good)
        check(root, "asia", good)
        send(root)
    assert webhook.posts == []
    for _ in range(3):  # 2 of 3 do
        check(root, "eu", bad)
        check(root, "us", bad)
        check(root, "asia", good)
        send(root)
    assert webhook.titles == ["[DOWN] Public API is down"]
    assert "2 of 3 locations" in webhook.posts[0]["message"]


def test_a_late_run_still_tells_every_transition_in_order(tmp_path, web, webhook):
    web_dir, url = web
    root = write_site(tmp_path / "site", hook(webhook.port), api_url=f"{url}/api.txt")
    send(root)
    down(web_dir)
    for _ in range(3):
        check(root)
    up(web_dir)
    for _ in range(2):
        check(root)
    send(root)  # the alert runs that would have come between were skipped
    assert webhook.titles == ["[DOWN] Public API is down", "[RESOLVED] Public API is up again"]


def test_losing_the_build_cache_resends_nothing(tmp_path, web, webhook):
    web_dir, url = web
    root = write_site(tmp_path / "site", hook(webhook.port), api_url=f"{url}/api.txt")
    send(root)
    down(web_dir)
    for _ in range(3):
        check(root)
    send(root)
    assert invoke("--site", str(root), "-q", "build").code == 0
    shutil.rmtree(root / ".heliograph-cache", ignore_errors=True)
    shutil.rmtree(root / "build", ignore_errors=True)
    send(root)
    assert len(webhook.posts) == 1


def test_a_failing_channel_is_a_warning_and_the_others_still_get_the_alert(tmp_path, web, mailbox):
    web_dir, url = web
    box, smtp_port = mailbox
    secret = "s3cr3t-token-value"
    channels = (f'broken: "json://127.0.0.1:{closed_port()}/?token=${{HOOK_TOKEN}}"\n'
                f'team-email: "mailto://127.0.0.1:{smtp_port}?from=alerts@example.com&to=oncall@example.com&mode=insecure"')
    root = write_site(tmp_path / "site", channels, api_url=f"{url}/api.txt")
    env = {"HOOK_TOKEN": secret}
    send(root, env=env)
    down(web_dir)
    for _ in range(3):
        check(root)
    ran = send(root, "--format", "github", env=env)
    assert ran.code == 0
    assert "alert channel 'broken' failed" in ran.stderr
    assert "::warning" in ran.stdout
    assert [m["Subject"] for m in box.messages] == ["[DOWN] Public API is down"]
    assert box.messages[0]["To"] == "oncall@example.com"
    assert "https://status.example.com/components/api/" in box.text(0)
    written = "".join(p.read_text() for p in (root / "history").rglob("*.jsonl"))
    assert secret not in ran.stdout + ran.stderr + written


def test_alert_test_sends_one_message_to_the_named_channel(tmp_path, web, webhook, mailbox):
    box, smtp_port = mailbox
    channels = (hook(webhook.port) + "\n" +
                f'team-email: "mailto://127.0.0.1:{smtp_port}?from=alerts@example.com&to=oncall@example.com&mode=insecure"')
    root = write_site(tmp_path / "site", channels, api_url=f"{web[1]}/api.txt")
    ran = invoke("--site", str(root), "alert", "test", "team-email")
    assert ran.code == 0, ran.stderr
    assert [m["Subject"] for m in box.messages] == ["[TEST] Example: alerts work"]
    assert webhook.posts == []
    assert invoke("--site", str(root), "alert", "test").code == 0
    assert len(box.messages) == 2 and webhook.titles == ["[TEST] Example: alerts work"]
    unknown = invoke("--site", str(root), "alert", "test", "team-mail")
    assert unknown.code == 1 and "did you mean" in unknown.stderr.lower()


def test_alert_test_to_a_channel_that_is_down_exits_1_without_a_traceback(tmp_path, web):
    root = write_site(tmp_path / "site", f'hook: "json://127.0.0.1:{closed_port()}/"', api_url=f"{web[1]}/api.txt")
    ran = invoke("--site", str(root), "alert", "test")
    assert ran.code == 1
    assert "alert channel 'hook' failed" in ran.stderr and "Traceback" not in ran.stderr


def test_channel_filters_and_component_overrides_choose_who_hears(tmp_path, web, webhook, mailbox):
    web_dir, url = web
    box, smtp_port = mailbox
    channels = (f'hook: {{url: "json://127.0.0.1:{webhook.port}/", components: [web]}}\n'
                f'team-email: "mailto://127.0.0.1:{smtp_port}?from=a@example.com&to=b@example.com&mode=insecure"')
    root = write_site(tmp_path / "site", channels, api_url=f"{url}/api.txt",
                      extra_components=f'  - {{id: web, name: Website, alerts: [hook], check: {{type: http, url: "{url}/web.txt", retries: 0}}}}\n')
    send(root)
    down(web_dir)  # web.txt never existed: both are down
    for _ in range(3):
        check(root)
    send(root)
    assert webhook.titles == ["[DOWN] Website is down"]
    assert [m["Subject"] for m in box.messages] == ["[DOWN] Public API is down"]


def test_validate_locates_a_channel_url_apprise_cannot_use(tmp_path, web):
    root = write_site(tmp_path / "site", 'good: "json://127.0.0.1:9/"\nbad: "nosuchservice://abc"',
                      api_url=f"{web[1]}/api.txt")
    ran = invoke("--site", str(root), "validate")
    assert ran.code == 1
    assert 'site.yaml:5:10: error: alert channel "bad"' in ran.stderr
    assert "good" not in ran.stderr


def test_an_unknown_channel_in_a_component_override_is_located(tmp_path, web):
    root = write_site(tmp_path / "site", 'hook: "json://127.0.0.1:9/"', api_url=f"{web[1]}/api.txt",
                      extra_components='  - {id: web, name: Website, alerts: [hok]}\n')
    ran = invoke("--site", str(root), "validate")
    assert ran.code == 1
    assert 'site.yaml:7:' in ran.stderr and 'no alert channel named "hok"' in ran.stderr


# --- two runners, one remote ------------------------------------------------------------------


BOT = {"GIT_AUTHOR_NAME": "bot", "GIT_AUTHOR_EMAIL": "bot@example.com", "GIT_COMMITTER_NAME": "bot",
       "GIT_COMMITTER_EMAIL": "bot@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def heliograph(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_two_runners_sending_at_once_send_one_alert(tmp_path, web, webhook):
    web_dir, url = web
    env = {**os.environ, **BOT, "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": str(tmp_path / ".gitconfig"),
           "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    env.pop("HELIOGRAPH_SITE", None)
    git = lambda *args, cwd: subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    seed = write_site(tmp_path / "seed", hook(webhook.port), api_url=f"{url}/api.txt")
    git("init", "--quiet", "-b", "main", cwd=seed)
    git("add", ".", cwd=seed)
    git("commit", "--quiet", "-m", "site", cwd=seed)
    git("push", "--quiet", str(remote), "main", cwd=seed)
    clones = []
    for name in ("eu", "us"):
        git("clone", "--quiet", str(remote), name, cwd=tmp_path)
        clones.append(tmp_path / name)
    down(web_dir)
    for clone in clones:  # each runner's three runs, results pushed as check.yml does
        for _ in range(3):
            assert heliograph("check", "--location", clone.name, cwd=clone, env=env).returncode == 0
        pushed = heliograph("push", "--base-delay", "0.05s", cwd=clone, env=env)
        assert pushed.returncode == 0, pushed.stderr
    sends = []
    threads = [threading.Thread(target=lambda c=clone: sends.append(
        heliograph("alert", "send", "--location", c.name, "--base-delay", "0.05s", cwd=c, env=env)))
        for clone in clones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(done.returncode == 0 for done in sends), [d.stderr for d in sends]
    assert webhook.titles == ["[DOWN] Public API is down"]
    git("pull", "--quiet", "--no-rebase", cwd=clones[0])
    claims = (clones[0] / "history" / "alerts.jsonl").read_text().splitlines()
    assert len(claims) == 2  # both claimed; the one whose claim landed second stood back


def test_the_alerts_example_init_writes_is_valid_once_uncommented(tmp_path):
    import re

    assert invoke("init", str(tmp_path / "site")).code == 0
    site_yaml = tmp_path / "site" / "site.yaml"
    text = site_yaml.read_text()
    assert "#   failure_threshold: 3" in text and "#   remind_every: off" in text
    site_yaml.write_text(re.sub(r"(?m)^# (alerts:|  .*)$", r"\1", text))
    ran = invoke("--site", str(tmp_path / "site"), "validate")
    assert ran.code == 0, ran.stderr
    site_yaml.write_text(site_yaml.read_text().replace("on: [down]", "on: [sideways]"))
    ran = invoke("--site", str(tmp_path / "site"), "validate")
    assert ran.code == 1 and re.search(r'site\.yaml:\d+:\d+: error: "on" must list', ran.stderr), ran.stderr


# --- rules over a history written result by result (its own times, hours apart) --------------


def write_results(root: Path, start: datetime, statuses: str, *, every: timedelta = timedelta(minutes=30),
                  location: str = "ci") -> datetime:
    """One result per character (u up, d down, g degraded) from `start`; returns the last one's time."""
    from generator import history
    from generator.checks.result import CheckResult

    names = {"u": ("up", "ok", "HTTP 200"), "d": ("down", "status_503", "HTTP 503"), "g": ("degraded", "slow", "took 2.1 s")}
    results = [CheckResult("api", start + i * every, *names[code], 12.0, location) for i, code in enumerate(statuses)]
    history.append_results(root / "history", results)
    return results[-1].time


def send_at(root: Path, moment: datetime) -> None:
    send(root, "--now", moment.isoformat())


def test_remind_every_repeats_while_it_stays_down_and_never_twice(tmp_path, webhook):
    root = write_site(tmp_path / "site", hook(webhook.port), api_url="http://127.0.0.1:9/",
                      extra_alerts="  remind_every: 2h\n")
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
    send_at(root, start)  # alerts switched on before the outage
    last = write_results(root, start, "uuddddddddddd")  # down from 1 h in, every 30 minutes, for 5.5 h
    send_at(root, last)
    send_at(root, last)
    assert webhook.titles == ["[DOWN] Public API is down"] + ["[STILL DOWN] Public API is still down"] * 2
    assert "still down, for 3 h" in webhook.posts[1]["message"]  # down since 1 h in, reminded at 4 h


def test_degraded_alerts_only_when_opted_in_and_send_on_resolved_false_keeps_quiet(tmp_path, webhook):
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
    quiet = write_site(tmp_path / "quiet", hook(webhook.port), api_url="http://127.0.0.1:9/")
    send_at(quiet, start)
    send_at(quiet, write_results(quiet, start, "ugggguu"))
    assert webhook.posts == []
    opted = write_site(tmp_path / "opted", hook(webhook.port), api_url="http://127.0.0.1:9/",
                       extra_alerts="  on: [down, degraded]\n  send_on_resolved: false\n")
    send_at(opted, start)
    send_at(opted, write_results(opted, start, "ugggguu"))
    assert webhook.titles == ["[DEGRADED] Public API is degraded"]
    assert "slow: took 2.1 s" in webhook.posts[0]["message"]


def test_one_of_two_locations_is_half_and_alerts(tmp_path, webhook):
    root = write_site(tmp_path / "site", hook(webhook.port), api_url="http://127.0.0.1:9/")
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
    send_at(root, start)
    write_results(root, start, "ddd", location="eu")
    last = write_results(root, start + timedelta(minutes=1), "uuu", location="us")
    send_at(root, last)
    assert webhook.titles == ["[DOWN] Public API is down"]
    assert "1 of 2 locations" in webhook.posts[0]["message"]


def test_a_channel_that_never_answers_is_given_up_on_after_its_timeout(tmp_path, webhook):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    try:
        channels = f'silent: "json://127.0.0.1:{silent.getsockname()[1]}/"\n' + hook(webhook.port)
        root = write_site(tmp_path / "site", channels, api_url="http://127.0.0.1:9/", extra_alerts="  timeout: 1s\n")
        start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=10)
        send_at(root, start)
        ran = send(root, "--now", write_results(root, start, "ddd").isoformat())
    finally:
        silent.close()
    assert webhook.titles == ["[DOWN] Public API is down"]
    assert "alert channel 'silent' failed" in ran.stderr
