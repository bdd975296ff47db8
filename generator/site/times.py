"""Times as people write them in incidents and on the command line: always with a zone."""

from __future__ import annotations

import os
import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CLOCK_VARIABLE = "HELIOGRAPH_NOW"

_ZONE_SUFFIX = re.compile(r"^(?P<base>\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?P<zone>.*)$")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time, or `YYYY-MM-DD HH:MM[:SS] ZONE` (UTC, Z, +02:00, Europe/Berlin), as UTC.

    A time without a zone is refused: on a status page, an hour off is a wrong statement.
    """
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else None
    if isinstance(value, date) or not isinstance(value, str):
        return None
    text = value.strip()
    match = _ZONE_SUFFIX.match(text)
    if not match:
        return None
    base, zone = match.group("base").replace(" ", "T"), match.group("zone").strip()
    try:
        naive = datetime.fromisoformat(base)
    except ValueError:
        return None
    if zone in ("Z", "z", "UTC", "GMT", "utc"):
        return naive.replace(tzinfo=timezone.utc)
    offset = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", zone)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return (naive.replace(tzinfo=timezone(sign * delta))).astimezone(timezone.utc)
    if zone:
        try:
            return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return None


# When this process first read each HELIOGRAPH_NOW value, by time.monotonic(): its clock's start.
_clock_started: dict[str, float] = {}


class BadClock(ValueError):
    """HELIOGRAPH_NOW is set to something that is not a time with a zone."""


def clock_now() -> datetime:
    """Now, in UTC: the real clock, or, when HELIOGRAPH_NOW is set (an ISO time with a zone), a
    clock that shows that time the first time this process asks and runs on from there.

    The one place commands read the time when `--now` is not given, so that tests and replays
    can run whole days of `check`, `compact` and `build` in fresh processes. The clock runs on,
    rather than standing still, so that the rounds of `check --repeat` stay distinct results.
    """
    text = os.environ.get(CLOCK_VARIABLE, "").strip()
    if not text:
        return datetime.now(timezone.utc)
    start = parse_time(text)
    if start is None:
        raise BadClock(f"{text!r} is not a time with a zone, e.g. 2026-11-20T14:00:00Z")
    started = _clock_started.setdefault(text, time.monotonic())
    return start + timedelta(seconds=time.monotonic() - started)
