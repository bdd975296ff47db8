"""The scheduled pipeline as `check.yml` runs it never loses a result.

Twenty days of runs, each running check.yml's own step scripts (`check --push --alert`,
`compact`, `push`) in fresh processes in a fresh shallow clone, against real HTTP servers on
127.0.0.1 and a local bare git remote; HELIOGRAPH_NOW moves the clock on from run to run. A
fresh clone of the remote must then hold every result of every day, raw or compacted, and its
page must show the failing days.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from conftest import write_site
from gitrun import bare_remote_with_site, clean_env, sh
from servers import up_while_present

from generator import history
from generator.checks.result import CheckResult

REPO = Path(__file__).resolve().parent.parent
COMPONENTS = ("api", "web", "db")
LOCATION = "github-actions"
RAW_DAYS = 7  # the least site.yaml allows, so that twenty days compact many times
FIRST_DAY = date(2026, 10, 1)
DAYS = 20
RUN_HOURS = (2, 10, 18)  # three scheduled runs a day
# db's outages: day index -> which of that day's runs find it down.
DB_DOWN = {3: {0, 1, 2}, 17: {1}}
# The steps of check.yml this is about, in the order they must run.
PIPELINE = ("Check", "Commit and push the results", "Compact old history", "Commit and push the compaction")
def heliograph(*args: str, cwd: Path, env: dict[str, str]) -> str:
    """`heliograph ARGS` in a fresh interpreter, as a workflow step runs it; fails the test on a non-zero exit."""
    return sh(sys.executable, "-m", "generator.cli", *args, cwd=cwd, env=env)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def site_yaml(base_url: str) -> str:
    components = "".join(
        f"  - id: {name}\n    name: {name.upper()}\n    check:\n      url: {base_url}/{name}.txt\n"
        f"      timeout: 2s\n      retries: 0\n"
        for name in COMPONENTS
    )
    return ("site:\n  title: Pipeline Test\n  base_url: https://status.test.example/\n"
            f"history:\n  raw_days: {RAW_DAYS}\ncomponents:\n" + components)


def results_by_day(site: Path) -> tuple[Counter, Counter]:
    """(results, down results) per (day, component) in a site's history: raw lines plus daily aggregates."""
    results: Counter = Counter()
    down: Counter = Counter()
    for shard in sorted((site / "history" / "raw").rglob("*.jsonl")):
        for line in shard.read_text().splitlines():
            record = json.loads(line)
            day = record["t"][:10]
            results[day, record["c"]] += 1
            down[day, record["c"]] += record["s"] == "down"
    for month in sorted((site / "history" / "daily").glob("*.jsonl")):
        for line in month.read_text().splitlines():
            aggregate = json.loads(line)
            results[aggregate["day"], aggregate["c"]] += aggregate["n"] + aggregate["maint"]
            down[aggregate["day"], aggregate["c"]] += aggregate["down"]
    return results, down


@pytest.fixture
def served(tmp_path: Path):
    """Real HTTP servers' stand-in on 127.0.0.1: component X is up while X.txt exists."""
    directory = tmp_path / "served"
    with up_while_present(directory, COMPONENTS) as url:
        yield directory, url


@pytest.fixture
def remote(tmp_path: Path, served) -> Path:
    """The "GitHub" remote: a bare repository holding the site, history empty."""
    _, url = served
    return bare_remote_with_site(tmp_path, site_yaml(url), clean_env(tmp_path))


def workflow_steps() -> list[dict]:
    """check.yml's steps that run `heliograph`, in the workflow's order (the deploy step starts
    another workflow, which has no stand-in here)."""
    job = yaml.safe_load((REPO / ".github" / "workflows" / "check.yml").read_text())["jobs"]["check"]
    return [step for step in job["steps"] if "heliograph " in step.get("run", "")
            and "repository_dispatch" not in step.get("if", "")]  # steps a scheduled run skips


def heliograph_on_path(directory: Path) -> Path:
    """A `heliograph` command that runs this checkout's code, as `pip install .` gives the workflow."""
    directory.mkdir(exist_ok=True)
    program = directory / "heliograph"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m generator.cli "$@"\n')
    program.chmod(0o755)
    return directory


def scheduled_run(bare: Path, workdir: Path, now: datetime, home: Path, bin_dir: Path) -> dict[str, str]:
    """One run of check.yml's job: a fresh shallow checkout, then the workflow's own `run:`
    scripts, each in a shell of its own as Actions runs them. Returns what each step printed, by name."""
    env = clean_env(home, HELIOGRAPH_NOW=iso(now), HELIOGRAPH_LOCATION=LOCATION,
                    GITHUB_OUTPUT=str(workdir.parent / f"{workdir.name}.output"),
                    PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                    COMPONENTS="", REPEAT="1", EVERY="60s")  # the check step's inputs, as a scheduled run sets them
    sh("git", "clone", "--quiet", "--depth", "1", bare.as_uri(), str(workdir), cwd=workdir.parent, env=env)
    said = {}
    for step in workflow_steps():
        # The one condition among these steps a run can meet: the results step is a safety net
        # for a check step whose pushes all failed.
        if step.get("if") == "steps.check.outputs.pushed != 'true'" \
                and "pushed=true" in Path(env["GITHUB_OUTPUT"]).read_text().splitlines():
            continue
        said[step["name"]] = sh("bash", "-e", "-c", step["run"], cwd=workdir, env=env)
    return said


def test_twenty_days_of_scheduled_runs_land_every_result_and_the_page_shows_them(tmp_path, served, remote):
    directory, _ = served
    runs = tmp_path / "runs"
    runs.mkdir()
    bin_dir = heliograph_on_path(tmp_path / "bin")
    names = [step["name"] for step in workflow_steps()]
    assert [name for name in names if name in PIPELINE] == list(PIPELINE)  # other steps may come between
    compaction_pushes = 0
    for day_index in range(DAYS):
        day = FIRST_DAY + timedelta(days=day_index)
        for run_index, hour in enumerate(RUN_HOURS):
            db_file = directory / "db.txt"
            if run_index in DB_DOWN.get(day_index, ()):
                db_file.unlink(missing_ok=True)
            else:
                db_file.write_text("ok\n")
            now = datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)
            said = scheduled_run(remote, runs / f"{day_index}-{run_index}", now, tmp_path, bin_dir)
            assert "pushed " in said["Check"], said["Check"]  # the check step pushed its results itself
            assert "Commit and push the results" not in said  # so the safety net did not run
            pushed_compaction = said["Commit and push the compaction"]
            if "Committed" in pushed_compaction:
                compaction_pushes += 1
            else:  # nothing compacted: the second push is a clean no-op
                assert "Nothing to push" in pushed_compaction, pushed_compaction

    env = clean_env(tmp_path)
    subjects = sh("git", "log", "--format=%s", "main", cwd=remote, env=env).splitlines()
    assert sum(s.startswith("Check results") for s in subjects) == DAYS * len(RUN_HOURS)
    # A day falls past raw_days once a day, so roughly one compaction a day after the first week.
    assert compaction_pushes == sum(s.startswith("Compact history") for s in subjects) >= DAYS - RAW_DAYS - 1

    clone = tmp_path / "fresh"
    sh("git", "clone", "--quiet", str(remote), str(clone), cwd=tmp_path, env=env)
    assert list((clone / "history" / "daily").glob("*.jsonl")), "compaction ran and its files reached the remote"
    results, down = results_by_day(clone)
    days = [(FIRST_DAY + timedelta(days=i)).isoformat() for i in range(DAYS)]
    assert results == Counter({(day, c): len(RUN_HOURS) for day in days for c in COMPONENTS})
    assert +down == Counter({(days[i], "db"): len(runs_down) for i, runs_down in DB_DOWN.items()})

    build_now = datetime.combine(FIRST_DAY + timedelta(days=DAYS - 1), datetime.min.time(), timezone.utc) \
        + timedelta(hours=23)
    heliograph("build", cwd=clone, env=clean_env(tmp_path, HELIOGRAPH_NOW=iso(build_now)))
    status = json.loads((clone / "build" / "api" / "status.json").read_text())
    assert status["generated_at"].startswith(build_now.strftime("%Y-%m-%dT%H:%M"))
    rows = list(csv.DictReader(io.StringIO((clone / "build" / "api" / "history.csv").read_text())))
    shown = {(row["date"], row["component_id"]): row for row in rows}
    for day_index, day in enumerate(days):
        for component in COMPONENTS:
            row = shown[day, component]
            assert int(row["checks"]) == len(RUN_HOURS), row
            failing = component == "db" and day_index in DB_DOWN
            assert int(row["down"]) == (len(DB_DOWN[day_index]) if failing else 0), row
            if failing:
                assert float(row["uptime_percent"]) < 100, row
            elif not (component == "db" and day_index - 1 in DB_DOWN):  # a day's last result holds past midnight
                assert float(row["uptime_percent"]) == 100, row
    index = (clone / "build" / "index.html").read_text()
    assert "Pipeline Test" in index


def test_compact_in_a_fresh_process_rolls_old_days_into_daily_aggregates(tmp_path):
    """`heliograph compact` once crashed in a fresh process ('module' object is not callable):
    its module was named like the function the history package exports."""
    site = write_site(tmp_path / "site", site_yaml("http://127.0.0.1:9"))
    old_day = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    history.append_results(site / "history", [
        CheckResult(component, old_day + timedelta(minutes=minute), "up", "ok", "HTTP 200", 12.0, LOCATION)
        for component in COMPONENTS for minute in (0, 5, 10)
    ])
    shard = site / "history" / "raw" / "2026" / "11" / "01.jsonl"
    assert shard.exists()
    env = clean_env(tmp_path, HELIOGRAPH_NOW=iso(old_day + timedelta(days=RAW_DAYS + 3)))
    said = heliograph("compact", cwd=site, env=env)
    assert "compacted 1 day(s)" in said
    assert not shard.exists()
    results, _ = results_by_day(site)
    assert results == Counter({("2026-11-01", component): 3 for component in COMPONENTS})
    assert heliograph("compact", cwd=site, env=env).strip() == "nothing to compact"


def test_a_clock_that_is_not_a_time_is_said_like_bad_input(tmp_path):
    site = write_site(tmp_path / "site", site_yaml("http://127.0.0.1:9"))
    for command in ("check", "compact", "build", "validate"):
        done = subprocess.run([sys.executable, "-m", "generator.cli", command], cwd=site, capture_output=True,
                              text=True, timeout=60, env=clean_env(tmp_path, HELIOGRAPH_NOW="tomorrow"))
        assert done.returncode == 1, (command, done.stderr)
        assert "HELIOGRAPH_NOW: error: 'tomorrow' is not a time with a zone" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not (site / "history").exists() and not (site / "build").exists()
