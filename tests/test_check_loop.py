"""`heliograph check --push` as a long-running checker (issue #21 part 2): real processes, real
signals, a real local HTTP server to check and a local bare remote to push to."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from gitrun import bare_remote_with_site, clean_env, sh
from servers import static_server

from generator.ops.check_loop import Stop, run_rounds

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals; Windows stops with Ctrl-Break")


def _site_yaml(url: str) -> str:
    return ("site: {title: Loop, base_url: \"https://status.example/\"}\n"
            f"components:\n  - {{id: api, name: API, check: {{type: http, url: \"{url}\", timeout: 20s}}}}\n")


def _results(history: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in (history / "raw").rglob("*.jsonl")) if history.exists() else 0


def _remote_results(tmp_path: Path, remote: Path, env: dict[str, str], name: str) -> int:
    sh("git", "clone", "--quiet", str(remote), name, cwd=tmp_path, env=env)
    return _results(tmp_path / name / "history")


def _remote_commits(remote: Path, env: dict[str, str]) -> list[str]:
    return sh("git", "--git-dir", str(remote), "log", "--format=%s", "main", cwd=remote, env=env).splitlines()


def _start(clone: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "generator.cli", "check", *args], cwd=clone, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_rounds_land_on_the_remote_in_batches_and_sigterm_ends_cleanly(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "ok.txt").write_text("ok\n")
    env = clean_env(tmp_path)
    with static_server(tmp_path / "web") as url:
        remote = bare_remote_with_site(tmp_path, _site_yaml(f"{url}/ok.txt"), env)
        sh("git", "clone", "--quiet", str(remote), "checker", cwd=tmp_path, env=env)
        checker = _start(tmp_path / "checker", env, "--every", "1s", "--push", "--push-every", "2s")
        try:
            _wait_for(lambda: sum("Check results" in s for s in _remote_commits(remote, env)) >= 2)
            checker.send_signal(signal.SIGTERM)
            out, err = checker.communicate(timeout=60)
        finally:
            checker.kill()
    assert checker.returncode == 0, err
    assert "Traceback" not in err and "stopped by SIGTERM" in out
    local = _results(tmp_path / "checker" / "history")
    assert local >= 3 and _remote_results(tmp_path, remote, env, "after") == local  # every round, and pushed


def test_a_remote_refusing_pushes_for_a_while_loses_nothing(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "ok.txt").write_text("ok\n")
    env = clean_env(tmp_path)
    with static_server(tmp_path / "web") as url:
        remote = bare_remote_with_site(tmp_path, _site_yaml(f"{url}/ok.txt"), env)
        refuse = tmp_path / "refuse"
        refuse.write_text("")
        hook = remote / "hooks" / "pre-receive"
        hook.write_text(f"#!/bin/sh\n[ -e '{refuse}' ] && {{ echo 'refused for the test' >&2; exit 1; }}\nexit 0\n")
        hook.chmod(0o755)
        sh("git", "clone", "--quiet", str(remote), "checker", cwd=tmp_path, env=env)
        checker = _start(tmp_path / "checker", env, "--every", "1s", "--push", "--push-every", "1s")
        try:
            _wait_for(lambda: _results(tmp_path / "checker" / "history") >= 3)
            assert not any("Check results" in s for s in _remote_commits(remote, env))
            refuse.unlink()  # the remote takes pushes again
            _wait_for(lambda: any("Check results" in s for s in _remote_commits(remote, env)))
            checker.send_signal(signal.SIGINT)
            out, err = checker.communicate(timeout=60)
        finally:
            checker.kill()
    assert checker.returncode == 0, err
    assert "push failed" in err and "committed here and go with the next push" in err
    assert _remote_results(tmp_path, remote, env, "after") == _results(tmp_path / "checker" / "history")


class _Held(http.server.BaseHTTPRequestHandler):
    """Answers 200 once the test lets it: a round that is under way for as long as the test likes."""

    arrived = threading.Event()
    release = threading.Event()

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        type(self).arrived.set()
        type(self).release.wait(30)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def test_sigterm_mid_round_finishes_the_round_and_pushes_it(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Held)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = clean_env(tmp_path)
    try:
        remote = bare_remote_with_site(tmp_path, _site_yaml(f"http://127.0.0.1:{server.server_address[1]}/"), env)
        sh("git", "clone", "--quiet", str(remote), "checker", cwd=tmp_path, env=env)
        checker = _start(tmp_path / "checker", env, "--every", "60s", "--push")
        try:
            assert _Held.arrived.wait(60)  # the first round is waiting for the answer
            checker.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            _Held.release.set()
            out, err = checker.communicate(timeout=60)
        finally:
            checker.kill()
    finally:
        server.shutdown()
    assert checker.returncode == 0, err
    assert _results(tmp_path / "checker" / "history") == 1  # the round finished, and no other began
    assert _remote_results(tmp_path, remote, env, "after") == 1


def test_a_round_that_runs_long_skips_the_ticks_it_missed():
    """The beat is kept: ticks a slow round overran are skipped, not run back to back."""
    now = [0.0]
    started = []

    def check_round(number: int) -> None:
        started.append(now[0])
        now[0] += 25.0 if number == 1 else 1.0  # the second round takes 25 s of a 10 s beat

    stop = Stop()
    stop.event.wait = lambda timeout=None: now.__setitem__(0, now[0] + (timeout or 0)) or False  # a clock that jumps
    report = run_rounds(check_round, None, every=10.0, push_every=60.0, stop=stop, rounds=4, clock=lambda: now[0])
    assert started == [0.0, 10.0, 40.0, 50.0] and report.skipped == 2 and report.rounds == 4


def test_every_without_push_checks_until_stopped_and_repeat_still_counts(tmp_path):
    """--every alone is the long-running checker without git: rounds land in history/ until
    Ctrl-C, and nothing is committed; --repeat N --every D (check.yml's form) still runs N rounds."""
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "ok.txt").write_text("ok\n")
    env = clean_env(tmp_path)
    with static_server(tmp_path / "web") as url:
        remote = bare_remote_with_site(tmp_path, _site_yaml(f"{url}/ok.txt"), env)
        sh("git", "clone", "--quiet", str(remote), "checker", cwd=tmp_path, env=env)
        checker = _start(tmp_path / "checker", env, "--every", "1s")
        try:
            _wait_for(lambda: _results(tmp_path / "checker" / "history") >= 3)
            checker.send_signal(signal.SIGINT)
            out, err = checker.communicate(timeout=60)
        finally:
            checker.kill()
        assert checker.returncode == 0, err
        assert "stopped by SIGINT" in out and "push" not in out + err
        assert sh("git", "status", "--porcelain", "--", "history", cwd=tmp_path / "checker", env=env)  # not committed
        sh("git", "clone", "--quiet", str(remote), "counted", cwd=tmp_path, env=env)
        counted = subprocess.run([sys.executable, "-m", "generator.cli", "check", "--repeat", "2", "--every", "1s"],
                                 cwd=tmp_path / "counted", env=env, capture_output=True, text=True, timeout=120)
    assert counted.returncode == 0, counted.stderr
    assert _results(tmp_path / "counted" / "history") == 2


def test_github_output_says_whether_the_results_push_landed(tmp_path):
    """check.yml's safety-net push runs only when `check --push --github-output` wrote pushed=false."""
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "ok.txt").write_text("ok\n")
    env = clean_env(tmp_path)
    output = tmp_path / "github-output"

    def pushed_output() -> list[str]:
        output.write_text("")
        done = subprocess.run([sys.executable, "-m", "generator.cli", "check", "--repeat", "1", "--push",
                               "--github-output"], cwd=tmp_path / "checker", env={**env, "GITHUB_OUTPUT": str(output)},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr  # a push that failed is a warning, not a failed check
        return [line for line in output.read_text().splitlines() if line.startswith("pushed=")]

    with static_server(tmp_path / "web") as url:
        remote = bare_remote_with_site(tmp_path, _site_yaml(f"{url}/ok.txt"), env)
        sh("git", "clone", "--quiet", str(remote), "checker", cwd=tmp_path, env=env)
        assert pushed_output() == ["pushed=true"]
        hook = remote / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\necho 'refused for the test' >&2\nexit 1\n")
        hook.chmod(0o755)
        assert pushed_output() == ["pushed=false"]
    assert sum("Check results" in s for s in _remote_commits(remote, env)) == 1
