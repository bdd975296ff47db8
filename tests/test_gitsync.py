"""`heliograph push`: runners and people push to one branch; no result is lost, nothing is force-pushed.

The git tests use real repositories: a bare "GitHub" remote and clones of it, one of them
shallow as actions/checkout makes them, checking a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import write_site
from gitrun import ACTIONS_BOT
from servers import up_while_present

from generator import history
from generator.checks.result import CheckResult
from generator.ops.gitsync import (
    BEHIND,
    FATAL,
    TRANSIENT,
    Git,
    GitError,
    GitOutput,
    RetryPolicy,
    StatusChange,
    backoff_delay,
    classify_push_failure,
    github_output,
    latest_statuses,
    push_with_retry,
    status_changes,
)

REPO = Path(__file__).resolve().parent.parent
COMPONENTS = ("api", "web", "db")
BOT_ENV = ACTIONS_BOT  # commits as check.yml makes them


def git_env(home: Path) -> dict[str, str]:
    return {**os.environ, **BOT_ENV, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}


def sh(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def site_yaml(base_url: str) -> str:
    components = "".join(
        f"  - id: {name}\n    name: {name.upper()}\n    check:\n      url: {base_url}/{name}.txt\n      timeout: 2s\n"
        f"      retries: 0\n"
        for name in COMPONENTS
    )
    return ("site:\n  title: Sync Test\n  base_url: https://status.test.example/\n"
            "checks:\n  location: default\ncomponents:\n" + components)


@pytest.fixture
def served(tmp_path: Path):
    """A real HTTP server on 127.0.0.1: component X is up while X.txt exists."""
    root = tmp_path / "served"
    with up_while_present(root, COMPONENTS) as url:
        yield root, url


@pytest.fixture
def remote(tmp_path: Path, served) -> tuple[Path, dict[str, str]]:
    """A bare remote holding a site whose components check the local server; returns (url, env)."""
    _, url = served
    env = git_env(tmp_path)
    bare = tmp_path / "remote.git"
    sh("git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path, env=env)
    seed = write_site(tmp_path / "seed", site_yaml(url))
    sh("git", "init", "--quiet", "--initial-branch=main", cwd=seed, env=env)
    (seed / "incidents" / ".keep").write_text("")
    sh("git", "add", "-A", cwd=seed, env=env)
    sh("git", "commit", "--quiet", "-m", "Start the status page", cwd=seed, env=env)
    sh("git", "push", "--quiet", str(bare), "main", cwd=seed, env=env)
    return bare, env


def clone(remote: Path, target: Path, env: dict[str, str], *, shallow: bool = False) -> Path:
    source = remote.as_uri() if shallow else str(remote)  # --depth needs a URL for a local remote
    sh("git", "clone", "--quiet", *(["--depth", "1"] if shallow else []), source, str(target), cwd=target.parent, env=env)
    return target


def heliograph(site: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator.cli", "--site", str(site), *args],
                          cwd=site, env={**env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)


def result(component: str, status: str, minute: int, location: str = "ci") -> CheckResult:
    return CheckResult(component, datetime(2026, 11, 20, 12, minute, tzinfo=timezone.utc), status, "ok", "",
                       12.0, location)


# --- pure decisions -------------------------------------------------------------------------


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=20.0)
    rng = random.Random(7)
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0), (6, 20.0), (9, 20.0)]:
        delays = [backoff_delay(retry, policy, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (retry, min(delays), max(delays))
        assert max(delays) - min(delays) > ceiling / 4  # really jittered, so colliding runners spread out


@pytest.mark.parametrize("stderr, kind", [
    (" ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs", BEHIND),
    (" ! [rejected]        HEAD -> main (non-fast-forward)", BEHIND),
    (" ! [remote rejected] HEAD -> main (cannot lock ref 'refs/heads/main': is at 1a2b but expected 3c4d)", BEHIND),
    ("fatal: unable to access 'https://github.com/o/r/': The requested URL returned error: 502", TRANSIENT),
    ("fatal: the remote end hung up unexpectedly", TRANSIENT),
    ("fatal: unable to access 'https://github.com/o/r/': Could not resolve host: github.com", TRANSIENT),
    ("remote: Permission to o/r.git denied to github-actions[bot].\n"
     "fatal: unable to access 'https://github.com/o/r/': The requested URL returned error: 403", FATAL),
    ("remote: error: GH006: Protected branch update failed for refs/heads/main.", FATAL),
    ("fatal: 'nowhere' does not appear to be a git repository", FATAL),
])
def test_push_failures_are_classified(stderr, kind):
    assert classify_push_failure(stderr) == kind


def test_status_changes_follow_each_location_through_every_round():
    previous = {("api", "ci"): "up", ("web", "ci"): "up"}
    rounds = [
        [result("api", "up", 0), result("web", "down", 0), result("db", "up", 0)],
        [result("api", "up", 1), result("web", "up", 1), result("db", "up", 1), result("api", "up", 1, "eu")],
    ]
    assert status_changes(previous, rounds) == [
        StatusChange("web", "ci", "up", "down"),
        StatusChange("db", "ci", None, "up"),  # never seen before: news for the page
        StatusChange("web", "ci", "down", "up"),  # a blip inside one job still redeploys
        StatusChange("api", "eu", None, "up"),
    ]
    assert status_changes({("api", "ci"): "up"}, [[result("api", "up", 2)]]) == []


def test_latest_statuses_takes_the_newest_per_component_and_location():
    results = [result("api", "down", 5), result("api", "up", 1), result("api", "degraded", 3, "eu")]
    assert latest_statuses(results) == {("api", "ci"): "down", ("api", "eu"): "degraded"}


def test_github_output_lines():
    assert github_output([]) == "changed=false\nchanged_components=\n"
    changes = [StatusChange("web", "ci", "up", "down"), StatusChange("api", "eu", None, "up"),
               StatusChange("web", "eu", "up", "down")]
    assert github_output(changes) == "changed=true\nchanged_components=api web\n"


# --- the retry loop, with a scripted git ----------------------------------------------------


class ScriptedGit:
    """Answers `git push` from a script; every other command succeeds. Records what ran."""

    def __init__(self, pushes: list[GitOutput]):
        self.pushes = list(pushes)
        self.calls: list[tuple[str, ...]] = []

    def run(self, *args: str, check: bool = True) -> GitOutput:
        self.calls.append(args)
        if args[0] == "push":
            return self.pushes.pop(0)
        if args[0] == "rev-parse":
            return GitOutput(0, "0123456789abcdef\n", "")
        return GitOutput(0, "", "")


REJECTED = GitOutput(1, "", " ! [rejected] HEAD -> main (fetch first)")
FLAKY = GitOutput(128, "", "fatal: unable to access 'https://github.com/o/r/': The requested URL returned error: 502")
PUSHED = GitOutput(0, "To github.com:o/r\n \tHEAD:refs/heads/main\t1111..2222\nDone\n", "")


def test_rejected_and_flaky_pushes_are_retried_after_growing_waits():
    git = ScriptedGit([REJECTED, FLAKY, REJECTED, PUSHED])
    waits: list[float] = []
    report = push_with_retry(git, branch="main", policy=RetryPolicy(10, 1.0, 60.0), sleep=waits.append,
                             rng=random.Random(1))
    assert (report.pushed, report.attempts, report.rebases) == (True, 4, 3)
    assert len(waits) == 3 and 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2 and 2 <= waits[2] <= 4
    commands = [call[0] for call in git.calls if call[0] in ("push", "fetch", "rebase")]
    assert commands == ["push", "fetch", "rebase", "push", "fetch", "rebase", "push", "fetch", "rebase", "push"]
    assert not any("--force" in call or "-f" in call or any(a.startswith("+") for a in call) for call in git.calls)


def test_a_fatal_refusal_fails_at_once():
    git = ScriptedGit([GitOutput(128, "", "remote: Permission to o/r.git denied to github-actions[bot].")])
    with pytest.raises(GitError, match="retrying will not help"):
        push_with_retry(git, branch="main", sleep=lambda _: pytest.fail("must not wait"))


def test_giving_up_after_the_last_attempt_says_the_commits_are_kept():
    git = ScriptedGit([FLAKY] * 3)
    with pytest.raises(GitError, match="after 3 attempts; the commits are kept locally"):
        push_with_retry(git, branch="main", policy=RetryPolicy(3, 0.01, 0.01), sleep=lambda _: None)


# --- real repositories ------------------------------------------------------------------------


def test_push_rebases_over_a_push_made_meanwhile(tmp_path, remote):
    bare, env = remote
    runner = clone(bare, tmp_path / "runner", env, shallow=True)
    person = clone(bare, tmp_path / "person", env)
    history.append_results(runner / "history", [result("api", "up", 0)])
    (person / "incidents" / "2026-11-20-outage.md").write_text("---\ntitle: Outage\nimpact: major\n---\n")
    sh("git", "add", "-A", cwd=person, env=env)
    sh("git", "commit", "--quiet", "-m", "Incident", cwd=person, env=env)
    sh("git", "push", "--quiet", "origin", "main", cwd=person, env=env)

    report = push_with_retry(Git(runner, env), paths=["history"], message="Check results [skip ci]",
                             policy=RetryPolicy(5, 0.01, 0.05))

    assert report.committed and report.pushed and (report.attempts, report.rebases) == (2, 1)
    log = sh("git", "log", "--format=%s|%an|%P", "main", cwd=bare, env=env).splitlines()
    assert log[0].startswith("Check results [skip ci]|github-actions[bot]|") and len(log[0].split("|")[2].split()) == 1
    assert log[1].startswith("Incident|")  # linear: rebased on top, no merge commit, the person's commit intact


def test_nothing_to_commit_pushes_nothing(tmp_path, remote):
    bare, env = remote
    runner = clone(bare, tmp_path / "runner", env)
    for paths in (["incidents"], ["history"]):  # unchanged; not there at all (no results yet)
        report = push_with_retry(Git(runner, env), paths=paths)
        assert (report.committed, report.pushed, report.attempts) == (None, False, 1)


def test_a_real_conflict_stops_without_pushing_and_keeps_the_local_commit(tmp_path, remote):
    bare, env = remote
    first = clone(bare, tmp_path / "first", env)
    second = clone(bare, tmp_path / "second", env)
    for checkout, title in ((first, "First"), (second, "Second")):
        text = (checkout / "site.yaml").read_text().replace("Sync Test", title)
        (checkout / "site.yaml").write_text(text)
    push_with_retry(Git(first, env), paths=["site.yaml"], message="first")
    remote_head = sh("git", "rev-parse", "main", cwd=bare, env=env)

    with pytest.raises(GitError, match="conflicted, so nothing was pushed"):
        push_with_retry(Git(second, env), paths=["site.yaml"], message="second", policy=RetryPolicy(3, 0.01, 0.01))

    assert sh("git", "rev-parse", "main", cwd=bare, env=env) == remote_head
    assert sh("git", "log", "-1", "--format=%s", cwd=second, env=env).strip() == "second"
    assert sh("git", "status", "--porcelain", cwd=second, env=env) == ""  # rebase aborted cleanly


def test_two_runners_checking_and_pushing_at_once_lose_nothing(tmp_path, remote):
    """Two locations check the same components and push at the same moment, round after round.

    A barrier lines the pushes up, so in every round one of them is rejected and must rebase
    (union merge of the same day's file, first created on both sides in round one).
    """
    bare, env = remote
    rounds = 4
    runners = {"gh-actions": clone(bare, tmp_path / "a", env, shallow=True),
               "eu-west": clone(bare, tmp_path / "b", env)}
    barrier = threading.Barrier(len(runners), timeout=60)
    outputs: dict[str, list[subprocess.CompletedProcess]] = {name: [] for name in runners}

    def run(location: str, checkout: Path) -> None:
        for round_number in range(rounds):
            outputs[location].append(heliograph(checkout, "check", "--location", location, env=env))
            barrier.wait()
            outputs[location].append(heliograph(checkout, "push", "-m", f"Check results from {location} [skip ci]",
                                                "--base-delay", "50ms", "--max-delay", "1s", env=env))

    threads = [threading.Thread(target=run, args=item) for item in runners.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    for location, done in outputs.items():
        assert len(done) == 2 * rounds, f"{location} did not finish"
        for process in done:
            assert process.returncode == 0, f"{location}: {process.args}\n{process.stdout}\n{process.stderr}"
    retried = sum("rebase" in p.stdout for done in outputs.values() for p in done)
    assert retried >= rounds  # every round, the later push had to rebase

    final = clone(bare, tmp_path / "final", env)
    results = history.read_results(final / "history")
    per_series = Counter((r.component, r.location) for r in results)
    assert per_series == {(c, loc): rounds for c in COMPONENTS for loc in runners}, per_series
    lines = [line for path in (final / "history" / "raw").rglob("*.jsonl") for line in path.read_text().splitlines()]
    assert len(lines) == len(results) == len(set(lines))  # on disk too: each result exactly once

    log = sh("git", "log", "--format=%P|%s", "main", cwd=final, env=env).splitlines()
    assert len(log) == 1 + 2 * rounds and all(len(entry.split("|")[0].split()) <= 1 for entry in log)

    now = max(r.time for r in results) + timedelta(minutes=1)
    summaries = history.summarize(final / "history", list(COMPONENTS), now=now)
    assert all(set(summaries[c].locations) == set(runners) for c in COMPONENTS)

    from generator.engine.build import build
    from generator.engine.inputs import read_inputs
    inputs = read_inputs(final, now=now)
    assert set(inputs.histories["api"].locations) == set(runners)
    report = build(final, tmp_path / "site-out", now=now)
    assert (tmp_path / "site-out" / "index.html").is_file() and report.files > 0


def test_push_command_commits_the_history_dir_by_default(tmp_path, remote):
    bare, env = remote
    runner = clone(bare, tmp_path / "runner", env)
    checked = heliograph(runner, "check", env=env)
    assert checked.returncode == 0, checked.stderr
    pushed = heliograph(runner, "push", env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert "Committed" in pushed.stdout and "Pushed" in pushed.stdout
    files = sh("git", "show", "--name-only", "--format=%s", "main", cwd=bare, env=env).split()
    assert files[:3] == ["Check", "results", "[skip"]
    assert "history/.gitattributes" in files and any(f.startswith("history/raw/") for f in files)
    again = heliograph(runner, "push", env=env)
    assert again.returncode == 0 and "Nothing to push" in again.stdout


def test_repo_growth_benchmark_makes_real_commits_of_real_history(tmp_path):
    """The README's repository-size figure comes from this simulation; a short run of it must be faithful."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from repo_growth import simulate
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    repository = tmp_path / "growth"
    growth = simulate(repository, days=1, components=3, interval_s=300, rounds_per_commit=1, raw_days=90,
                      progress=lambda _: None)
    env = git_env(tmp_path)
    commits = int(sh("git", "rev-list", "--count", "main", cwd=repository, env=env))
    assert commits == growth.commits and 280 <= commits <= 290  # one per 5-minute run, a few skipped
    assert growth.pack_bytes > 0 and growth.results == 3 * (commits - 1)
    checkout = clone(repository, tmp_path / "checkout", env)
    results = history.read_results(checkout / "history")
    assert len(results) == growth.results and {r.component for r in results} == {"comp-01", "comp-02", "comp-03"}
    assert "merge=union" in (checkout / "history" / ".gitattributes").read_text()
