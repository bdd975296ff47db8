"""Automatic incidents (issue #18 part 2): `auto: true` in an incident's front matter and
`auto_incident` in site.yaml are checked and located, the automatic file's text (opening,
appended resolve) passes the build's own parser, and `heliograph alert send` opens and resolves
them through scenarios: outages, recovery, a person's edits, flapping, re-runs, two runners.

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


def test_auto_incident_is_accepted_and_a_bad_value_is_located(tmp_path: Path) -> None:
    site = _site(tmp_path)
    config = site / "site.yaml"
    original = config.read_text()
    config.write_text(original + "\nalerts:\n  auto_incident: true\n")
    accepted = invoke("validate", cwd=site)
    assert accepted.code == 0, accepted.stderr
    config.write_text(original + "\nalerts:\n  auto_incident: sometimes\n")
    refused = invoke("validate", cwd=site)
    assert refused.code == 1
    line = len(original.splitlines()) + 3
    assert f"site.yaml:{line}:18: error: \"auto_incident\" must be true or false" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


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


# --- scenarios through `heliograph alert send` ------------------------------------------------
# Results are written with their own times (half an hour apart), then `alert send --now` decides
# as of the last one, as the run right after that check would.

SITE_YAML = """site: {{title: Example, base_url: "https://status.example.com/"}}
alerts:
{alerts}components:
  - {{id: api, name: Public API, check: {{type: http, url: "http://127.0.0.1:9/", retries: 0}}{component}}}
  - {{id: web, name: Website, check: {{type: http, url: "http://127.0.0.1:9/", retries: 0}}}}
"""
EVERY = timedelta(minutes=30)


class Run:
    """A site with a history written result by result; `results` appends and sends as of the last."""

    def __init__(self, root: Path, *, alerts: str = "  auto_incident: true\n", component: str = "") -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "incidents").mkdir(exist_ok=True)
        (root / "site.yaml").write_text(SITE_YAML.format(alerts=alerts, component=component))
        self.root = root
        self.clock = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=20)
        self.send()  # alerts switched on before any outage

    def results(self, statuses: str, component: str = "api") -> None:
        from generator import history

        names = {"u": ("up", "ok", "HTTP 200"), "d": ("down", "status_503", "HTTP 503"),
                 "g": ("degraded", "slow", "took 2.1 s")}
        for code in statuses:
            self.clock += EVERY
            history.append_results(self.root / "history",
                                   [CheckResult(component, self.clock, *names[code], 12.0, "ci")])
            self.send()

    def send(self, *extra: str):
        ran = invoke("--site", str(self.root), "alert", "send", "--no-push", "--now", self.clock.isoformat(), *extra)
        assert ran.code == 0, ran.stdout + ran.stderr
        assert "Traceback" not in ran.stderr
        return ran

    def incidents(self) -> list[Path]:
        return sorted((self.root / "incidents").glob("*.md"))

    def build(self) -> str:
        built = invoke("--site", str(self.root), "build", "--now", self.clock.isoformat())
        assert built.code == 0, built.stderr
        return (self.root / "build" / "index.html").read_text()


def test_three_failed_runs_open_one_incident_the_page_shows_and_recovery_resolves_it(tmp_path: Path) -> None:
    run = Run(tmp_path / "site")
    run.results("dd")
    assert run.incidents() == []  # two failed runs are not an outage yet
    run.results("d")
    [path] = run.incidents()
    assert path.name.endswith("-api-status-503.md")
    text = path.read_text()
    assert "auto: true" in text and "api: major_outage" in text and "· Investigating" in text
    page = run.build()
    assert "Public API is down: HTTP 503 from 1 of 1 locations" in page
    assert "Investigating" in page
    run.results("ddu")
    assert path.read_text() == text  # still down, then one good run: nothing yet
    run.results("u")
    resolved = path.read_text()
    assert resolved.endswith(text.split("---\n", 2)[2])
    assert "· Resolved\nRecovered after 180 min." in resolved  # first failure to the second good run: six half hours
    run.results("uu")
    run.send()
    assert path.read_text() == resolved and run.incidents() == [path]  # re-runs add nothing
    built = invoke("--site", str(run.root), "build", "--now", run.clock.isoformat())
    assert built.code == 0, built.stderr
    incident_page = (run.root / "build" / "incidents" / path.stem / "index.html").read_text()
    assert "Recovered after 180 min." in incident_page and "Resolved" in incident_page


def test_a_rerun_of_the_same_job_writes_nothing_twice(tmp_path: Path) -> None:
    run = Run(tmp_path / "site")
    run.results("ddd")
    [path] = run.incidents()
    opened = path.read_text()
    run.send()
    run.send()
    assert run.incidents() == [path] and path.read_text() == opened
    run.results("uu")
    resolved = path.read_text()
    run.send()
    assert path.read_text() == resolved and resolved.count("· Resolved") == 1


def test_a_persons_edits_are_kept_byte_for_byte(tmp_path: Path) -> None:
    run = Run(tmp_path / "site")
    run.results("ddd")
    [path] = run.incidents()
    text = path.read_text()
    edited = text.replace("title: 'Public API is down: HTTP 503 from 1 of 1 locations'", "title: Checkout API errors")
    assert edited != text
    person = "## 2026-01-01 00:00 UTC · Identified\nA bad deploy; rolling back.\n\n"
    heading = edited.index("\n## ") + 1
    edited = edited[:heading] + person.replace("2026-01-01 00:00", f"{run.clock + timedelta(minutes=5):%Y-%m-%d %H:%M}") + edited[heading:]
    path.write_bytes(edited.encode())
    run.results("d")
    assert path.read_bytes() == edited.encode()  # still down: the automatic side has nothing to say
    run.results("uu")
    resolved = path.read_bytes().decode()
    assert resolved.endswith(edited.split("---\n", 2)[2])
    assert resolved.startswith(edited.split("\n## ", 1)[0])
    assert "Checkout API errors" in resolved and "rolling back" in resolved and "Recovered after" in resolved
    run.build()


def test_an_incident_a_person_resolved_gets_nothing_appended_and_is_not_reopened(tmp_path: Path) -> None:
    run = Run(tmp_path / "site")
    run.results("ddd")
    [path] = run.incidents()
    text = path.read_text()
    heading = text.index("\n## ") + 1
    by_hand = text[:heading] + f"## {run.clock + timedelta(minutes=1):%Y-%m-%d %H:%M} UTC · Resolved\nFixed by hand.\n\n" + text[heading:]
    path.write_text(by_hand)
    run.results("duu")
    assert path.read_text() == by_hand and run.incidents() == [path]


def test_flapping_inside_an_open_incident_adds_no_second_file(tmp_path: Path) -> None:
    run = Run(tmp_path / "site")
    run.results("ddd")
    [path] = run.incidents()
    run.results("udududdd")  # never two good runs in a row: the same outage
    assert run.incidents() == [path]
    assert path.read_text().count("\n## ") == 1


def test_a_new_outage_after_recovery_opens_a_new_incident(tmp_path: Path) -> None:
    run = Run(tmp_path / "site")
    run.results("dddu")
    run.clock += timedelta(days=1)  # the next outage is on another day, so it gets a file of its own
    run.results("uddd")
    first, second = run.incidents()
    assert "· Resolved" in first.read_text() and "· Resolved" not in second.read_text()


def test_only_opted_in_components_get_incidents_and_a_component_can_opt_out(tmp_path: Path) -> None:
    run = Run(tmp_path / "site", component=", auto_incident: false")
    run.results("ddd", component="api")
    run.results("ddd", component="web")
    [path] = run.incidents()
    assert "-web-" in path.name and "Website is down" in path.read_text()

    only = Run(tmp_path / "only", alerts="  failure_threshold: 3\n", component=", auto_incident: true")
    only.results("ddd", component="web")
    only.results("ddd", component="api")
    [path] = only.incidents()
    assert "-api-" in path.name


def test_a_non_boolean_component_auto_incident_is_located(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "site.yaml").write_text(SITE_YAML.format(alerts="  auto_incident: true\n", component=", auto_incident: maybe"))
    ran = invoke("--site", str(root), "validate")
    assert ran.code == 1
    assert "site.yaml:5:" in ran.stderr and '"auto_incident" must be true or false' in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr


def test_two_runners_sending_at_once_open_one_incident_on_the_remote(tmp_path: Path) -> None:
    import subprocess
    import sys
    import threading

    from generator import history
    from gitrun import bare_remote_with_site, clean_env, sh

    env = clean_env(tmp_path)
    remote = bare_remote_with_site(tmp_path, SITE_YAML.format(alerts="  auto_incident: true\n", component=""), env)
    clones = []
    for name in ("eu", "us"):
        sh("git", "clone", "--quiet", str(remote), name, cwd=tmp_path, env=env)
        clones.append(tmp_path / name)
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=3)
    for offset, clone in enumerate(clones):  # each runner's three failed runs, results pushed as check.yml does
        results = [CheckResult("api", start + i * EVERY + timedelta(minutes=offset), "down", "status_503",
                               "HTTP 503", 12.0, clone.name) for i in range(3)]
        history.append_results(clone / "history", results)
        pushed = subprocess.run([sys.executable, "-m", "generator.cli", "push", "--base-delay", "0.05s"], cwd=clone,
                                env=env, capture_output=True, text=True, timeout=120)
        assert pushed.returncode == 0, pushed.stderr
    sends: list[subprocess.CompletedProcess] = []

    def send(clone: Path) -> None:
        outputs = {**env, "GITHUB_OUTPUT": str(tmp_path / f"{clone.name}.output")}
        sends.append(subprocess.run([sys.executable, "-m", "generator.cli", "alert", "send", "--location", clone.name,
                                     "--base-delay", "0.05s", "--format", "github"], cwd=clone, env=outputs,
                                    capture_output=True, text=True, timeout=120))

    threads = [threading.Thread(target=send, args=(clone,)) for clone in clones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(done.returncode == 0 for done in sends), [done.stderr for done in sends]
    assert all("Traceback" not in done.stderr and "warning" not in done.stderr for done in sends)
    check = tmp_path / "check"
    sh("git", "clone", "--quiet", str(remote), "check", cwd=tmp_path, env=env)
    [path] = (check / "incidents").glob("*.md")
    assert path.name.endswith("-api-status-503.md") and "auto: true" in path.read_text()
    log = sh("git", "log", "--format=%s", cwd=check, env=env)
    assert log.count("Incidents written automatically: api opened") == 1, log
    # The runner that pushed it tells check.yml to deploy; the other has nothing to deploy.
    outputs = sorted((tmp_path / f"{clone.name}.output").read_text() if (tmp_path / f"{clone.name}.output").exists()
                     else "" for clone in clones)
    assert outputs == ["", "incidents=true\n"]


def test_init_shows_auto_incident_commented_out_and_it_is_valid_once_uncommented(tmp_path: Path) -> None:
    import re

    site = _site(tmp_path)
    config = site / "site.yaml"
    text = config.read_text()
    assert "#   auto_incident: false" in text and "auto_incident: true" in text  # the component opt-in, explained
    assert not re.search(r"(?m)^\s*auto_incident:", text)  # commented out: nothing opens by itself
    config.write_text(re.sub(r"(?m)^# (alerts:|  .*)$", r"\1", text).replace("auto_incident: false", "auto_incident: true"))
    validated = invoke("validate", cwd=site)
    assert validated.code == 0, validated.stderr


# --- down easing to degraded: one "improved" message for those who follow degraded --------------


def _alerts_site(tmp_path: Path, webhook, channels: str, extra_alerts: str = "") -> Path:
    from test_alerts import write_site

    return write_site(tmp_path / "site", channels, api_url="http://127.0.0.1:9/", extra_alerts=extra_alerts)


def _history(root: Path, statuses: str) -> None:
    """One result per character, half an hour apart, sent as of each (a run after each check)."""
    from test_alerts import send_at, write_results

    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=12)
    send_at(root, start)  # alerts switched on before the outage
    for index in range(1, len(statuses) + 1):
        send_at(root, write_results(root, start + (index - 1) * EVERY, statuses[index - 1]))


def test_down_easing_to_degraded_sends_one_improved_message_when_degraded_alerts_are_on(tmp_path, webhook) -> None:
    root = _alerts_site(tmp_path, webhook, f'hook: "json://127.0.0.1:{webhook.port}/"', "  on: [down, degraded]\n")
    _history(root, "udddggggguu")
    assert webhook.titles == ["[DOWN] Public API is down", "[IMPROVED] Public API is degraded, no longer down",
                              "[RESOLVED] Public API is up again"]
    assert "partly back: degraded now, after being down since" in webhook.posts[1]["message"]
    assert "slow: took 2.1 s" in webhook.posts[1]["message"]


def test_down_easing_to_degraded_says_nothing_when_degraded_alerts_are_off(tmp_path, webhook) -> None:
    """Without degraded alerting, degraded counts as up: the message is the resolved one."""
    root = _alerts_site(tmp_path, webhook, f'hook: "json://127.0.0.1:{webhook.port}/"')
    _history(root, "udddggggguu")
    assert webhook.titles == ["[DOWN] Public API is down", "[RESOLVED] Public API is up again"]


def test_a_down_only_channel_still_hears_resolved_when_another_follows_degraded(tmp_path, webhook) -> None:
    channels = (f'down-only: "json://127.0.0.1:{webhook.port}/down"\n'
                f'all: {{url: "json://127.0.0.1:{webhook.port}/all", on: [down, degraded]}}')
    root = _alerts_site(tmp_path, webhook, channels)
    _history(root, "udddgggdddgguu")
    heard = {"/down": [], "/all": []}
    for query, title in zip(webhook.queries, webhook.titles):
        heard[query.split("?")[0]].append(title)
    assert heard["/down"] == ["[DOWN] Public API is down", "[RESOLVED] Public API is up again"]
    assert heard["/all"] == ["[DOWN] Public API is down", "[IMPROVED] Public API is degraded, no longer down",
                             "[DOWN] Public API is down", "[IMPROVED] Public API is degraded, no longer down",
                             "[RESOLVED] Public API is up again"]


def test_an_outage_across_midnight_is_counted_from_the_day_before(tmp_path, webhook) -> None:
    """alert send skips history days before the first failure; the rounds just before midnight count."""
    from test_alerts import send_at, write_results

    root = _alerts_site(tmp_path, webhook, f'hook: "json://127.0.0.1:{webhook.port}/"')
    midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(hours=5)
    send_at(root, start)
    write_results(root, start, "u" * 8)  # up until 23:00 the day before
    last = write_results(root, midnight - timedelta(hours=1), "ddd")  # 23:00, 23:30, 00:00
    send_at(root, last)
    assert webhook.titles == ["[DOWN] Public API is down"]
    assert f"since {midnight - timedelta(hours=1):%Y-%m-%d} 23:00 UTC" in webhook.posts[0]["message"]
