"""Time `history.cache.compute` (read one closed raw shard and summarise it) on N shards.

    python benchmarks/bench_shard.py benchmarks/.data/bench/site-10000/history --shards 5 [--from 2026-10-01]

This is the per-shard work of a cold build (`summarize` runs it on every core, with the cyclic
garbage collector paused, as here). Prints the best of --repeat runs per shard in ms and in
µs per line, and their median over the shards. The shards are only read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.history import cache  # noqa: E402
from generator.engine.memory import gc_paused  # noqa: E402


def shards(history_dir: Path) -> list[tuple[date, Path]]:
    found = []
    for path in sorted((history_dir / "raw").glob("*/*/*.jsonl")):
        year, month, day = path.parent.parent.name, path.parent.name, path.stem
        found.append((date(int(year), int(month), int(day)), path))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("history_dir", type=Path, help="a history dir (with raw/YYYY/MM/DD.jsonl)")
    parser.add_argument("--shards", type=int, default=5, help="how many shards (default 5)")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (default: the first shard's)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per shard; the best counts (default 5)")
    parser.add_argument("--no-latencies", action="store_true", help="as for a day older than the latency chart")
    parser.add_argument("--profile", action="store_true", help="cProfile one run of the first shard instead")
    args = parser.parse_args()

    chosen = [(day, path) for day, path in shards(args.history_dir) if args.start is None or day >= args.start]
    chosen = chosen[: args.shards]
    if not chosen:
        parser.error(f"no raw shards under {args.history_dir / 'raw'}")
    with_latencies = not args.no_latencies
    if args.profile:
        import cProfile
        import pstats

        day, path = chosen[0]
        with gc_paused():
            cProfile.runctx("cache.compute(path, day, {}, with_latencies)", globals(), locals(), "/tmp/bench_shard.prof")
        pstats.Stats("/tmp/bench_shard.prof").sort_stats("tottime").print_stats(15)
        return

    per_line = []
    per_shard = []
    for day, path in chosen:
        lines = path.read_bytes().count(b"\n")
        best = float("inf")
        with gc_paused():
            for _ in range(args.repeat):
                start = time.perf_counter()
                cache.compute(path, day, {}, with_latencies)
                best = min(best, time.perf_counter() - start)
        per_shard.append(best * 1e3)
        per_line.append(best * 1e6 / max(lines, 1))
        print(f"{path.relative_to(args.history_dir)}  {lines:7d} lines  {best * 1e3:8.1f} ms  {per_line[-1]:6.2f} µs/line")
    print(f"median of {len(chosen)} shards: {statistics.median(per_shard):.1f} ms/shard, "
          f"{statistics.median(per_line):.2f} µs/line")


if __name__ == "__main__":
    main()
