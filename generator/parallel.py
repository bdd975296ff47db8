"""One function over many items, on every core, for the cold build of a large site."""

from __future__ import annotations

import os
import threading
from typing import Callable, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_work: tuple | None = None  # (function, items): forked workers inherit it, so neither is pickled


def fork_map(function: Callable[[Item], Result], items: Sequence[Item], *, minimum: int) -> list[Result]:
    """[function(item) for item in items], spread over forked workers when there are `minimum` or more.

    Workers are forked, so `function` may be a closure over anything (a Jinja environment, the
    site); only results travel back. Forking is only safe from a single-threaded process:
    `heliograph serve` builds on a watcher thread, and then everything runs here, in order.
    """
    items = list(items)
    workers = min(os.cpu_count() or 1, 8, len(items))
    if workers < 2 or len(items) < minimum or threading.active_count() != 1:
        return [function(item) for item in items]
    # Imported only to fork: 7.5 ms of every rebuild's start-up, and a rebuild never forks
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    global _work
    _work = (function, items)
    try:
        # Chunk k takes items k, k + n, k + 2n...: work listed in runs of one kind (a build's
        # 10,000 incident pages, then its 100 heavier component pages) is spread evenly, where
        # runs of consecutive items left one worker with the heavy tail and the other idle.
        count = min(workers * 4, len(items))
        results: list = [None] * len(items)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for first, part in enumerate(pool.map(_run_chunk, [(first, count) for first in range(count)])):
                results[first::count] = part
        return results
    finally:
        _work = None


def _run_chunk(stripe: tuple[int, int]) -> list:
    function, items = _work
    return [function(item) for item in items[stripe[0]::stripe[1]]]
