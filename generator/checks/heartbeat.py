"""Heartbeats: jobs that cannot be probed (backups, cron jobs, queue workers) report instead.

A beat is a result with reason `heartbeat`, written by `heliograph beat` (directly, or by
check.yml from a `repository_dispatch` event). `heliograph check` does not probe a heartbeat
component; it asks `missed_beat` whether the last beat is overdue and records the answer.

What is recorded, so that uptime comes out right in both uptime modes:
- a beat is the component's result: up (or down, when the job said it failed);
- while a beat is fresh (at most `every + grace` old), a check records nothing: the beat holds;
- once overdue, a check records one down result, `heartbeat_missed`, and then one more per
  `every` for as long as no beat comes. Each `every` without a beat is thus one down result,
  as each beat is one up result, whichever mode counts them; in `duration` mode the missed
  result holds from when the beat became overdue until the next beat.
- a miss is dated when its period began (the beat became overdue, or `every` later for each
  further period), not when a check noticed it: every runner, whenever in the period it checks,
  writes the same line, so a second location's check (which may not have pulled the first's
  miss yet) adds nothing a reader counts twice. A period that began before today (UTC) is dated
  at today's start instead, so that a miss never lands in a closed day's shard.
- a beat that reaches the history after a miss recorded later than it (a dispatched beat waits
  for its run; a check elsewhere had not seen it yet) would leave the miss as the newest result
  while the beat holds: the next check records the beat's status once more, as `heartbeat_late`;
- a component that has never beaten records nothing (no data, and the page calls it stale)
  until its first beat: a job set up today is not down for not having run yet.

Pure functions only; reading the history and sending events is generator.ops.heartbeat's.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, NamedTuple

from generator.checks.result import DOWN, UP, CheckResult, format_time, parse_time, to_the_millisecond
from generator.checks.spec import HeartbeatCheck
from generator.site.problems import did_you_mean

BEAT = "heartbeat"  # the reason of a beat
MISSED = "heartbeat_missed"  # the reason of a down result for a beat that did not come
LATE = "heartbeat_late"  # the beat's status again, after a miss recorded without knowing of the beat
# Beats and missed beats are one observer, whichever runner recorded them: two matrix jobs
# recording the same dispatched beat write the same line, which readers count once.
LOCATION = "heartbeat"
BEAT_STATUSES = (UP, DOWN)
MAX_MESSAGE = 200  # characters of a beat's message kept; it is shown on the page, not a log


class LastBeats(NamedTuple):
    """What the history says of one heartbeat component."""

    beat: datetime | None  # the newest beat's time, known from the beat or carried by a missed result
    missed: datetime | None  # the newest heartbeat_missed result's time
    beat_status: str = UP  # the newest beat's
    missed_knew: datetime | None = None  # the last beat the newest missed result knew of
    late: datetime | None = None  # the newest heartbeat_late result's time


def last_beats(component: str, results: Iterable[CheckResult]) -> LastBeats:
    beat = missed = late = None
    beat_status = UP
    carried = None
    for result in results:
        if result.component != component:
            continue
        if result.reason == BEAT and (beat is None or result.time > beat):
            beat, beat_status = result.time, result.status
        elif result.reason == MISSED and (missed is None or result.time > missed):
            missed = result.time
            carried = result.details.get("last_beat")
        elif result.reason == LATE and (late is None or result.time > late):
            late = result.time
    knew = None
    if isinstance(carried, str):
        try:
            knew = parse_time(carried)
        except ValueError:
            knew = None
    # Without a beat in what was read (older, or compacted), the missed result says when it was.
    return LastBeats(beat or knew, missed, beat_status, knew, late)


def lookback(spec: HeartbeatCheck) -> timedelta:
    """How far back to read results to find the last beat or missed beat: two periods, at least
    two days, so a nightly job's beat is found; older beats are carried by the missed results."""
    return timedelta(seconds=max(2 * spec.overdue_after + spec.every, 2 * 86400))


def missed_beat(component: str, spec: HeartbeatCheck, last: LastBeats, now: datetime) -> CheckResult | None:
    """The result to record at `now`: heartbeat_missed once a period while the beat is overdue,
    heartbeat_late to correct a miss recorded without knowing of a beat that holds, or None
    (a fresh beat holds, this period's miss is recorded already, or there never was a beat)."""
    if last.beat is None:
        return None
    overdue_since = last.beat + timedelta(seconds=spec.overdue_after)
    if now <= overdue_since:
        return _late_beat(component, last, now)
    missed_at = _period_start(overdue_since, spec.every, now)
    if last.missed is not None and last.missed >= missed_at:
        return None  # this period's miss is recorded already, by this runner or another
    message = (f"no heartbeat since {describe_time(last.beat)}: expected every {describe_duration(spec.every)}"
               + (f" (grace {describe_duration(spec.grace)})" if spec.grace else ""))
    return CheckResult(component=component, time=missed_at, status=DOWN, reason=MISSED, message=message,
                       latency_ms=None, location=LOCATION,
                       details={"last_beat": format_time(last.beat), "every": spec.every, "grace": spec.grace})


def _period_start(overdue_since: datetime, every: float, now: datetime) -> datetime:
    """When the period without a beat that `now` is in began: `overdue_since`, or a whole number
    of `every` after it; but never before today (UTC) began (see the module's docstring)."""
    period = timedelta(seconds=every)
    began = overdue_since + (now - overdue_since) // period * period
    today = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    # As the history keeps it: else the stored miss would seem older than its period.
    return to_the_millisecond(max(began, today))


def _late_beat(component: str, last: LastBeats, now: datetime) -> CheckResult | None:
    """The holding beat's status again, when the newest miss was recorded after the beat but
    without knowing of it: else that miss would stay the newest result while the beat holds."""
    assert last.beat is not None
    unaware_miss = (last.missed is not None and last.missed > last.beat
                    and (last.missed_knew is None or last.missed_knew < last.beat))
    if not unaware_miss or (last.late is not None and last.late > last.missed):
        return None
    return CheckResult(component=component, time=now, status=last.beat_status, reason=LATE,
                       message=f"beat at {describe_time(last.beat)}, recorded after a miss was",
                       latency_ms=None, location=LOCATION, details={"last_beat": format_time(last.beat)})


def beat_result(component: str, *, status: str = UP, message: str = "", time: datetime,
                details: dict[str, Any] | None = None) -> CheckResult:
    """A beat as the history keeps it."""
    if status not in BEAT_STATUSES:
        raise ValueError(f"a beat's status is up or down, not {status!r}")
    text = " ".join(message.split())[:MAX_MESSAGE] or ("job reported a failure" if status == DOWN else "beat")
    return CheckResult(component=component, time=time.astimezone(timezone.utc), status=status, reason=BEAT,
                       message=text, latency_ms=None, location=LOCATION, details=dict(details or {}))


def dispatch_payload(component: str, *, status: str, message: str, time: datetime) -> dict[str, Any]:
    """The body of the `repository_dispatch` event that carries a beat to check.yml."""
    time = time.replace(microsecond=time.microsecond // 1000 * 1000)  # as the history will keep it
    return {"event_type": BEAT,
            "client_payload": {"component": component, "status": status, "message": message,
                               "time": format_time(time)}}


class EventBeat(NamedTuple):
    result: CheckResult | None  # None: nothing to record
    problem: str | None  # why not, when the event was meant to be a beat but is not a good one


def beat_from_event(event: Any, heartbeat_components: Iterable[str], now: datetime) -> EventBeat:
    """The beat a GitHub event (the JSON at $GITHUB_EVENT_PATH) carries.

    Another kind of event carries none (no problem: the step did nothing). The beat's time is
    the sender's, so that every runner recording the same event writes the same line; a time
    in the future (a sender's clock running fast) is taken as now.
    """
    if not isinstance(event, dict) or event.get("action") != BEAT:
        return EventBeat(None, None)
    payload = event.get("client_payload")
    if not isinstance(payload, dict):
        return EventBeat(None, "the heartbeat event has no client_payload")
    components = tuple(heartbeat_components)
    component = payload.get("component")
    if not isinstance(component, str) or component not in components:

        hint = did_you_mean(component, components) if isinstance(component, str) else ""
        return EventBeat(None, f"component {component!r}{hint} has no heartbeat check in site.yaml"
                               f" (heartbeat components: {', '.join(components) or 'none'})")
    status = payload.get("status", UP)
    if status not in BEAT_STATUSES:
        return EventBeat(None, f"status {status!r} is not up or down")
    message = payload.get("message") or ""
    if not isinstance(message, str):
        return EventBeat(None, "message must be text")
    time = now
    if payload.get("time") is not None:
        try:
            time = min(parse_time(str(payload["time"])), now)
        except ValueError:
            return EventBeat(None, f"time {payload['time']!r} is not an ISO 8601 time")
    return EventBeat(beat_result(component, status=status, message=message, time=time,
                                 details={"via": "repository_dispatch"}), None)


def describe_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def describe_duration(seconds: float) -> str:
    """1h, 10m, 1h30m, 45s: the way site.yaml writes it."""
    if not math.isfinite(seconds) or seconds <= 0:
        return "0s"
    whole = int(seconds)
    if whole != seconds or whole < 60:
        return f"{seconds:g}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
