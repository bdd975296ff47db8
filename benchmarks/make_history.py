"""Deterministic, plausible check history for benchmarks and tests.

    python benchmarks/make_history.py OUT --components 20 --days 30 [--interval 300] [--seed 0]
                                          [--location ci] [--end 2025-03-01T00:00:00Z]

writes OUT/raw/YYYY/MM/DD.jsonl exactly as `heliograph check` would (same line format), for
components comp-01..comp-NN. Results are mostly up, with latency noise and spikes, occasional
degraded and down streaks, and now and then a run that did not happen (CI skipped it). The
same arguments always give byte-identical files; --end defaults to now (rounded down to the
interval) so that a fixture looks live, so pass it for identical output across days.

Importable: `generate(history_dir, component_ids, start=..., end=...)`.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.history.codec import dumps  # noqa: E402
from generator.history.store import ensure_gitattributes, raw_shard_path  # noqa: E402

RUN_SKIPPED = 0.01  # share of scheduled runs that never happened
DEGRADED_START = 0.003  # chance per check that a slow streak starts
DOWN_START = 0.0007  # chance per check that an outage starts
SPIKE = 0.01  # chance of a single slow response while up


class _Component:
    """One component's state machine: its own random stream, so adding one changes no other."""

    def __init__(self, component: str, seed: int, location: str):
        self.random = random.Random(f"{seed}:{component}")
        self.base_ms = self.random.uniform(40.0, 400.0)
        self.state = "up"
        self.left = 0  # checks left in the current streak
        self.outage_kind = "timeout"
        self.prefix = b'{"v":1,"c":' + dumps(component) + b',"t":"'
        self.location = dumps(location)

    def line(self, time_text: str) -> bytes:
        rng = self.random
        if self.left == 0:
            self.state = "up"
            roll = rng.random()
            if roll < DOWN_START:
                self.state, self.left = "down", rng.randint(1, 18)
                self.outage_kind = rng.choice(("timeout", "status_503", "connect_refused"))
            elif roll < DOWN_START + DEGRADED_START:
                self.state, self.left = "degraded", rng.randint(1, 12)
        if self.left:
            self.left -= 1
        noise = math.exp(rng.gauss(0.0, 0.25))
        if self.state == "up":
            latency = self.base_ms * noise * (rng.uniform(3, 8) if rng.random() < SPIKE else 1.0)
            reason, message = "ok", "HTTP 200"
        elif self.state == "degraded":
            latency = self.base_ms * noise * rng.uniform(4, 10)
            reason, message = "slow", "HTTP 200, slow"
        elif self.outage_kind == "timeout":
            latency, reason, message = None, "timeout", "no answer within 10 s"
        elif self.outage_kind == "status_503":
            latency, reason, message = self.base_ms * noise * 0.5, "status_503", "HTTP 503"
        else:
            latency, reason, message = None, "connect_refused", "connection refused"
        text = b'","s":"' + self.state.encode() + b'","r":"' + reason.encode()
        text += b'","loc":' + self.location + b',"m":"' + message.encode() + b'"'
        if latency is not None:
            latency = round(latency, 1)
            text += b',"ms":' + (str(int(latency)) if latency.is_integer() else repr(latency)).encode()
        return self.prefix + time_text.encode() + text + b"}\n"


def _time_text(seconds: float) -> tuple[int, str]:
    """Whole seconds, and the time as CheckResult.to_json writes it after history's trimming
    to milliseconds (trailing zeros dropped)."""
    millis_total = int(seconds * 1000)
    whole, millis = divmod(millis_total, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return whole, text + (f".{millis:03d}".rstrip("0") if millis else "") + "Z"


def generate(
    history_dir: Path,
    component_ids: list[str],
    *,
    start: datetime,
    end: datetime,
    interval_s: int = 300,
    seed: int = 0,
    location: str = "ci",
) -> int:
    """Append one run every `interval_s` from `start` (inclusive) to `end` (exclusive); returns
    the number of results written. Runs start a little late, as scheduled CI jobs do, and
    components are checked a fraction of a second apart."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    history_dir = Path(history_dir)
    ensure_gitattributes(history_dir)
    runs = random.Random(f"{seed}:runs")
    components = [_Component(component, seed, location) for component in component_ids]
    lines_by_day: dict = {}
    count = 0
    slot = start.timestamp()
    stop = end.timestamp()
    while slot < stop:
        delay = runs.uniform(2.0, 60.0)
        skipped = runs.random() < RUN_SKIPPED
        if not skipped:
            for index, component in enumerate(components):
                whole, text = _time_text(slot + delay + index * 0.15 + runs.uniform(0.0, 0.1))
                day = datetime.fromtimestamp(whole, timezone.utc).date()
                lines_by_day.setdefault(day, []).append(component.line(text))
                count += 1
        slot += interval_s
        # Flush finished days so memory stays flat for long ranges.
        if len(lines_by_day) > 1:
            for day in sorted(lines_by_day)[:-1]:
                _append(history_dir, day, lines_by_day.pop(day))
    for day in sorted(lines_by_day):
        _append(history_dir, day, lines_by_day.pop(day))
    return count


def _append(history_dir: Path, day, lines: list[bytes]) -> None:
    path = raw_shard_path(history_dir, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as out:
        out.write(b"".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="history directory to write into")
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--interval", type=int, default=300, help="seconds between runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--location", default="ci")
    parser.add_argument("--end", help="UTC end, ISO 8601 (default: now, rounded down to the interval)")
    args = parser.parse_args(argv)
    if args.end:
        end = datetime.fromisoformat(args.end)
        end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
    else:
        now = time.time()
        end = datetime.fromtimestamp(now - now % args.interval, timezone.utc)
    start = end - timedelta(days=args.days)
    components = [f"comp-{n:02d}" for n in range(1, args.components + 1)]
    began = time.perf_counter()
    count = generate(args.out, components, start=start, end=end, interval_s=args.interval, seed=args.seed, location=args.location)
    took = time.perf_counter() - began
    print(f"{count} results for {len(components)} components, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC, in {took:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
