"""The few figures quoted outside the page (badges, status.json, llms.txt), computed one way for all."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

UPTIME_WINDOWS = ("24h", "7d", "30d", "90d")
WINDOW_WORDS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days"}


def uptime(history: Any, window: str) -> float | None:
    """0..1, or None when there is no data (never shown as 100%)."""
    if history is None:
        return None
    return history.uptime.get(window)


def response_time_ms(history: Any, now: datetime) -> float | None:
    """The median of the last 24 hours' hourly medians: steadier than one check, still current.

    Falls back to the latest result's latency; a failed check's latency is usually its timeout,
    so it never counts.
    """
    if history is None:
        return None
    since = now - timedelta(hours=24)
    recent = [ms for hour, ms in history.latency_series if hour >= since and ms is not None]
    if recent:
        return round(statistics.median(recent), 1)
    latest = history.latest
    if latest is not None and latest.latency_ms is not None and latest.status != "down":
        return round(latest.latency_ms, 1)
    return None


def percent_text(value: float | None) -> str:
    """"99.98%", "100%"; never rounds a shortfall up to 100%."""
    if value is None:
        return "no data"
    if value >= 1:
        return "100%"
    text = f"{value * 100:.2f}"
    if text == "100.00":
        text = "99.99"
    return text + "%"


def milliseconds_text(value: float | None) -> str:
    if value is None:
        return "no data"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{round(value)} ms"
