"""Writing incident files for people on call: pure functions, text in and text out.

The command line (cli.py) does the I/O; everything here can be tested without a disk. The final
word on a produced text belongs to `incidents.parse_incident`, the build's own parser: the command
line runs it on every text before writing, so nothing written through here can break a build.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from generator.site.incidents import COMPONENT_EFFECTS, DEFAULT_EFFECT, IMPACTS, INCIDENT_STATUSES, MAINTENANCE_STATUSES, UPDATE_HEADING, Incident, parse_time
from generator.site.problems import did_you_mean

SLUG_MAX = 50
# What readers see when the person on call had no time to write a sentence.
DEFAULT_MESSAGES = {
    "investigating": "We are investigating this issue.",
    "identified": "The issue has been identified and a fix is being worked on.",
    "monitoring": "A fix has been applied and we are monitoring the results.",
    "resolved": "This incident has been resolved.",
    "scheduled": "This maintenance is scheduled.",
    "in_progress": "This maintenance is in progress.",
    "verifying": "The maintenance work is done and we are verifying the results.",
    "completed": "This maintenance has been completed.",
}


class AuthoringError(Exception):
    """A request that cannot be carried out; the message says what to do instead."""


@dataclass(frozen=True)
class AffectedSpec:
    """A component a new incident affects, as `-c id[=effect]` names it."""

    id: str
    effect: str | None = None  # None: the impact decides


@dataclass(frozen=True)
class NewIncident:
    """What `heliograph incident new` writes: the front matter and the first update."""

    title: str
    time: datetime  # of the first update, UTC
    status: str
    message: str
    impact: str
    components: tuple[AffectedSpec, ...] = ()
    maintenance: bool = False
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None


@dataclass(frozen=True)
class UpdateRequest:
    """An update `heliograph incident update` adds to an incident file."""

    time: datetime  # UTC
    status: str
    message: str


# --- times ---------------------------------------------------------------------------------


def to_minute(moment: datetime) -> datetime:
    """Rounded to the nearest minute, as headings show minutes only."""
    moment = moment.astimezone(timezone.utc)
    return (moment + timedelta(seconds=30)).replace(second=0, microsecond=0)


_TIME_OF_DAY = re.compile(r"^(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<zone>\S.*)$")


def parse_when(text: str, now: datetime) -> datetime:
    """A time with a zone: a full one (`2026-11-20 14:15 UTC`, ISO 8601), or only `14:15 UTC`,
    meaning the latest such moment that is not in the future (yesterday's, shortly after midnight)."""
    parsed = parse_time(text)
    if parsed is not None:
        return parsed
    match = _TIME_OF_DAY.match(text.strip())
    zone = _zone(match.group("zone")) if match else None
    if match is None or zone is None or int(match.group("hour")) > 23 or int(match.group("minute")) > 59:
        raise AuthoringError(f"{text!r} is not a time with a zone; write e.g. `14:15 UTC`, `14:15 Europe/Berlin`, "
                             "`2026-11-20 14:15 UTC` or `2026-11-20T14:15:00+01:00`")
    local_now = now.astimezone(zone)
    candidate = local_now.replace(hour=int(match.group("hour")), minute=int(match.group("minute")), second=0,
                                  microsecond=0)
    if candidate > local_now + timedelta(minutes=5):
        candidate -= timedelta(days=1)
    return candidate.astimezone(timezone.utc)


def _zone(name: str) -> timezone | ZoneInfo | None:
    name = name.strip()
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    offset = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", name)
    if offset:
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return timezone(delta if offset.group(1) == "+" else -delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def update_heading(moment: datetime, status: str) -> str:
    return f"## {format_time(moment)} · {status.replace('_', ' ').capitalize()}"


# --- names and ids -------------------------------------------------------------------------


def slugify(title: str) -> str:
    """`Störung: API 5xx!` -> `storung-api-5xx`; short enough for a URL, cut at a word."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0] if "-" in slug[:SLUG_MAX] else slug[:SLUG_MAX]
    return slug or "incident"


def new_incident_id(spec: NewIncident, existing_ids: Iterable[str]) -> str:
    """`<date>-<slug>`, with -2, -3... when taken: an incident file is never overwritten."""
    day = (spec.scheduled_for if spec.maintenance and spec.scheduled_for else spec.time).astimezone(timezone.utc)
    base = f"{day:%Y-%m-%d}-{slugify(spec.title)}"
    taken = {i.lower() for i in existing_ids}
    candidate, number = base, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")


def find_incident_id(query: str, ids: Iterable[str]) -> str:
    """The one id that is `query`, is it after the date (`api-errors` for 2026-11-20-api-errors),
    starts with it, or contains it, in that order; otherwise an error naming the candidates."""
    ids = sorted(ids)
    needle = query.strip().lower().removesuffix(".md").rsplit("/", 1)[-1]
    if needle in ids:
        return needle
    tiers = ([i for i in ids if _DATE_PREFIX.sub("", i) == needle], [i for i in ids if i.startswith(needle)],
             [i for i in ids if needle in i])
    for matches in tiers:
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            listed = "\n".join(f"  {m}" for m in matches)
            raise AuthoringError(f"{query!r} matches {len(matches)} incidents; give more of the id:\n{listed}")
    if not ids:
        raise AuthoringError("there are no incidents yet; open one with `heliograph incident new`")
    raise AuthoringError(f"no incident matches {query!r}{did_you_mean(needle, ids)}; "
                         "`heliograph incident list` shows them all")


def parse_component_option(value: str, component_ids: tuple[str, ...]) -> AffectedSpec:
    """`api` or `api:partial_outage`, checked against site.yaml."""
    component_id, _, effect = value.partition(":")
    component_id, effect = component_id.strip(), effect.strip() or None
    if component_id not in component_ids:
        raise AuthoringError(f"unknown component {component_id!r}{did_you_mean(component_id, component_ids)}; "
                             f"components in site.yaml: {', '.join(component_ids) or '(none)'}")
    if effect is not None and effect not in COMPONENT_EFFECTS:
        raise AuthoringError(f"unknown effect {effect!r} for {component_id!r}"
                             f"{did_you_mean(effect, COMPONENT_EFFECTS)}; use one of {', '.join(COMPONENT_EFFECTS)}")
    return AffectedSpec(component_id, effect)


def statuses_for(maintenance: bool) -> tuple[str, ...]:
    return MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES


def final_status(maintenance: bool) -> str:
    return "completed" if maintenance else "resolved"


def check_status(status: str, maintenance: bool) -> str:
    """The canonical status (`In progress` -> `in_progress`), or an error naming the allowed ones."""
    canonical = status.strip().lower().replace(" ", "_").replace("-", "_")
    allowed = statuses_for(maintenance)
    if canonical in allowed:
        return canonical
    if canonical in statuses_for(not maintenance):
        hint = f"; {canonical!r} is {'an incident' if maintenance else 'a maintenance'} status"
    else:
        hint = did_you_mean(canonical, allowed)
    what = "a maintenance" if maintenance else "an incident"
    raise AuthoringError(f"unknown status {status!r} for {what}{hint}; use one of {', '.join(allowed)}")


# --- writing files -------------------------------------------------------------------------


def yaml_scalar(value: str) -> str:
    """`value` as one YAML scalar, quoted only when it must be (titles with `:` or `#`)."""
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 20)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def new_incident_text(spec: NewIncident) -> str:
    """The whole file for a new incident or maintenance with one update."""
    if not spec.title.strip():
        raise AuthoringError("the title is empty; say what readers notice, e.g. \"API errors\"")
    if spec.impact not in IMPACTS:
        raise AuthoringError(f"unknown impact {spec.impact!r}{did_you_mean(spec.impact, IMPACTS)}; "
                             f"use one of {', '.join(IMPACTS)}")
    lines = ["---", f"title: {yaml_scalar(spec.title.strip())}"]
    if spec.maintenance:
        lines.append("type: maintenance")
    lines.append(f"impact: {spec.impact}")
    if any(c.effect for c in spec.components):
        # Mixed with explicit effects, the others are spelled out too: `api:` alone reads like a mistake.
        default = DEFAULT_EFFECT[spec.impact]
        lines.append("components:")
        lines += [f"  {c.id}: {c.effect or default}" if c.effect or default else f"  {c.id}:"
                  for c in spec.components]
    elif spec.components:
        lines.append(f"components: [{', '.join(c.id for c in spec.components)}]")
    if spec.maintenance:
        if spec.scheduled_for is None or spec.scheduled_until is None:
            raise AuthoringError("maintenance needs --from and --until, e.g. "
                                 "--from '2026-12-08 02:00 UTC' --until '2026-12-08 03:00 UTC'")
        lines.append(f"scheduled_for: {format_time(spec.scheduled_for)}")
        lines.append(f"scheduled_until: {format_time(spec.scheduled_until)}")
    lines += ["---", "", update_heading(spec.time, spec.status), *_message_lines(spec.message)]
    return "\n".join(lines) + "\n"


def add_update(text: str, request: UpdateRequest) -> str:
    """`text` with a new update at the top of the timeline; every other byte stays as it was.

    The update goes right before the first `##` update heading, in the file's own line endings.
    """
    lines = text.splitlines(keepends=True)
    index = first_update_heading_index(lines)
    if index is None:
        raise AuthoringError("the file has no `## <time> · <status>` update heading to add an update above")
    newline = _newline_of(lines)
    block = [update_heading(request.time, request.status), *_message_lines(request.message), ""]
    return "".join(lines[:index]) + newline.join(block) + newline + "".join(lines[index:])


def first_update_heading_index(lines: list[str]) -> int | None:
    """Index of the first update heading after the front matter, skipping code fences like the parser."""
    start = 0
    if lines and lines[0].lstrip("\ufeff").strip() == "---":
        start = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), 0)
    in_fence = False
    for index in range(start, len(lines)):
        line = lines[index]
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and UPDATE_HEADING.match(line.rstrip("\r\n")):
            return index
    return None


def _newline_of(lines: list[str]) -> str:
    """The line ending the file already uses, so an update in a CRLF file is CRLF too."""
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith(("\n", "\r")):
            return line[-1]
    return "\n"


def _message_lines(message: str) -> list[str]:
    return [line.rstrip() for line in message.strip().splitlines()]


# --- decisions -----------------------------------------------------------------------------


def plan_update(incident: Incident, *, status: str | None, message: str | None, time: datetime) -> UpdateRequest:
    """The update to add, or an error when it would leave a timeline the build refuses or readers misread."""
    maintenance = incident.is_maintenance
    current = incident.latest.status
    status = check_status(status, maintenance) if status else current
    final = final_status(maintenance)
    if current == final and status != final:
        raise AuthoringError(
            f"{incident.id} was {final} at {format_time(incident.latest.time)}. Readers were told it is over, "
            f"so it cannot go back to {status!r}; open a new {'maintenance' if maintenance else 'incident'} "
            f"instead:\n  {reopen_command(incident, status)}")
    time = to_minute(time)
    if time < incident.latest.time:
        raise AuthoringError(
            f"{format_time(time)} is before the latest update ({format_time(incident.latest.time)}); a new update "
            "goes on top of the timeline, so it must be the newest (edit the file to insert an older one)")
    text = (message or "").strip() or DEFAULT_MESSAGES[status]
    return UpdateRequest(time=time, status=status, message=text)


def plan_resolution(incident: Incident, *, message: str | None, time: datetime) -> UpdateRequest:
    final = final_status(incident.is_maintenance)
    if incident.latest.status == final:
        raise AuthoringError(f"{incident.id} is already {final} (at {format_time(incident.latest.time)}); "
                             f"to add a note, run `heliograph incident update {incident.id} -m \"...\"`")
    return plan_update(incident, status=final, message=message, time=time)


def reopen_command(incident: Incident, status: str) -> str:
    """A ready-to-run `heliograph incident new` for the same trouble, for a resolved incident that is back."""
    parts = ["heliograph incident new", shlex.quote(incident.title)]
    parts += [f"--component {a.id}:{a.effect}" if a.effect else f"--component {a.id}" for a in incident.affected]
    parts.append(f"--impact {incident.impact}")
    if incident.is_maintenance:
        parts.append("--maintenance --from '...' --until '...'")
    else:
        parts.append(f"--status {status}")
    parts.append(f"-m {shlex.quote(f'Following up on {incident.id}: ...')}")
    return " ".join(parts)


