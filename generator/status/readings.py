"""The few figures quoted outside the page (badges, status.json, llms.txt), computed one way for all."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

UPTIME_WINDOWS = ("24h", "7d", "30d", "90d")
WINDOW_WORDS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days"}
# What each published figure is, in the words README, OpenAPI and the page use.
WINDOW_DEFINITIONS = {
    "24h": "the 24 hours before the build (rolling)",
    "7d": "today (UTC) so far and the 6 UTC days before it, as the daily bars",
    "30d": "today (UTC) so far and the 29 UTC days before it, as the daily bars",
    "90d": "today (UTC) so far and the 89 UTC days before it, as the daily bars",
}
UPTIME_DEFINITION = ("Share of checks that were up or degraded (display.uptime_mode: results) or of time not down "
                     "(duration), outside maintenance windows, 0..1 rounded down to 6 decimals so that an outage "
                     "never reads as 1; null means no data, never 100%.")
RESPONSE_TIME_DEFINITION = ("The median latency (the lower middle one of an even count) of the up and degraded "
                            "results of the 24 hours before the build, outside maintenance; with none, the latest "
                            "result's latency unless it was down; null when there is neither, and "
                            "whenever the component is stale (no result within three check intervals).")
CADENCE_DEFINITION = ("How steadily results came in the 24 hours before the build, from any location: "
                      "results counts them; median_gap_s is the middle gap between consecutive results (the lower "
                      "one of an even count) and worst_gap_s the longest, counting the stretch from the last "
                      "result to the build; null with fewer than two results; locations names the locations "
                      "whose results are counted. interval_s is the configured "
                      "interval. coverage is the share (0..1, rounded down) of those 24 hours held by results: "
                      "each holds until its location's next, at most three intervals, maintenance left out; "
                      "several locations give the mean of theirs.")
LATENESS_DEFINITION = ("How late the scheduled check runs of the 24 hours before the build started: each run's "
                       "start less the schedule tick it belongs to (history/runs.jsonl; runs by hand or by "
                       "dispatch have no tick and are not counted); median_s is the lower middle one, worst_s "
                       "the largest; null when no scheduled run is recorded.")
LATENCY_PERCENTILE_NOTE = ("approximate: read from a histogram of 2%-wide latency buckets, within 1% of the exact "
                           "percentile and never outside the day's lowest and highest latency")


def uptime(history: Any, window: str) -> float | None:
    """0..1, or None when there is no data (never shown as 100%)."""
    if history is None:
        return None
    return history.uptime.get(window)


def response_time_ms(history: Any, now: datetime, *, stale: bool) -> float | None:
    """The median latency of the up and degraded results of the last 24 hours (`rollup`
    works it out from the raw results); with none, the latest result's latency, unless it
    failed: a failed check's latency is usually its timeout. None once the component is stale
    (`ComponentState.stale`): an old latency would read as today's."""
    if history is None or stale:
        return None
    median = getattr(history, "response_time_ms", None)
    if median is not None:
        return median
    latest = history.latest
    if latest is not None and latest.latency_ms is not None and latest.status != "down":
        return round(latest.latency_ms, 1)
    return None


def floor_units(ratio: float, units: int) -> int:
    """How many whole 1/`units` the ratio 0..1 holds, rounded down, so that no published figure
    rounds an outage up: a value below 1 never reaches `units`. Only float noise (a billionth)
    is added back first, so that 0.29 reads 29.00%, not 28.99%."""
    whole = max(0, math.floor(ratio * units + units * 1e-9))
    return min(whole, units - 1) if ratio < 1 else whole


def percent_figure(ratio: float, digits: int) -> str:
    """The ratio as a percentage with `digits` decimals, rounded down (`floor_units`): "99.98"."""
    scale = 10**digits
    whole = floor_units(ratio, 100 * scale)
    return f"{whole // scale}.{whole % scale:0{digits}d}" if digits else str(whole)


def fraction_figure(ratio: float | None, units: int = 1_000_000) -> float | None:
    """The ratio in whole 1/`units`, rounded down (`floor_units`): by default to 6 decimals, what
    api/status.json publishes."""
    return None if ratio is None else floor_units(ratio, units) / units


def percent_text(value: float | None) -> str:
    """"99.98%", "100%"; rounded down, so a shortfall never reads as 100%."""
    if value is None:
        return "no data"
    if value >= 1:
        return "100%"
    return percent_figure(value, 2) + "%"


def milliseconds_text(value: float | None) -> str:
    if value is None:
        return "no data"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{round(value)} ms"
