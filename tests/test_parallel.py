"""fork_map and fork_call: the same results as running here, whichever process made them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clirun import child_processes
from generator.engine.parallel import fork_map

# In a fresh process: fork_map runs everything in its caller when other threads are alive, as
# they may be in the test process (a served site, the browser driver).
_FORKED = """
import json, os
from generator.engine.parallel import fork_map
items = list(range(1003))  # not a multiple of the number of stripes
results = fork_map(lambda item: (item * 2, os.getpid()), items, minimum=2)
print(json.dumps({"values": [value for value, _ in results], "workers": len({pid for _, pid in results} - {os.getpid()})}))
"""


def test_results_come_back_in_item_order_from_forked_workers():
    import json

    done = subprocess.run([sys.executable, "-c", _FORKED], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    found = json.loads(done.stdout)
    assert found["values"] == [item * 2 for item in range(1003)]
    # How the stripes spread over the workers is up to the scheduler: on a busy machine one
    # worker may take them all. What holds is that the work left the calling process.
    assert found["workers"] >= 1 or (os.cpu_count() or 1) == 1


def test_few_items_run_here_in_order():
    here = os.getpid()
    assert fork_map(lambda item: (item, os.getpid()), [3, 1, 2], minimum=10) == [(3, here), (1, here), (2, here)]


def test_fork_call_brings_back_the_childs_result_or_what_it_raised(monkeypatch):
    from generator.engine.parallel import fork_call

    monkeypatch.setattr("threading.active_count", lambda: 1)  # pytest may run threads of its own
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    here = os.getpid()
    assert fork_call(lambda: ("done", os.getpid())).result()[1] != here

    def fails() -> None:
        raise ValueError("no such component")

    with pytest.raises(ValueError, match="no such component") as raised:
        fork_call(fails).result()
    assert any(line for _, line in raised.value.forked_frames)  # where it was raised, for crash_problems
    children = child_processes()
    with pytest.raises(RuntimeError, match="died"):
        fork_call(lambda: os._exit(3)).result()
    assert child_processes() == children  # and it was waited for
    with pytest.raises(RuntimeError, match="in a forked worker: .*pickle"):
        fork_call(lambda: (lambda: "a result that cannot travel")).result()

    class Untravelling(Exception):
        def __reduce__(self):
            raise TypeError("no")

    def fails_oddly() -> None:
        raise Untravelling("the disk is full")

    with pytest.raises(RuntimeError, match="in a forked worker: Untravelling: the disk is full"):
        fork_call(fails_oddly).result()
    assert os.getpid() == here


def test_a_fork_call_left_without_its_result_lets_the_child_end_its_work(monkeypatch, tmp_path):
    import time

    from generator.engine.parallel import fork_call

    monkeypatch.setattr("threading.active_count", lambda: 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    children = child_processes()

    def slow_write() -> None:
        time.sleep(0.3)
        (tmp_path / "written").write_text("all of it")

    with pytest.raises(KeyError), fork_call(slow_write) as running:
        assert child_processes() == children | {str(running.child)}
        raise KeyError("the caller failed")
    assert (tmp_path / "written").read_text() == "all of it"  # not cut short
    assert child_processes() == children  # and collected
    with fork_call(lambda: os.getpid()):  # more than a pipe holds, never read by the caller
        pass
    with fork_call(lambda: b"x" * 1_000_000):
        pass
    assert child_processes() == children


def test_a_fork_call_says_when_its_result_is_ready(monkeypatch, tmp_path):
    """A build works on while a child summarises the history, and stops once it is done."""
    import time

    from generator.engine.parallel import fork_call

    monkeypatch.setattr("threading.active_count", lambda: 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    go = tmp_path / "go"

    def waits_for_the_caller() -> str:
        while not go.exists():
            time.sleep(0.005)
        return "x" * 1_000_000  # more than a pipe holds: done as soon as it starts to arrive

    with fork_call(waits_for_the_caller) as waiting:
        try:
            assert not waiting.done()
        finally:
            go.touch()  # else a failure here would wait for the child for ever
        deadline = time.monotonic() + 10
        while not waiting.done():
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert waiting.result() == "x" * 1_000_000
    assert fork_call(lambda: 1, fork=False).done()  # run when asked for: nothing to wait for
    with fork_call(lambda: os._exit(3)) as dying:
        deadline = time.monotonic() + 10
        while not dying.done():  # a child that died without a word is done too
            assert time.monotonic() < deadline
            time.sleep(0.005)
        with pytest.raises(RuntimeError, match="died"):
            dying.result()


def test_a_fork_call_gives_what_it_does_first_while_the_rest_still_runs(monkeypatch, tmp_path):
    """A large site's build has a child look up the incident files first, and the build takes
    them at once while the child goes on to check build/."""
    import time

    from generator.engine.parallel import fork_call

    monkeypatch.setattr("threading.active_count", lambda: 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    go_on = tmp_path / "go on"

    def rest() -> str:
        waited = time.monotonic()
        while not go_on.exists():  # waits for the caller to have had first()'s result
            if time.monotonic() - waited > 5:
                return "gave up waiting"
            time.sleep(0.01)
        return "checked"

    with fork_call(rest, first=lambda: ["listed", os.getpid()]) as running:
        listed, pid = running.first_result()
        assert listed == "listed" and pid == running.child and not running.done()
        go_on.touch()
        assert running.first_result() == ["listed", pid]  # asked again: the same
        assert running.result() == "checked"
    go_on.unlink()
    with fork_call(lambda: "checked", first=lambda: "listed") as running:  # the result asked for alone
        time.sleep(0.2)
        assert running.done() and running.result() == "checked" and running.first_result() == "listed"

    def fails() -> None:
        raise OSError("incidents/ unreadable")

    with fork_call(lambda: "checked", first=fails) as running:
        with pytest.raises(OSError, match="unreadable"):
            running.first_result()
        assert running.result() == "checked"
    monkeypatch.setattr("os.cpu_count", lambda: 1)  # not forked: each runs when asked for
    here = fork_call(lambda: os.getpid(), first=lambda: os.getpid())
    assert here.first_result() == here.result() == os.getpid()
