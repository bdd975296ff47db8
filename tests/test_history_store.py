"""History on disk: appending, reading back, concurrency, git union merges, bad lines."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from generator.checks.result import CheckResult
from generator.history import append_results, raw_shard_path, read_results
from generator.history.codec import for_storage
from generator.history.store import lock_shard

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def result(component="api", at=T0, status="up", latency=120.0, location="ci", reason="ok", message="HTTP 200", **details):
    return CheckResult(component, at, status, reason, message, latency, location, details)


def load_make_history():
    spec = importlib.util.spec_from_file_location("make_history", REPO / "benchmarks" / "make_history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_round_trip_keeps_everything_a_page_can_use(tmp_path):
    original = [
        result(at=T0 + timedelta(microseconds=123456), latency=123.456, build=7),
        result("web", T0, "down", None, reason="timeout", message=""),
        result("web", T0 + timedelta(minutes=5), "degraded", 900, location="eu", reason="slow", message="slow",
               build=8),
    ]
    written = append_results(tmp_path, original)
    assert written == [raw_shard_path(tmp_path, date(2025, 3, 1))]
    back = read_results(tmp_path)
    assert back == sorted((for_storage(r) for r in original), key=lambda r: (r.time, r.component, r.location))
    assert back[1].time == T0 + timedelta(microseconds=123000)
    # An up result keeps no details (they would double the repository's growth); others keep them.
    assert back[1].latency_ms == 123.5 and back[1].details == {}
    assert back[2].details == {"build": 8}
    line = written[0].read_bytes().splitlines()[1]
    assert line == b'{"v":1,"c":"api","t":"2025-03-01T12:00:00.123Z","s":"up","r":"ok","loc":"ci","m":"HTTP 200","ms":123.5}'


def test_results_go_to_their_utc_day_and_nothing_is_rewritten(tmp_path):
    late = datetime(2025, 3, 1, 23, 59, 59, tzinfo=timezone.utc)
    same_moment_elsewhere = datetime(2025, 3, 2, 1, 0, tzinfo=timezone(timedelta(hours=2)))  # 2025-03-01T23:00Z
    append_results(tmp_path, [result(at=late)])
    first = raw_shard_path(tmp_path, date(2025, 3, 1)).read_bytes()
    written = append_results(tmp_path, [result(at=late + timedelta(seconds=2)), result("web", same_moment_elsewhere)])
    assert written == [raw_shard_path(tmp_path, date(2025, 3, 1)), raw_shard_path(tmp_path, date(2025, 3, 2))]
    assert raw_shard_path(tmp_path, date(2025, 3, 1)).read_bytes().startswith(first)
    assert (tmp_path / ".gitattributes").read_text().splitlines()[-1] == "*.jsonl merge=union"
    assert append_results(tmp_path, []) == []


def test_naive_times_are_refused(tmp_path):
    with pytest.raises(ValueError, match="naive"):
        append_results(tmp_path, [result(at=datetime(2025, 3, 1))])


def test_gitattributes_keeps_what_the_user_wrote(tmp_path):
    (tmp_path / ".gitattributes").write_text("*.csv -diff")
    append_results(tmp_path, [result()])
    append_results(tmp_path, [result(at=T0 + timedelta(minutes=5))])
    lines = (tmp_path / ".gitattributes").read_text().splitlines()
    assert lines[0] == "*.csv -diff" and lines.count("*.jsonl merge=union") == 1


def _append_many(history_dir: str, worker: int, start_event) -> None:
    start_event.wait()
    for batch in range(100):
        append_results(
            Path(history_dir),
            [result(f"worker-{worker}", T0 + timedelta(seconds=batch * 5 + i), message="x" * 200) for i in range(5)],
        )


def test_concurrent_appenders_lose_nothing(tmp_path):
    context = multiprocessing.get_context("fork")
    start = context.Event()
    workers = [context.Process(target=_append_many, args=(str(tmp_path), n, start)) for n in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    problems = []
    back = read_results(tmp_path, problems=problems)
    assert problems == []
    assert len(back) == 4 * 500
    assert {(r.component, r.time) for r in back} == {
        (f"worker-{n}", T0 + timedelta(seconds=s)) for n in range(4) for s in range(500)
    }


def test_an_append_waiting_on_compaction_lands_in_the_new_file(tmp_path):
    append_results(tmp_path, [result()])
    shard = raw_shard_path(tmp_path, T0.date())
    held = lock_shard(shard)  # as compaction does while it reads and removes the shard
    appender = threading.Thread(target=append_results, args=(tmp_path, [result(at=T0 + timedelta(minutes=5))]))
    appender.start()
    time.sleep(0.2)
    assert appender.is_alive(), "the appender should be waiting for the lock"
    shard.unlink()
    held.release()
    appender.join(5)
    assert [r.time for r in read_results(tmp_path)] == [T0 + timedelta(minutes=5)]


def test_bad_lines_are_named_by_file_and_line_and_skipped(tmp_path):
    good = [result(at=T0 + timedelta(minutes=m)) for m in range(3)]
    append_results(tmp_path, good[:1])
    shard = raw_shard_path(tmp_path, T0.date())
    with shard.open("ab") as out:
        out.write(b"this is not json\n")
        out.write(b'{"v":1,"c":"api","t":"2025-03-01T12:01:00Z","s":"sideways","r":"ok","loc":"ci"}\n')
        out.write(b'{"v":2,"c":"api","t":"2025-03-01T12:01:00Z","s":"up","r":"ok","loc":"ci"}\n')
        out.write(b'{"v":1,"t":"2025-03-01T12:01:00Z","s":"up","r":"ok","loc":"ci"}\n')
        out.write(b'{"v":1,"c":"api","t":"yesterday","s":"up","r":"ok","loc":"ci"}\n')
        out.write(b'{"v":1,"c":"api","t":"2025-02-01T12:01:00Z","s":"up","r":"ok","loc":"ci"}\n')
        out.write(b"\n")
    append_results(tmp_path, good[1:2])
    with shard.open("ab") as out:
        out.write(b'{"v":1,"c":"api","t":"2025-03-01T12:0')  # a writer killed mid-line
    problems = []
    assert read_results(tmp_path, problems=problems) == good[:2]
    assert [(p.file, p.line) for p in problems] == [(str(shard), n) for n in (2, 3, 4, 5, 6, 7, 10)]
    assert all(p.severity == "warning" for p in problems)
    messages = [p.message for p in problems]
    assert "not valid JSON" in messages[0]
    assert "sideways" in messages[1]
    assert "version 2" in messages[2]
    assert "missing field 'c'" in messages[3]
    assert "bad time 'yesterday'" in messages[4]
    assert "not on this file's day" in messages[5]
    assert messages[6].startswith("incomplete last line")
    assert str(problems[0]).startswith(f"{shard}:2: warning: ")

    # The next append ends the torn line first, so only that line is lost.
    append_results(tmp_path, good[2:])
    problems = []
    assert read_results(tmp_path, problems=problems) == good
    assert [p.line for p in problems][-1] == 10 and "incomplete" not in problems[-1].message


def test_a_complete_last_line_without_newline_is_kept(tmp_path):
    append_results(tmp_path, [result()])
    shard = raw_shard_path(tmp_path, T0.date())
    shard.write_bytes(shard.read_bytes().rstrip(b"\n"))
    problems = []
    assert read_results(tmp_path, problems=problems) == [result()]
    assert problems == []


def test_duplicates_read_back_once_and_conflicts_are_reported(tmp_path):
    append_results(tmp_path, [result(), result("web")])
    append_results(tmp_path, [result(), result("web", status="down", latency=None)])
    problems = []
    back = read_results(tmp_path, problems=problems)
    assert [r.component for r in back] == ["api", "web"]
    assert len(problems) == 1 and "web" in problems[0].message and problems[0].line == 4
    # The winner does not depend on which line came first.
    shard = raw_shard_path(tmp_path, T0.date())
    lines = shard.read_bytes().splitlines(keepends=True)
    shard.write_bytes(b"".join(reversed(lines)))
    assert read_results(tmp_path) == back


def test_read_results_filters(tmp_path):
    results = [result(c, T0 + timedelta(hours=h)) for h in range(0, 48, 6) for c in ("api", "web")]
    append_results(tmp_path, results)
    got = read_results(tmp_path, since=T0 + timedelta(hours=12), until=T0 + timedelta(hours=30), components=["web"])
    assert [r.time for r in got] == [T0 + timedelta(hours=h) for h in (12, 18, 24)]


# --- git ---------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "runner",
        "GIT_AUTHOR_EMAIL": "runner@example.com",
        "GIT_COMMITTER_NAME": "runner",
        "GIT_COMMITTER_EMAIL": "runner@example.com",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)


def commit_all(repo: Path, message: str) -> None:
    assert git(repo, "add", "-A").returncode == 0
    done = git(repo, "commit", "-q", "-m", message)
    assert done.returncode == 0, done.stderr


def test_two_branches_union_merge_without_conflicts_or_loss(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    assert git(repo, "init", "-q", "-b", "main").returncode == 0
    history = repo / "history"
    base = [result(c, T0 + timedelta(minutes=m)) for m in (0, 5) for c in ("api", "web")]
    append_results(history, base)
    commit_all(repo, "base")
    assert git(repo, "branch", "runner-b").returncode == 0

    shared = [result(c, T0 + timedelta(minutes=10)) for c in ("api", "web")]  # both runners saw these
    mine = [result(c, T0 + timedelta(minutes=15), location="us") for c in ("api", "web")]
    theirs = [result(c, T0 + timedelta(minutes=m), location="eu") for m in (12, 17) for c in ("api", "web")]
    next_day = [result("api", T0 + timedelta(days=1))]
    append_results(history, shared)
    append_results(history, mine)
    commit_all(repo, "main runs")
    assert git(repo, "checkout", "-q", "runner-b").returncode == 0
    append_results(history, theirs[:2])
    append_results(history, shared)
    append_results(history, theirs[2:] + next_day)
    commit_all(repo, "runner-b runs")
    assert git(repo, "checkout", "-q", "main").returncode == 0

    merged = git(repo, "merge", "--no-edit", "runner-b")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    shard = raw_shard_path(history, T0.date())
    assert b"<<<<<<<" not in shard.read_bytes()
    assert shard.read_bytes().count(b'"t":"2025-03-01T12:10:00Z"') == 4  # union keeps both copies...
    problems = []
    back = read_results(history, problems=problems)
    assert problems == []
    everything = base + shared + mine + theirs + next_day
    assert back == sorted(everything, key=lambda r: (r.time, r.component, r.location))  # ...readers keep one


# --- the benchmark fixture generator ----------------------------------------------------------


def test_generated_history_is_deterministic_and_reads_like_real_history(tmp_path):
    make_history = load_make_history()
    start, end = datetime(2025, 1, 1, tzinfo=timezone.utc), datetime(2025, 1, 3, 6, tzinfo=timezone.utc)
    components = ["api", "web", "db"]
    count = make_history.generate(tmp_path / "a", components, start=start, end=end, seed=3)
    make_history.generate(tmp_path / "b", components, start=start, end=end, seed=3)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.jsonl"))
    assert files_a == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.jsonl"))
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a)
    assert len(files_a) == 3

    problems = []
    results = read_results(tmp_path / "a", problems=problems)
    assert problems == [] and len(results) == count
    assert 0.95 * 3 * 12 * 54 < count <= 3 * 12 * 54
    statuses = {r.status for r in results}
    assert "up" in statuses and all(start <= r.time < end + timedelta(minutes=2) for r in results)
    # Byte for byte what append_results writes for the same results.
    append_results(tmp_path / "c", results)
    for f in files_a:
        assert (tmp_path / "c" / f).read_bytes() == (tmp_path / "a" / f).read_bytes()


def test_generator_command_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "make_history.py"), str(tmp_path), "--components", "2", "--days", "0.5",
         "--end", "2025-01-02T00:00:00Z"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "for 2 components" in done.stdout
    assert raw_shard_path(tmp_path, date(2025, 1, 1)).is_file()


def test_without_orjson_the_same_bytes_are_written_and_read(tmp_path):
    results = [result(at=T0, latency=12.25, message="Zürich → 200 ✓", build=1), result("web", T0, "down", None)]
    script = (
        "import sys, pickle; sys.modules['orjson'] = None\n"
        "from generator.history import append_results, read_results\n"
        "from generator.history import codec; assert codec.orjson is None\n"
        "append_results(sys.argv[1], pickle.loads(bytes.fromhex(sys.argv[2])))\n"
        "print(len(read_results(sys.argv[1])))\n"
    )
    import pickle

    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "json"), pickle.dumps(results).hex()],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    append_results(tmp_path / "orjson", results)
    shard = raw_shard_path(Path(), T0.date())
    assert (tmp_path / "json" / shard).read_bytes() == (tmp_path / "orjson" / shard).read_bytes()


def test_a_file_full_of_garbage_gives_a_bounded_number_of_messages(tmp_path):
    shard = raw_shard_path(tmp_path, T0.date())
    shard.parent.mkdir(parents=True)
    shard.write_bytes(b"<<<<<<< HEAD\n" * 500)
    problems = []
    assert read_results(tmp_path, problems=problems) == []
    assert len(problems) == 21 and problems[-1].message == "480 more problem(s) in this file not shown"
