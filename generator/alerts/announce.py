"""Announcements to readers: each new incident update and maintenance notice, once, to the
`announce:` channels in site.yaml (Apprise URLs, sent with `send`).

What was announced lives in `history/announced.jsonl`, committed and pushed beside the history
(union-merged like the other JSON Lines files)::

    {"v":1,"k":"since","at":"2026-11-20T14:00:00.000Z","by":"a1b2c3d4"}
    {"v":1,"k":"update","i":"2026-11-20-db","t":"2026-11-20T14:05:00.000Z","s":"investigating","by":"a1b2c3d4","at":"..."}

The first line ever written is the switch-on (`since`): only updates newer than it are news, so
a site's old incidents are never announced. Each update (incident id, update time, status) is
claimed before it is sent, and the claim pushed first: a re-run, or a second deploy racing this
one, finds the claim and sends nothing. The record is in git, not in a build cache, so losing
the cache changes nothing. `heliograph announce` runs only after a publish succeeded, so a
deploy that failed sends nothing. Pure decisions here; git and the network are at the edges.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from generator.alerts.claim_file import append_lines, parse_stamp, read_text, stamp
from generator.alerts.message import Message
from generator.alerts.settings import DEFAULT_TIMEOUT, Channel, Locate, Report, _channels, _seconds
from generator.site.problems import did_you_mean

LEDGER_FILE = "announced.jsonl"
ANNOUNCE_KEYS = ("channels", "timeout")
SINCE, UPDATE = "since", "update"
# Plain text for chat and mail: a long update is cut, and the link carries the rest.
BODY_LIMIT = 1500


@dataclass(frozen=True)
class AnnounceSettings:
    channels: tuple[Channel, ...] = ()
    timeout: float = DEFAULT_TIMEOUT  # per channel, seconds


def parse_announce(raw: Any, report: Report, locate: Locate) -> AnnounceSettings:
    """`announce: {channels: {name: URL or {url, components}}, timeout: 10s}`."""
    if raw is None:
        return AnnounceSettings()
    if not isinstance(raw, dict):
        report((), 'announce must be a mapping, e.g. `announce: {channels: {readers: "discord://..."}}`')
        return AnnounceSettings()
    for key in raw:
        if key not in ANNOUNCE_KEYS:
            report((key,), f'unknown key "{key}" in announce{did_you_mean(str(key), ANNOUNCE_KEYS)}; '
                   f"allowed keys: {', '.join(ANNOUNCE_KEYS)}")
    channels = _channels(raw.get("channels"), report, locate)
    for channel in channels:
        if channel.on is not None:  # `on` is about check states; an announcement is every update
            report(("channels", channel.name, "on"), f'announce channel "{channel.name}": "on" is for alerts only; '
                   "every incident update is announced")
    return AnnounceSettings(channels, _seconds(raw.get("timeout"), ("timeout",), DEFAULT_TIMEOUT, report)
                            or DEFAULT_TIMEOUT)


# --- what is news ----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Announceable:
    """One update of one incident or maintenance notice, as readers are told of it."""
    time: datetime
    incident_id: str
    status: str
    title: str
    text: str  # the update's body as plain text
    components: tuple[str, ...]
    maintenance: bool

    @property
    def key(self) -> tuple[str, datetime, str]:
        return self.incident_id, self.time, self.status


@dataclass(frozen=True)
class Record:
    kind: str  # SINCE or UPDATE
    at: datetime  # when it was written; for SINCE, the switch-on time
    by: str = ""
    incident_id: str = ""
    time: datetime | None = None  # the update's time
    status: str = ""

    @property
    def key(self) -> tuple[str, datetime | None, str]:
        return self.incident_id, self.time, self.status

    def to_line(self) -> str:
        raw: dict[str, Any] = {"v": 1, "k": self.kind}
        if self.kind == UPDATE:
            raw.update(i=self.incident_id, t=stamp(self.time), s=self.status)
        raw.update(by=self.by, at=stamp(self.at))
        return json.dumps(raw, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class Ledger:
    since: datetime | None  # None: never switched on
    announced: frozenset  # keys of the updates claimed
    records: tuple[Record, ...]


def updates_of(incidents: Iterable[Any]) -> list[Announceable]:
    """Every update of every incident, oldest first."""
    found = []
    for incident in incidents:
        for update in incident.updates:
            found.append(Announceable(update.time, incident.id, update.status, incident.title, update.body_text,
                                      incident.component_ids, incident.is_maintenance))
    return sorted(found)


def due(updates: Sequence[Announceable], ledger: Ledger, now: datetime) -> list[Announceable]:
    """What readers have not been told yet: newer than the switch-on, not claimed, and not dated
    in the future (a maintenance's "completed" written ahead is told once its time has come)."""
    if ledger.since is None:
        return []
    return [u for u in updates if ledger.since < u.time <= now and u.key not in ledger.announced]


def claims_for(updates: Sequence[Announceable], by: str, at: datetime) -> list[Record]:
    return [Record(UPDATE, at, by, u.incident_id, u.time, u.status) for u in updates]


def taken_by_others(mine: Sequence[Record], after: Ledger) -> set:
    """Keys of my claims that another run claimed first (its line is before mine once mine
    was rebased onto it): only the first to land sends."""
    first_by: dict[tuple, str] = {}
    for record in after.records:
        if record.kind == UPDATE:
            first_by.setdefault(record.key, record.by)
    return {claim.key for claim in mine if first_by.get(claim.key, claim.by) != claim.by}


def new_claimer() -> str:
    return secrets.token_hex(4)


# --- the message -----------------------------------------------------------------------------


def announcement(update: Announceable, *, page_url: str, component_names: dict[str, str]) -> Message:
    status = update.status.replace("_", " ").capitalize()
    title = f"[{status}] {update.title}"
    text = update.text if len(update.text) <= BODY_LIMIT else update.text[:BODY_LIMIT - 1].rstrip() + "…"
    lines = [f"{update.title}: {status} ({_when(update.time)})"]
    if text:
        lines.append(text)
    names = [component_names.get(c, c) for c in update.components]
    if names:
        lines.append(("Maintenance of: " if update.maintenance else "Affects: ") + ", ".join(names))
    lines.append(page_url)
    return Message(title, "\n\n".join(lines))


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --- the file --------------------------------------------------------------------------------


def ledger_path(history_dir: Path) -> Path:
    return Path(history_dir) / LEDGER_FILE


def parse_ledger(text: str | None) -> Ledger:
    """The switch-on is the earliest `since` (two first runs racing both wrote one); a line that
    cannot be read is skipped, never a reason to stop (or to send everything again)."""
    if text is None:
        return Ledger(None, frozenset(), ())
    records = []
    for line in text.splitlines():
        try:
            raw = json.loads(line)
            if raw["k"] == SINCE:
                records.append(Record(SINCE, parse_stamp(raw["at"]), str(raw.get("by", ""))))
            elif raw["k"] == UPDATE:
                records.append(Record(UPDATE, parse_stamp(raw["at"]), str(raw.get("by", "")), str(raw["i"]),
                                      parse_stamp(raw["t"]), str(raw["s"])))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    starts = [r.at for r in records if r.kind == SINCE]
    return Ledger(min(starts) if starts else None, frozenset(r.key for r in records if r.kind == UPDATE),
                  tuple(records))


def merged(*texts: str | None) -> str | None:
    """Several copies of the ledger (this checkout's, the remote's) as one."""
    known = [t for t in texts if t is not None]
    return "\n".join(known) if known else None


def read_ledger_text(history_dir: Path) -> str | None:
    return read_text(ledger_path(history_dir))


def append_records(history_dir: Path, records: Iterable[Record]) -> Path:
    return append_lines(history_dir, ledger_path(history_dir), (record.to_line() for record in records))
