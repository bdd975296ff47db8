"""fork_map: the same results as a loop, in the same order, whichever worker made them."""

from __future__ import annotations

import os

from generator.parallel import fork_map


def test_results_come_back_in_item_order_from_more_than_one_worker():
    items = list(range(1003))  # not a multiple of the number of stripes
    results = fork_map(lambda item: (item * 2, os.getpid()), items, minimum=2)
    assert [value for value, _ in results] == [item * 2 for item in items]
    workers = {pid for _, pid in results} - {os.getpid()}
    assert len(workers) == min(os.cpu_count() or 1, 8) or (os.cpu_count() or 1) == 1


def test_few_items_or_one_core_run_here_in_order():
    assert fork_map(lambda item: (item, os.getpid()), [3, 1, 2], minimum=10) == [(3, os.getpid()), (1, os.getpid()),
                                                                              (2, os.getpid())]
