"""The outcome of one check, as recorded in history and shown on the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

SCHEMA_VERSION = 1

UP, DEGRADED, DOWN = "up", "degraded", "down"
STATUSES = (UP, DEGRADED, DOWN)


@dataclass(frozen=True)
class CheckResult:
    """One check of one component from one location: a line of history/raw/ once written."""

    component: str
    time: datetime  # UTC, tz-aware: when the check started
    status: str  # "up" | "degraded" | "down"
    reason: str  # short and machine-readable: "ok", "timeout", "status_503", ...
    message: str  # short, for humans; secrets already redacted
    latency_ms: float | None
    location: str
    details: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable; secrets redacted

    def to_json(self) -> dict[str, Any]:
        """A compact, stable dict for history files; empty fields are left out."""
        data: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "c": self.component,
            "t": format_time(self.time),
            "s": self.status,
            "r": self.reason,
            "loc": self.location,
        }
        if self.message:
            data["m"] = self.message
        if self.latency_ms is not None:
            data["ms"] = self.latency_ms
        if self.details:
            data["d"] = self.details
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        version = data.get("v")
        if version != SCHEMA_VERSION:
            raise ValueError(f"unsupported check result version {version!r} (this Heliograph reads v{SCHEMA_VERSION})")
        status = data["s"]
        if status not in STATUSES:
            raise ValueError(f"unknown check status {status!r}")
        latency = data.get("ms")
        return cls(
            component=data["c"],
            time=parse_time(data["t"]),
            status=status,
            reason=data["r"],
            message=data.get("m", ""),
            latency_ms=None if latency is None else float(latency),
            location=data.get("loc", ""),
            details=dict(data.get("d") or {}),
        )


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a 'Z'; sub-second digits only as many as needed, so it round-trips exactly."""
    if moment.tzinfo is None:
        raise ValueError("check result times must be timezone-aware")
    moment = moment.astimezone(timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def to_the_millisecond(moment: datetime) -> datetime:
    """`moment` cut to the millisecond: as much of a result's time as the history keeps."""
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class Outcome:
    """What a probe found, before the runner adds component, time, location and redaction."""

    status: str
    reason: str
    message: str
    latency_ms: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def ok(message: str = "ok", **details: Any) -> Outcome:
    return Outcome(UP, "ok", message, details=details)


def down(reason: str, message: str, **details: Any) -> Outcome:
    return Outcome(DOWN, reason, message, details=details)


def clip(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters for a message, with an ellipsis where it was cut: a reader
    sees that there is more, and secrets.Redactor finds a secret's start cut short there."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
