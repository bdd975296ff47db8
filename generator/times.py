"""Times as people write them in incidents and on the command line: always with a zone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
