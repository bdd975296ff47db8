"""What a person reads at 3 a.m.: one message per transition, plain text, or one digest of
many when a channel has more than `DIGEST_AFTER` in one run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from generator.checks.secrets import Redactor
from generator.alerts.rules import DEGRADED, DOWN, IMPROVED, REMINDER, RESOLVED, Transition

_STATE = {2: "down", 1: "degraded"}


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def transition_message(transition: Transition, *, name: str, page_url: str, now: datetime,
                       redactor: Redactor | None = None) -> Message:
    redactor = redactor or Redactor()
    state = _STATE[transition.state_level]
    result = transition.result
    reason = redactor.text(f"{result.reason}: {result.message}" if result.message else result.reason)
    since = _when(transition.since)
    where = f"{transition.bad_locations} of {transition.locations} location{'s' if transition.locations != 1 else ''}"
    if transition.kind in (DOWN, DEGRADED):
        title = f"[{state.upper()}] {name} is {state}"
        lines = [f"{name} is {state} since {since}: {reason}",
                 f"Seen from {where} ({result.location} last); {transition.failed_rounds} failed checks in a row."]
    elif transition.kind == IMPROVED:
        title = f"[IMPROVED] {name} is degraded, no longer down"
        lines = [f"{name} is partly back: degraded now, after being down since {since}: {reason}",
                 f"Seen from {where} ({result.location} last). Not resolved yet: another message when it is up."]
    elif transition.kind == REMINDER:
        title = f"[STILL {state.upper()}] {name} is still {state}"
        lines = [f"{name} is still {state}, for {_duration(transition.time - transition.since)} since {since}: {reason}",
                 f"Seen from {where} ({result.location} last)."]
    else:
        title = f"[RESOLVED] {name} is up again"
        lines = [f"{name} is up again after {_duration(transition.time - transition.since)} {state} "
                 f"(since {since}): {reason}",
                 f"Seen from {where}."]
    lines.append(page_url)
    return Message(title, "\n".join(lines))


# More messages than this for one channel in one run become one digest: in a mass outage (a
# region down, a shared dependency failing) a hundred messages bury the one that matters, and
# sending them one by one takes longer than the check run.
DIGEST_AFTER = 5
_DIGEST_LISTED = 40  # lines in a digest; the rest are counted, and the status page has them all


def digest_message(messages: list[Message], *, site_title: str, page_url: str) -> Message:
    """One message standing for many: how many of each kind, then each one's first line (who,
    what, since when, why) and link."""
    kinds: dict[str, int] = {}
    for message in messages:
        kind = message.title.split("]", 1)[0].lstrip("[").lower()
        kinds[kind] = kinds.get(kind, 0) + 1
    counts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    lines = [f"{len(messages)} alerts at once from {site_title}: {counts}."]
    for message in messages[:_DIGEST_LISTED]:
        first, link = message.body.split("\n", 1)[0], message.body.rsplit("\n", 1)[-1]
        lines.append(f"- {first} {link}")
    if len(messages) > _DIGEST_LISTED:
        lines.append(f"... and {len(messages) - _DIGEST_LISTED} more.")
    lines.append(f"Every component's state: {page_url}")
    return Message(f"[{len(messages)} ALERTS] {site_title}: {counts}", "\n".join(lines))


def test_message(*, site_title: str, channel: str, now: datetime) -> Message:
    return Message(f"[TEST] {site_title}: alerts work",
                   f"A test alert from Heliograph to the channel \"{channel}\", sent {_when(now)}. "
                   "From now on this channel hears when a component goes down and when it recovers.")


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _duration(delta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


__all__ = ["Message", "transition_message", "test_message", "RESOLVED"]
