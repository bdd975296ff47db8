"""`history/alerts.jsonl`: which alerts were claimed, so none is sent twice.

One line per (component, transition id, kind) claimed, appended before sending and committed
beside the history (union-merged like the other JSON Lines files, see history/.gitattributes)::

    {"v":1,"c":"api","t":"2026-11-20T14:05:03.412Z","k":"down","by":"eu-west/4f2a9c01","at":"2026-11-20T14:06:10Z"}

c component; t the transition id (time of the result that crossed the threshold); k down,
degraded, resolved or reminder; by the run that claimed it (location and a random token); at
when. Readers keep one line per (c, t, k, by); a line that cannot be read is skipped.

k "incident" says the automatic incident the opening `t` called for was written: it is
committed with the incident file, so an opening claimed without it lost its file (the push of
the file failed) and a later run writes it; a file a person deleted is not written again.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from generator.alerts.claim_file import append_lines, parse_stamp, read_text, stamp
from generator.alerts.rules import REMINDER, RESOLVED, Transition

LEDGER_FILE = "alerts.jsonl"
INCIDENT_WRITTEN = "incident"  # a claim kind of its own: not a transition (see the module's text)


@dataclass(frozen=True, order=True)
class Claim:
    component: str
    time: datetime  # the transition id
    kind: str
    by: str
    at: datetime

    def to_line(self) -> str:
        return json.dumps({"v": 1, "c": self.component, "t": stamp(self.time), "k": self.kind, "by": self.by,
                           "at": stamp(self.at)}, separators=(",", ":")) + "\n"

    @property
    def key(self) -> tuple[str, datetime, str]:
        return self.component, self.time, self.kind


def ledger_path(history_dir: Path) -> Path:
    return Path(history_dir) / LEDGER_FILE


def read_claims(history_dir: Path) -> list[Claim] | None:
    """Every claim, oldest transition first, each once; None when the file does not exist yet."""
    text = read_text(ledger_path(history_dir))
    if text is None:
        return None
    claims = set()
    for line in text.splitlines():
        try:
            raw = json.loads(line)
            claims.add(Claim(str(raw["c"]), parse_stamp(raw["t"]), str(raw["k"]), str(raw["by"]), parse_stamp(raw["at"])))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a damaged line (a bad merge by hand) must not stop alerts
    return sorted(claims, key=lambda c: (c.time, c.component, c.kind, c.by))


def append_claims(history_dir: Path, claims: Iterable[Claim]) -> Path:
    return append_lines(history_dir, ledger_path(history_dir), (claim.to_line() for claim in claims))


def new_claimer(location: str) -> str:
    return f"{location}/{secrets.token_hex(4)}"


def due(transitions: Sequence[Transition], claims: Sequence[Claim] | None) -> list[Transition]:
    """The transitions nobody claimed yet, oldest first.

    Besides its exact id, a transition counts as told when the component's latest claim already
    says the same (another runner, with a slightly different view of the rounds, claimed the
    same outage under another id). Nothing older than the component's latest claim is sent.
    Without a ledger at all (alerts just switched on) only problems still open are told: the
    history's old outages are not news.
    """
    claims = None if claims is None else [claim for claim in claims if claim.kind != INCIDENT_WRITTEN]
    told = {claim.key for claim in claims or ()}
    latest: dict[str, Claim] = {}  # each component's latest claim, reminders aside
    newest: dict[str, datetime] = {}
    for claim in claims or ():
        newest[claim.component] = max(newest.get(claim.component, claim.time), claim.time)
        if claim.kind != REMINDER:
            previous = latest.get(claim.component)
            if previous is None or claim.time >= previous.time:
                latest[claim.component] = claim
    if claims is None:
        transitions = _still_open(transitions)
    found = []
    for transition in transitions:
        key = (transition.component, transition.time, transition.kind)
        state = latest.get(transition.component)
        told_state = state.kind if state else RESOLVED
        if key in told or transition.time <= newest.get(transition.component, datetime.min.replace(tzinfo=timezone.utc)):
            continue
        if transition.kind == REMINDER:
            if told_state == RESOLVED:
                continue
        elif transition.kind == told_state:
            continue
        found.append(transition)
        placeholder = Claim(transition.component, transition.time, transition.kind, "", transition.time)
        newest[transition.component] = transition.time
        if transition.kind != REMINDER:
            latest[transition.component] = placeholder
    return found


def _still_open(transitions: Sequence[Transition]) -> list[Transition]:
    last: dict[str, Transition] = {}
    for transition in transitions:
        if transition.kind != REMINDER:
            last[transition.component] = transition
    return [t for t in last.values() if t.kind != RESOLVED]


def claims_for(transitions: Sequence[Transition], by: str, at: datetime) -> list[Claim]:
    return [Claim(t.component, t.time, t.kind, by, at) for t in transitions]


def taken_by_others(mine: Sequence[Claim], before: Sequence[Claim] | None, after: Sequence[Claim] | None) -> set:
    """Keys of my claims that another run claimed too, while I was claiming (its claim landed
    first: mine was rebased onto it). Only the first to land sends."""
    known = set(before or ())
    mine_set = set(mine)
    rivals = [c for c in after or () if c not in known and c not in mine_set and c.by != (mine[0].by if mine else "")]
    return {claim.key for claim in mine
            if any(r.component == claim.component and r.kind == claim.kind for r in rivals)}
