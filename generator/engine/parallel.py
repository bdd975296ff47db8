"""One function over many items, on every core, for the cold build of a large site.

The build's one concurrency strategy: `spread(function, items, work)` runs in forked workers
when forking is safe here (`can_fork`) and there are at least as many items as `THRESHOLDS`
names for that kind of work; else in this process, in order. The thresholds live here and
nowhere else; tests change them with `tuned(...)`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Iterator, Sequence, TypeVar

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
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # no C library to ask (a static or unusual build of Python)
        return None


def _exit_when_orphaned(parent: int) -> None:
    """Wait for `parent` to end (this process is then re-parented), then end this process at once."""
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


@dataclass(frozen=True)
class Thresholds:
    """From how many items each kind of work is spread over processes: below, starting them
    costs more than it saves (docs/performance.md has the measurements)."""

    incident_files: int = 400  # incident files to parse (a cold build)
    render_jobs: int = 200  # pages to render (a cold build, or a new incident's history pages)
    writes: int = 200  # files to compare and write into build/
    digests: int = 16  # files to read and digest, to know them after a fresh clone
    history_shards: int = 8  # closed days of raw results to summarise
    history_components: int = 40  # components whose closed days to summarise


THRESHOLDS = Thresholds()


@contextmanager
def tuned(**thresholds: int) -> Iterator[Thresholds]:
    """Other thresholds while the block runs: `with tuned(render_jobs=1):` spreads every render."""
    global THRESHOLDS
    before = THRESHOLDS
    THRESHOLDS = replace(before, **thresholds)
    try:
        yield THRESHOLDS
    finally:
        THRESHOLDS = before


def spread(function: Callable[[Item], Result], items: Sequence[Item], work: str) -> list[Result]:
    """[function(item) for item in items], over forked workers when there are at least
    THRESHOLDS.<work> of them (see fork_map)."""
    return fork_map(function, items, minimum=getattr(THRESHOLDS, work))


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
    # Imported here: 13 ms of every rebuild, which has too little work to spread.
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


def _note_frames(exc: BaseException) -> None:
    """Keep where `exc` was raised (file, line) with it: its traceback stays behind in the
    worker, and a mistake in a site's template is reported by its line (render.crash_problems)."""
    if getattr(exc, "forked_frames", None) is None:
        try:
            exc.forked_frames = [(frame.filename, frame.lineno) for frame in traceback.extract_tb(exc.__traceback__)]
        except AttributeError:  # an exception type that takes no attributes
            pass
