"""Compaction: old raw days become daily aggregates without changing anything the page shows."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from generator.checks.result import CheckResult
from generator.history import aggregate_day, append_results, compact, daily_path, raw_shard_path, summarize
from generator.history.aggregate import SeriesDay, parse_daily, windows_by_component
from generator.history.codec import parse_raw
from generator.history.store import raw_shards

REPO = Path(__file__).resolve().parent.parent
START = datetime(2025, 1, 20, tzinfo=timezone.utc)
NOW = datetime(2025, 2, 12, 13, 30, tzinfo=timezone.utc)
COMPONENTS = ["api", "web", "db"]
# Planned work on api that straddles midnight, in days that get compacted.
MAINTENANCE = {"api": [(datetime(2025, 1, 25, 23, tzinfo=timezone.utc), datetime(2025, 1, 26, 1, tzinfo=timezone.utc))]}


def make_history():
    spec = importlib.util.spec_from_file_location("make_history", REPO / "benchmarks" / "make_history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """24 days of 10-minute runs for three components, seen from two locations."""
    root = tmp_path_factory.mktemp("generated")
    generator = make_history()
    end = NOW + timedelta(hours=3)  # a little past now: summarize must ignore the future
    generator.generate(root, COMPONENTS, start=START, end=end, interval_s=600, seed=1, location="eu")
    generator.generate(root, COMPONENTS, start=START + timedelta(days=3), end=end, interval_s=600, seed=2, location="us")
    return root


@pytest.fixture
def history(generated, tmp_path) -> Path:
    target = tmp_path / "history"
    shutil.copytree(generated, target)
    return target


def summaries(history_dir: Path, mode: str):
    problems = []
    result = summarize(history_dir, COMPONENTS, now=NOW, days=30, mode=mode, maintenance=MAINTENANCE, problems=problems)
    assert problems == []
    return result


def raw_aggregates(history_dir: Path, before: date) -> dict:
    windows = windows_by_component(MAINTENANCE)
    found = {}
    for day, path in raw_shards(history_dir).items():
        if day < before:
            for aggregate in aggregate_day(parse_raw(path.read_bytes(), str(path), day=day), day, windows):
                found[aggregate.key] = aggregate
    return found


def daily_aggregates(history_dir: Path) -> dict:
    found = {}
    for path in sorted((history_dir / "daily").glob("*.jsonl")):
        found.update(parse_daily(path.read_bytes(), str(path)))
    return found


def test_compaction_keeps_every_figure_and_removes_old_raw_files(history):
    cutoff = NOW.date() - timedelta(days=10)
    before = {mode: summaries(history, mode) for mode in ("results", "duration")}
    expected = raw_aggregates(history, cutoff)

    report = compact(history, raw_days=10, now=NOW, maintenance=MAINTENANCE)

    assert report.days == tuple(START.date() + timedelta(days=n) for n in range((cutoff - START.date()).days))
    assert report.skipped == ()
    assert report.written == (daily_path(history, 2025, 1), daily_path(history, 2025, 2))
    assert all(not path.exists() for path in report.removed) and len(report.removed) == len(report.days)
    assert min(raw_shards(history)) == cutoff
    assert not (history / "raw" / "2025" / "01").exists()  # emptied month folders go too
    assert daily_aggregates(history) == expected
    assert any(a.maintenance for a in expected.values())
    for mode, old in before.items():
        assert summaries(history, mode) == old


def test_compaction_is_idempotent(history):
    compact(history, raw_days=10, now=NOW, maintenance=MAINTENANCE)
    files = {p: p.read_bytes() for p in history.rglob("*") if p.is_file()}
    again = compact(history, raw_days=10, now=NOW, maintenance=MAINTENANCE)
    assert not again.changed and again.days == ()
    assert {p: p.read_bytes() for p in history.rglob("*") if p.is_file()} == files


def test_two_clones_compacting_the_same_days_agree_byte_for_byte(generated, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    shutil.copytree(generated, first)
    shutil.copytree(generated, second)
    compact(first, raw_days=10, now=NOW)
    compact(second, raw_days=15, now=NOW)
    compact(second, raw_days=10, now=NOW)  # the same days, in two steps
    for name in ("2025-01.jsonl", "2025-02.jsonl"):
        assert (first / "daily" / name).read_bytes() == (second / "daily" / name).read_bytes()


def test_an_interrupted_compaction_changes_nothing(history):
    shard = raw_shard_path(history, date(2025, 1, 30))
    saved = shard.read_bytes()
    before = summaries(history, "duration")
    compact(history, raw_days=10, now=NOW, maintenance=MAINTENANCE)
    daily = daily_path(history, 2025, 1).read_bytes()
    shard.parent.mkdir(parents=True, exist_ok=True)
    shard.write_bytes(saved)  # as if we were killed after writing the daily file
    assert summaries(history, "duration") == before
    report = compact(history, raw_days=10, now=NOW, maintenance=MAINTENANCE)
    assert report.removed == (shard,) and report.written == ()
    assert daily_path(history, 2025, 1).read_bytes() == daily


def test_a_shard_with_a_bad_line_is_reported_and_kept(history):
    shard = raw_shard_path(history, date(2025, 1, 22))
    with shard.open("ab") as out:
        out.write(b"garbage\n")
    problems = []
    report = compact(history, raw_days=10, now=NOW, problems=problems)
    assert report.skipped == (shard,) and shard.exists()
    assert (problems[0].file, problems[0].line) == (str(shard), shard.read_bytes().count(b"\n"))
    assert "not compacted" in problems[-1].message
    # Days either side were compacted; the kept day still reads from raw.
    history_now = summarize(history, ["api"], now=NOW, days=30)["api"]
    assert next(d for d in history_now.days if d.day == date(2025, 1, 22)).checks > 0


def test_duplicate_and_conflicting_aggregates_are_resolved_the_same_way_every_time(history):
    compact(history, raw_days=10, now=NOW)
    path = daily_path(history, 2025, 1)
    lines = path.read_bytes().splitlines(keepends=True)
    first = SeriesDay.from_json(json.loads(lines[0]))
    fewer = dataclasses.replace(first, checks=first.checks - 1, up=first.up - 1)
    path.write_bytes(b"".join(lines) + lines[0] + fewer.to_line())  # a union merge's leftovers
    problems = []
    assert parse_daily(path.read_bytes(), str(path), problems)[first.key] == first
    assert len(problems) == 1 and problems[0].line == len(lines) + 2
    path.write_bytes(fewer.to_line() + b"".join(lines))
    assert parse_daily(path.read_bytes(), str(path))[first.key] == first


def test_arguments_are_checked(history):
    with pytest.raises(ValueError, match="raw_days"):
        compact(history, raw_days=0, now=NOW)
    with pytest.raises(ValueError, match="timezone"):
        compact(history, raw_days=90, now=datetime(2025, 1, 1))
    assert not compact(history, raw_days=90, now=NOW).changed  # nothing is 90 days old


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "r", "GIT_AUTHOR_EMAIL": "r@example.com",
           "GIT_COMMITTER_NAME": "r", "GIT_COMMITTER_EMAIL": "r@example.com"}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_branches_that_compact_and_append_merge_cleanly(generated, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(generated, repo / "history")
    history = repo / "history"
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "branch", "runner-b")
    expected = summaries(history, "results")

    compact(history, raw_days=10, now=NOW, maintenance=MAINTENANCE)
    mine = [CheckResult("api", NOW - timedelta(minutes=1), "up", "ok", "", 99.0, "eu", {})]
    append_results(history, mine)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "main: compact, run")

    git(repo, "checkout", "-q", "runner-b")
    compact(history, raw_days=12, now=NOW, maintenance=MAINTENANCE)  # fewer days than main
    theirs = [CheckResult("web", NOW - timedelta(minutes=2), "down", "timeout", "", None, "us", {})]
    append_results(history, theirs)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "runner-b: compact, run")

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "--no-edit", "runner-b")
    after = summaries(history, "results")
    assert after["api"].latest == mine[0] and after["web"].latest == theirs[0]
    assert after["db"] == expected["db"]
    assert after["api"].days[:-1] == expected["api"].days[:-1]


def test_a_daily_file_with_a_bad_line_is_not_rewritten(history):
    compact(history, raw_days=15, now=NOW)
    path = daily_path(history, 2025, 1)
    with path.open("ab") as out:
        out.write(b'{"v":1,"day":"2025-01-31"\n')
    damaged = path.read_bytes()
    problems = []
    report = compact(history, raw_days=10, now=NOW, problems=problems)
    assert path.read_bytes() == damaged
    assert report.skipped and all(p.parent.name == "01" for p in report.skipped)
    assert report.written == (daily_path(history, 2025, 2),)  # other months go on
    assert [p.line for p in problems if p.file == str(path)][0] == damaged.count(b"\n")
    assert "daily file has unreadable lines" in problems[-1].message


def test_the_report_reads_well(history):
    report = compact(history, raw_days=10, now=NOW)
    assert str(report) == "compacted 13 day(s): 13 raw file(s) removed, 2 daily file(s) written (2025-01-20 to 2025-02-01)"
    assert str(compact(history, raw_days=10, now=NOW)) == "nothing to compact"
