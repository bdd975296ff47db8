"""`heliograph check --repeat/--every` (finer data, one commit) and `--github-output` (deploy only on change)."""

from __future__ import annotations

import http.server
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_site
from servers import http_server, up_while_present

from generator import history
from generator.cli import main

COMPONENTS = ("api", "web")


@pytest.fixture
def site(tmp_path: Path):
    """A site whose components are up while <served>/<id>.txt exists; yields (site root, served dir)."""
    served = tmp_path / "served"
    with up_while_present(served, COMPONENTS) as url:
        components = "".join(f"  - id: {name}\n    name: {name}\n    check:\n      url: {url}/{name}.txt\n"
                             f"      timeout: 2s\n      retries: 0\n" for name in COMPONENTS)
        root = write_site(tmp_path / "site", "site:\n  title: T\n  base_url: https://s.example/\n"
                                             "checks:\n  location: ci\ncomponents:\n" + components)
        yield root, served


def check(root: Path, *args: str, output: Path | None = None):
    env = {"GITHUB_OUTPUT": str(output)} if output else {}
    return CliRunner().invoke(main, ["--site", str(root), "check", *args], env=env, catch_exceptions=False)


def outputs(path: Path) -> list[dict[str, str]]:
    """Each run's name=value block from a $GITHUB_OUTPUT file that several steps appended to."""
    blocks, current = [], {}
    for line in path.read_text().splitlines():
        name, value = line.split("=", 1)
        if name in current:
            blocks.append(current)
            current = {}
        current[name] = value
    return blocks + [current]


def test_repeat_appends_every_round_at_the_given_spacing(site):
    root, _ = site
    done = check(root, "--repeat", "3", "--every", "300ms")
    assert done.exit_code == 0, done.output
    assert "round 3/3" in done.output
    results = history.read_results(root / "history")
    assert len(results) == 3 * len(COMPONENTS)
    starts = sorted({r.time for r in results if r.component == "api"})
    # Each round keeps to the schedule from the first one's start: never early, and a late
    # round (a busy machine) does not push the ones after it back.
    offsets = [(start - starts[0]).total_seconds() for start in starts]
    assert len(starts) == 3 and all(offset >= index * 0.3 - 0.05 for index, offset in enumerate(offsets)), offsets
    assert offsets[2] < 0.6 + 5, offsets


def test_github_output_says_whether_any_status_changed(site, tmp_path):
    root, served = site
    output = tmp_path / "github_output"
    assert check(root, "--github-output", output=output).exit_code == 0  # first results ever: news
    assert check(root, "--github-output", output=output).exit_code == 0  # all still up: nothing to redeploy
    (served / "web.txt").unlink()
    third = check(root, "--github-output", output=output)
    assert third.exit_code == 0
    assert "status changed: web at ci: up -> down" in third.output
    assert outputs(output) == [
        {"changed": "true", "changed_components": "api web"},
        {"changed": "false", "changed_components": ""},
        {"changed": "true", "changed_components": "web"},
    ]


@contextmanager
def scripted_server(statuses: list[int]):
    """An HTTP server on 127.0.0.1 answering each request with the next status of the script."""
    script = list(statuses)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(script.pop(0) if len(script) > 1 else script[0])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    with http_server(Handler) as base:
        yield base + "/"


def test_a_change_between_rounds_of_one_job_counts(tmp_path):
    # Down in round two, back for round three: still worth a deploy, since the day's bar and
    # the uptime figures now show the outage.
    output = tmp_path / "github_output"
    with scripted_server([200, 200, 503, 200]) as url:
        root = write_site(tmp_path / "site", "site:\n  title: T\n  base_url: https://s.example/\n"
                                             f"components:\n  - id: api\n    name: API\n    check:\n"
                                             f"      url: {url}\n      retries: 0\n")
        assert check(root).exit_code == 0
        done = check(root, "--github-output", "--repeat", "3", "--every", "100ms", output=output)
    assert done.exit_code == 0, done.output
    assert outputs(output) == [{"changed": "true", "changed_components": "api"}]
    statuses = [r.status for r in history.read_results(root / "history")]
    assert statuses == ["up", "up", "down", "up"]


def test_github_output_outside_github_actions_is_an_error(site):
    root, _ = site
    done = CliRunner().invoke(main, ["--site", str(root), "check", "--github-output"], env={"GITHUB_OUTPUT": ""})
    assert done.exit_code != 0 and "$GITHUB_OUTPUT" in done.output
    assert not (root / "history").exists()  # refused before checking anything


def test_a_bad_every_is_reported(site):
    root, _ = site
    done = CliRunner().invoke(main, ["--site", str(root), "check", "--repeat", "2", "--every", "soon"])
    assert done.exit_code == 2 and "--every" in done.output
