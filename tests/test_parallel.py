"""fork_map and spread: the same results as running here, whichever process made them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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


def test_thresholds_are_tuned_in_one_place_and_spread_follows_them(monkeypatch):
    from generator.engine import parallel

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("threading.active_count", lambda: 1)  # pytest may run threads of its own
    here = os.getpid()
    work = list(range(10))
    assert {pid for pid in parallel.spread(lambda item: os.getpid(), work, "render_jobs")} == {here}  # 10 < 200
    with parallel.tuned(render_jobs=2) as thresholds:
        assert thresholds.render_jobs == 2 and parallel.THRESHOLDS.writes == 200
        assert parallel.spread(lambda item: (item, os.getpid()), work, "render_jobs") != [(item, here) for item in work]
    assert parallel.THRESHOLDS.render_jobs == 200  # as it was
    monkeypatch.setenv(parallel.PARALLEL_ENV, "serial")
    with parallel.tuned(render_jobs=1):
        assert parallel.spread(lambda item: (item, os.getpid()), work, "render_jobs") == [(item, here) for item in work]
