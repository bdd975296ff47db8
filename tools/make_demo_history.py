"""Regenerate the demo site's shipped history/ (deterministic).

    python tools/make_demo_history.py

Four weeks of 10-minute runs for the demo's checked components, ending just before the demo's
reference time, with the 2026-11-18 API incident visible in the API's and dashboard's results.
Days older than two weeks are compacted into daily aggregates, so the demo shows both formats
and stays small in git.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generator import history  # noqa: E402
import make_history  # noqa: E402
from make_history import generate  # noqa: E402

# A believable month for a healthy service: a few short slow spells, one brief outage, and the
# incident the demo's incidents/ describe (the benchmark defaults are far stormier).
make_history.DOWN_START = 0.0002
make_history.DEGRADED_START = 0.0008

END = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
START = END - timedelta(days=28)
COMPONENTS = ["api", "dashboard", "cards", "docs", "dns"]
INCIDENT = (datetime(2026, 11, 18, 14, 1, tzinfo=timezone.utc), datetime(2026, 11, 18, 14, 50, tzinfo=timezone.utc))


def during_incident(line: dict) -> bool:
    when = datetime.fromisoformat(line["t"].replace("Z", "+00:00"))
    return INCIDENT[0] <= when <= INCIDENT[1]


def replay_incident(history_dir: Path) -> None:
    """The API failed a third of its checks with 503s and the dashboard slowed, as the incident says."""
    shard = history.raw_shard_path(history_dir, INCIDENT[0].date())
    lines = [json.loads(text) for text in shard.read_text().splitlines()]
    for index, line in enumerate(lines):
        if not during_incident(line):
            continue
        if line["c"] == "api" and index % 3 == 0:
            line.update(s="down", r="status_503", m="HTTP 503 Service Unavailable (expected 200)", ms=41.0)
            line.pop("d", None)
        elif line["c"] == "dashboard":
            line.update(s="degraded", r="slow", m="HTTP 200 in 2.4 s (degraded after 1.5 s)", ms=2412.0)
    shard.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))


def main() -> None:
    target = ROOT / "history"
    shutil.rmtree(target, ignore_errors=True)
    count = generate(target, COMPONENTS, start=START, end=END - timedelta(minutes=5), interval_s=600, seed=7,
                     location="github-actions")
    replay_incident(target)
    report = history.compact(target, raw_days=14, now=END)
    print(f"{count} results written to {target.relative_to(ROOT)}/; {report}")


if __name__ == "__main__":
    main()
