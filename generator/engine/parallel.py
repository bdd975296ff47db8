"""One function over many items, on every core, for the cold build of a large site."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any, Callable, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_work: tuple | None = None  # (function, items): forked workers inherit it, so neither is pickled
# HELIOGRAPH_PARALLEL=serial runs everything in this process, as on platforms without os.fork
# (Windows): to compare the two ways, or to debug a build in one process.
PARALLEL_ENV = "HELIOGRAPH_PARALLEL"


def can_fork() -> bool:
    """Forking is safe only from a single-threaded process: `heliograph serve` builds on a watcher thread.
    A worker's own parent watcher (see die_with_parent) holds no lock and is not counted."""
    threads = threading.active_count()
    if threads > 1:
        threads -= sum(thread.name == _PARENT_WATCHER for thread in threading.enumerate())
    if os.environ.get(PARALLEL_ENV, "").strip().lower() == "serial":
        return False
    return threads == 1 and hasattr(os, "fork") and (os.cpu_count() or 1) > 1


_PARENT_WATCHER = "heliograph-parent-watcher"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_PARENT_POLL_SECONDS = 0.2


def die_with_parent(parent: int) -> None:
    """Make this forked worker end as soon as `parent`, the process that forked it, ends.

    A build killed outright (SIGKILL, an out-of-memory kill, a cancelled CI job) runs no
    clean-up of its own, and its workers would otherwise live on: rendering and writing into
    build/ after it, then waiting for ever on a parent that is gone. On Linux the kernel kills
    the worker (prctl PR_SET_PDEATHSIG), at no cost while the parent lives; elsewhere (macOS,
    the BSDs) a thread notices that the worker was handed to another parent. Either way a
    worker's own workers then see their parent end, and follow it.
    """
    import signal

    if not _kill_me_with_parent(signal.SIGKILL):
        threading.Thread(target=_exit_when_orphaned, args=(parent,), name=_PARENT_WATCHER, daemon=True).start()
    if os.getppid() != parent:  # it ended before this worker was told to follow it
        os._exit(1)


def _kill_me_with_parent(signal_number: int) -> bool:
    """Ask the kernel for `signal_number` when the parent ends; whether it took the request (Linux only)."""
    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_PDEATHSIG, signal_number, 0, 0, 0) == 0


@lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """The C library's prctl, on Linux. Looked up by a parent about to fork a pool, so that its
    workers do not each import ctypes as they start (a late worker was left with no work)."""
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # no C library to ask (a static or unusual build of Python)
        return None


def _exit_when_orphaned(parent: int) -> None:
    """Wait for `parent` to end (this process is then re-parented), then end this process at once."""
    import time

    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


def fork_map(function: Callable[[Item], Result], items: Sequence[Item], *, minimum: int) -> list[Result]:
    """[function(item) for item in items], spread over forked workers when there are `minimum` or more.

    Workers are forked, so `function` may be a closure over anything (a Jinja environment, the
    site); only results travel back. Where forking is not safe (see can_fork), everything runs
    here, in order.
    """
    items = list(items)
    workers = min(os.cpu_count() or 1, 8, len(items))
    if workers < 2 or len(items) < minimum or not can_fork():
        return [function(item) for item in items]
    # Imported only to fork: 7.5 ms of every rebuild's start-up, and a rebuild never forks
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    global _work
    _work = (function, items)
    _prctl()  # for die_with_parent in every worker
    try:
        # Chunk k takes items k, k + n, k + 2n...: work listed in runs of one kind (a build's
        # 10,000 incident pages, then its 100 heavier component pages) is spread evenly, where
        # runs of consecutive items left one worker with the heavy tail and the other idle.
        count = min(workers * 4, len(items))
        results: list = [None] * len(items)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            for first, part in enumerate(pool.map(_run_chunk, [(first, count) for first in range(count)])):
                results[first::count] = part
        return results
    finally:
        _work = None


def _run_chunk(stripe: tuple[int, int]) -> list:
    function, items = _work
    try:
        return [function(item) for item in items[stripe[0]::stripe[1]]]
    except BaseException as exc:
        _note_frames(exc)
        raise


class fork_call:  # noqa: N801 (used like a function: `with fork_call(render) as rendering:`)
    """function() started in a forked child while the caller goes on; `result()` waits for what
    it returned, or raises what it raised. Where forking is not safe (see can_fork), function()
    runs when its result is asked for. As with fork_map, `function` may close over anything.

    With `first`, the child calls first() before function(), and sends what it returned at
    once: `first_result()` gives it while function() still runs.

    Used as a context manager, leaving the block without asking for the result (the caller
    failed) still waits for the child to end, its result unused. It is not cut short: it may be
    writing a file, or have forked workers of its own, which would be left behind."""

    def __init__(self, function: Callable[[], Result], *, fork: bool = True, first: Callable[[], Any] | None = None):
        self.function, self.first = function, first
        self.child: int | None = None
        self._first_outcome: tuple | None = None  # first()'s, once read
        if fork and can_fork():
            self._start()

    def _start(self) -> None:
        read_end, write_end = os.pipe()
        parent = os.getpid()
        child = os.fork()
        if child == 0:  # run, send the outcome, and leave without running anything of the parent's
            status = 1
            try:
                die_with_parent(parent)
                os.close(read_end)
                with os.fdopen(write_end, "wb") as pipe:
                    if self.first is not None:
                        _send(pipe, _outcome(self.first))
                        pipe.flush()
                    _send(pipe, _outcome(self.function))
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self.child, self.pipe = child, os.fdopen(read_end, "rb")

    def first_result(self) -> Any:
        """What first() returned (or raise what it raised)."""
        if self.child is None and self._first_outcome is None:
            return self.first()
        if self._first_outcome is None:
            self._first_outcome = self._receive()
        return _given(self._first_outcome)

    def result(self) -> Result:
        if self.child is None:
            return self.function()
        try:
            if self.first is not None and self._first_outcome is None:
                self._first_outcome = self._receive()
            outcome = self._receive()
        finally:
            self._collect()
        return _given(outcome)

    def done(self) -> bool:
        """Whether result() would give at once: the child has sent what it has to send (or died)."""
        if self.child is None:
            return True
        import select

        if self.first is not None and self._first_outcome is None:
            if not select.select([self.pipe], [], [], 0)[0]:
                return False
            self._first_outcome = self._receive()
        return bool(select.select([self.pipe], [], [], 0)[0])

    def _receive(self) -> tuple:
        """The child's next outcome, ("done", value) or ("raised", exception), waiting for it."""
        import pickle

        from generator.engine.memory import gc_paused

        head = self.pipe.read(8)
        data = self.pipe.read(int.from_bytes(head, "little")) if len(head) == 8 else b""
        if not data:
            raise RuntimeError("a forked worker died before it was done")
        with gc_paused(freeze=True):  # as a cache read: what a child made lasts the whole build
            return pickle.loads(data)

    def __enter__(self) -> fork_call:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.child is not None:  # the result was never asked for
            self._collect()

    def _collect(self) -> None:
        """Wait for the child to end, having read what it still sends: a child with more to send
        than a pipe holds would otherwise wait for ever."""
        with self.pipe:
            self.pipe.read()
        os.waitpid(self.child, 0)
        self.child = None


def _outcome(function: Callable[[], Any]) -> tuple:
    try:
        return ("done", function())
    except BaseException as exc:
        _note_frames(exc)
        return ("raised", exc)


def _send(pipe: Any, outcome: tuple) -> None:
    """`outcome` pickled, after its length."""
    import pickle

    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # what cannot travel (an exception, or a result) is told in words
        untold = outcome[1] if outcome[0] == "raised" else exc
        data = pickle.dumps(("raised", RuntimeError(f"in a forked worker: {type(untold).__name__}: {untold}")))
    pipe.write(len(data).to_bytes(8, "little"))
    pipe.write(data)


def _given(outcome: tuple) -> Any:
    kind, value = outcome
    if kind == "raised":
        raise value
    return value


def _note_frames(exc: BaseException) -> None:
    """Keep where `exc` was raised (file, line) with it: its traceback stays behind in the
    worker, and a mistake in a site's template is reported by its line (render.crash_problems)."""
    import traceback

    if getattr(exc, "forked_frames", None) is None:
        try:
            exc.forked_frames = [(frame.filename, frame.lineno) for frame in traceback.extract_tb(exc.__traceback__)]
        except AttributeError:  # an exception type that takes no attributes
            pass
