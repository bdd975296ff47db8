"""Incidents and maintenance notices: one Markdown file each, a YAML front matter and a timeline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from generator.site.markup import render_markdown
from generator.site.problems import InvalidInput, Problem, did_you_mean
from generator.site.text import plain_from_html
from generator.site.times import parse_time
from generator.site.yamlsource import YamlSyntaxError, load_with_positions, simple_mapping

INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
IMPACTS = ("none", "minor", "major", "critical")
COMPONENT_EFFECTS = ("degraded_performance", "partial_outage", "major_outage")
# What an incident does to a component that it names without saying how.
DEFAULT_EFFECT = {"none": None, "minor": "degraded_performance", "major": "partial_outage",
                  "critical": "major_outage"}
FRONT_MATTER_KEYS = ("title", "type", "impact", "components", "scheduled_for", "scheduled_until",
                     "postmortem", "started", "auto")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")  # \Z: "$" would let a final newline through
SEPARATORS = "·|—–-"
UPDATE_HEADING = re.compile(r"^##(?!#)\s*(?P<rest>.*?)\s*#*\s*$")
HEADING_PARTS = re.compile(rf"^(?P<time>.+?)\s+[{SEPARATORS}]\s+(?P<status>[A-Za-z][A-Za-z _-]*?)\s*$")
# Python-Markdown's time grows faster than a paragraph's length (a 4 MB paragraph with emphasis
# took minutes): text beyond these is refused before it is rendered. Far above any real update;
# a log to share belongs in a linked file.
MAX_FILE_KB = 1024
MAX_PARAGRAPH_KB = 64


class Update(NamedTuple):
    """One dated update of an incident. A named tuple: a large site's parse cache holds forty
    thousand of them, read back on every build."""

    time: datetime  # UTC
    status: str
    body_markdown: str
    body_html: str
    line: int
    body_text: str  # the body as plain text, for feeds, the API and the calendar

    @classmethod
    def of(cls, time: datetime, status: str, body_markdown: str, body_html: str, line: int) -> Update:
        return cls(time, status, body_markdown, body_html, line, plain_from_html(body_html))

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ").capitalize()


class AffectedComponent(NamedTuple):
    id: str
    effect: str | None  # a component status such as "partial_outage"; None for no visible effect




@dataclass(frozen=True)
class Incident:
    """One incidents/*.md file: an incident or a maintenance, its components and its updates."""

    id: str
    title: str
    kind: str  # "incident" or "maintenance"
    impact: str
    affected: tuple[AffectedComponent, ...]
    updates: tuple[Update, ...]  # newest first
    started_at: datetime
    source: str  # the file, relative to the site
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    postmortem_html: str | None = None
    postmortem_url: str | None = None
    # What the parse came from (file bytes, path, component ids, parser), for caches of what is
    # rendered from it; "" when unknown (then nothing rendered from it is cached).
    source_key: str = field(default="", compare=False, repr=False)

    @cached_property  # asked for hundreds of thousands of times in a large site's build
    def is_maintenance(self) -> bool:
        return self.kind == "maintenance"

    @cached_property
    def timeline(self) -> tuple[tuple[datetime, str], ...]:
        """(time, status) of each update, newest first: what most outputs need of the updates."""
        return tuple((update.time, update.status) for update in self.updates)

    @property
    def latest(self) -> Update:
        return self.updates[0]

    # Cached, and kept by the parse cache: a large site's build asks for them 60,000 times.
    @cached_property
    def latest_status(self) -> str:
        return self.timeline[0][1]

    @cached_property
    def created_at(self) -> datetime:
        return self.timeline[-1][0]

    @cached_property
    def updated_at(self) -> datetime:
        return self.timeline[0][0]

    @cached_property
    def resolved_at(self) -> datetime | None:
        final = "completed" if self.is_maintenance else "resolved"
        return next((time for time, status in self.timeline if status == final), None)

    @property
    def monitoring_at(self) -> datetime | None:
        return next((time for time, status in reversed(self.timeline) if status == "monitoring"), None)

    @cached_property
    def component_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.affected)

    def with_derived_facts(self) -> Incident:
        """This incident with every cached fact worked out, so that a copy (the parse cache, a
        forked worker's result) carries them instead of working them out again."""
        self.timeline, self.resolved_at, self.is_maintenance, self.component_ids  # noqa: B018
        self.latest_status, self.created_at, self.updated_at  # noqa: B018
        return self

    def status_at(self, now: datetime) -> str:
        """The current status. A maintenance nobody updated follows its schedule, as readers expect."""
        status = self.latest_status
        if self.is_maintenance and status == "scheduled" and self.scheduled_for and now >= self.scheduled_for:
            return "in_progress" if self.scheduled_until and now < self.scheduled_until else "completed"
        return status

    def is_open(self, now: datetime) -> bool:
        # resolved_at first: asked of every incident many times a build, and most are resolved
        return self.resolved_at is None and self.status_at(now) not in ("resolved", "completed")

    def ended_at(self, now: datetime) -> datetime | None:
        if self.resolved_at:
            return self.resolved_at
        if self.is_maintenance and self.status_at(now) == "completed":
            return self.scheduled_until
        return None

    def duration(self, now: datetime) -> timedelta:
        start = self.scheduled_for if self.is_maintenance and self.scheduled_for else self.started_at
        return (self.ended_at(now) or now) - start


@dataclass(frozen=True)
class IncidentSet:
    """Every incident that loaded, and the problems found in the files."""

    incidents: tuple[Incident, ...]  # newest first
    problems: tuple[Problem, ...]  # errors and warnings, every file's


def parse_incident(text: str, *, incident_id: str, file: str, component_ids: tuple[str, ...],
                   now: datetime) -> tuple[Incident, list[Problem]]:
    """One incident file -> Incident and warnings; raises InvalidInput with every error found."""
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def error(line: int | None, message: str, column: int | None = 1) -> None:
        errors.append(Problem(file, line, column, message))

    size = _utf8_size(text, MAX_FILE_KB * 1024)
    if size is not None:
        raise InvalidInput([file_too_large(file, size)])
    if not ID_PATTERN.match(incident_id):
        error(None, f"the file name gives the incident id {incident_id!r}, which appears in URLs; rename the file "
              f"to lowercase letters, digits and dashes, e.g. {_slug(incident_id)}.md", None)

    front, body, body_line = _split_front_matter(text, file)
    if front is not None and len(front) > MAX_FRONT_MATTER_CHARS:
        raise InvalidInput([Problem(file, 2, 1, f"the front matter is {len(front):,} characters; the limit is "
                                    f"{MAX_FRONT_MATTER_CHARS:,}: it holds a title and a few keys, the text goes below it")])
    meta = simple_mapping(front) if front is not None else {}
    positions = None  # where each value is: only error messages need it, so only they ask for it
    try:
        if meta is None:
            meta, positions = load_with_positions(front, file, line_offset=1)
    except YamlSyntaxError as exc:
        raise InvalidInput([Problem(exc.file, exc.line, exc.column, exc.message)]) from None

    def located():
        nonlocal positions
        if positions is None and front is not None:
            positions = load_with_positions(front, file, line_offset=1)[1]
        return positions
    if front is None:
        error(1, "missing front matter; start the file with a `---` line, `title: ...`, and another `---` line")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        error(2, "the front matter must be YAML keys and values, e.g. `title: API errors`")
        meta = {}

    def error_at(path: tuple, message: str, key: bool = False) -> None:
        where = located()
        line, col = (where.of_key(path) if key else where.of_value(path)) if where else (1, 1)
        error(line, message, col)

    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            error_at((key,), f'unknown front matter key "{key}"{did_you_mean(str(key), FRONT_MATTER_KEYS)}; '
                     f"allowed: {', '.join(FRONT_MATTER_KEYS)}", key=True)

    # `auto: true` marks a file `heliograph alert send` opened (auto_incident); the automatic
    # resolve looks for it so it never touches an incident a person started.
    if "auto" in meta and not isinstance(meta["auto"], bool):
        error_at(("auto",), f'"auto" must be true or false, not {meta["auto"]!r}')

    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        error_at(("title",) if "title" in meta else (), 'missing "title"; add `title: A short description` '
                 "to the front matter")
        title = incident_id
    kind = meta.get("type", "incident")
    if kind not in ("incident", "maintenance"):
        error_at(("type",), f'"type" must be incident or maintenance, not {kind!r}{did_you_mean(str(kind), ("incident", "maintenance"))}')
        kind = "incident"
    is_maintenance = kind == "maintenance"
    impact = meta.get("impact", "none" if is_maintenance else "minor")
    if impact not in IMPACTS:
        error_at(("impact",), f'"impact" must be one of {", ".join(IMPACTS)}, not {impact!r}'
                 f"{did_you_mean(str(impact), IMPACTS)}")
        impact = "minor"

    affected = _affected_components(meta.get("components"), impact, component_ids, error_at)

    def front_time(key: str) -> datetime | None:
        if key not in meta or meta[key] is None:
            return None
        parsed = parse_time(meta[key])
        if parsed is None:
            error_at((key,), f'"{key}" is not a time I can read: {meta[key]!r}; write e.g. '
                     f'"2026-11-20 14:00 UTC" or "2026-11-20T14:00:00+01:00"')
        return parsed

    scheduled_for, scheduled_until, started = front_time("scheduled_for"), front_time("scheduled_until"), front_time("started")
    if is_maintenance:
        for key, value in (("scheduled_for", scheduled_for), ("scheduled_until", scheduled_until)):
            if key not in meta:
                error(_end_of_front_matter(text), f'maintenance needs "{key}" in the front matter, '
                      f'e.g. `{key}: 2026-11-20 02:00 UTC`')
        if scheduled_for and scheduled_until and scheduled_until <= scheduled_for:
            error_at(("scheduled_until",), "scheduled_until must be after scheduled_for")
    else:
        for key in ("scheduled_for", "scheduled_until"):
            if key in meta:
                error_at((key,), f'"{key}" is only for maintenance; add `type: maintenance` or remove it', key=True)

    postmortem_html = postmortem_url = None
    postmortem = meta.get("postmortem")
    if isinstance(postmortem, str) and postmortem.strip():
        candidate = postmortem.strip()
        if re.fullmatch(r"https?://\S+", candidate):
            postmortem_url = candidate
        elif (oversize := _oversize_paragraph(candidate.splitlines(keepends=True), 1)) is not None:
            error_at(("postmortem",), f'"postmortem" has a paragraph of {_kilobytes(oversize[1])} KB; the limit is '
                     f"{MAX_PARAGRAPH_KB} KB: split it with blank lines, or link to the postmortem")
        else:
            postmortem_html = render_markdown(candidate)
    elif postmortem is not None:
        error_at(("postmortem",), '"postmortem" must be Markdown text or an https:// URL')

    try:
        updates, headings, preamble_line = _parse_updates(body, body_line, is_maintenance, error)
    except RecursionError:  # Markdown recurses once per level of nested lists or quotes
        raise InvalidInput([Problem(file, _deepest_line(body, body_line), 1, "lists or quotes nested too deeply "
                                    "to render; nest fewer levels")]) from None
    if preamble_line is not None:
        warnings.append(Problem(file, preamble_line, 1, "text before the first update heading is not shown; "
                                "move it under a `## <time> · <status>` heading", "warning"))
    if not headings:
        error(body_line, "no updates; add one, e.g. `## 2026-11-20 14:02 UTC · "
              f"{'Scheduled' if is_maintenance else 'Investigating'}` followed by a sentence")

    updates.sort(key=lambda u: u.time, reverse=True)
    if not is_maintenance:
        for update in updates:
            if update.time > now + timedelta(minutes=5):
                error(update.line, f"update time {update.time:%Y-%m-%d %H:%M} UTC is in the future; incidents are "
                      "written as they happen (use `type: maintenance` for planned work)")
    final = "completed" if is_maintenance else "resolved"
    resolutions = [u for u in updates if u.status == final]
    if resolutions and updates[0].status != final:
        newest_resolution = resolutions[0]
        later = updates[0]
        error(later.line, f"this update ({later.status}) comes after the {final} update at line "
              f"{newest_resolution.line}; reopen by changing that update's status, or open a new incident")

    if errors:
        raise InvalidInput(sorted(errors, key=lambda p: (p.line or 0, p.column or 0)))
    started_at = started or updates[-1].time
    return Incident(
        id=incident_id, title=title.strip(), kind=kind, impact=impact, affected=affected,
        updates=tuple(updates), started_at=started_at, source=file,
        scheduled_for=scheduled_for, scheduled_until=scheduled_until,
        postmortem_html=postmortem_html, postmortem_url=postmortem_url,
    ), warnings


def _affected_components(raw: Any, impact: str, component_ids: tuple[str, ...], error_at) -> tuple[AffectedComponent, ...]:
    if raw is None:
        return ()
    entries: list[tuple[tuple, str, Any]] = []
    if isinstance(raw, list):
        entries = [(("components", i), str(item), None) for i, item in enumerate(raw)]
    elif isinstance(raw, dict):
        entries = [(("components", key), str(key), effect) for key, effect in raw.items()]
    elif isinstance(raw, str):
        entries = [(("components",), raw, None)]
    else:
        error_at(("components",), '"components" must be a list of component ids, or a mapping of id to '
                 f"effect ({', '.join(COMPONENT_EFFECTS)})")
    affected = []
    for path, component_id, effect in entries:
        if component_id not in component_ids:
            error_at(path, f'unknown component "{component_id}"{did_you_mean(component_id, component_ids)}; '
                     f"components in site.yaml: {', '.join(component_ids) or '(none)'}", key=isinstance(raw, dict))
            continue
        if effect is not None and effect not in COMPONENT_EFFECTS:
            error_at(path, f'unknown effect {effect!r} for "{component_id}"{did_you_mean(str(effect), COMPONENT_EFFECTS)}; '
                     f"use one of {', '.join(COMPONENT_EFFECTS)}")
            effect = None
        affected.append(AffectedComponent(component_id, effect or DEFAULT_EFFECT[impact]))
    return tuple(affected)


def _split_front_matter(text: str, file: str) -> tuple[str | None, str, int]:
    """(front matter YAML, body, 1-based line where the body starts)."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1:]), index + 2
    return None, text, 1


def _end_of_front_matter(text: str) -> int:
    lines = text.splitlines()
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return index + 1
    return 1


def _parse_updates(body: str, first_line: int, is_maintenance: bool, error) -> tuple[list[Update], int, int | None]:
    """(valid updates, how many update headings there were, line of any text before the first one)."""
    allowed = MAINTENANCE_STATUSES if is_maintenance else INCIDENT_STATUSES
    other = INCIDENT_STATUSES if is_maintenance else MAINTENANCE_STATUSES
    updates: list[Update] = []
    heading: tuple[int, datetime | None, str | None] | None = None
    collected: list[str] = []
    preamble_line: int | None = None
    in_fence = False
    heading_count = 0

    def flush() -> None:
        if heading and heading[1] is not None and heading[2] is not None:
            markdown_text = "".join(collected).strip("\n")
            too_long = _utf8_size(markdown_text, MAX_PARAGRAPH_KB * 1024) is not None
            oversize = _oversize_paragraph(collected, heading[0] + 1) if too_long else None
            if oversize is not None:
                error(oversize[0], f"this paragraph is {_kilobytes(oversize[1])} KB; the limit is {MAX_PARAGRAPH_KB} KB: "
                      "split it with blank lines, or link to long logs instead of pasting them")
                return
            updates.append(Update.of(heading[1], heading[2], markdown_text, render_markdown(markdown_text), heading[0]))

    for offset, line in enumerate(body.splitlines(keepends=True)):
        number = first_line + offset
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else UPDATE_HEADING.match(line.rstrip("\n"))
        if not match:
            if heading is None and line.strip() and preamble_line is None:
                preamble_line = number
            collected.append(line)
            continue
        flush()
        heading_count += 1
        collected = []
        heading = (number, None, None)
        parts = HEADING_PARTS.match(match.group("rest"))
        if not parts:
            error(number, "update heading must be `## <time> · <status>`, e.g. "
                  f"`## 2026-11-20 14:02 UTC · {allowed[0].capitalize()}` (separator ·, -, — or |)", 3)
            continue
        column = line.rfind(parts.group("status")) + 1
        when = parse_time(parts.group("time"))
        status = parts.group("status").strip().lower().replace(" ", "_").replace("-", "_")
        if when is None:
            error(number, f"unparseable time {parts.group('time')!r}; write e.g. `2026-11-20 14:02 UTC` "
                  "or an ISO 8601 time with a zone such as `2026-11-20T14:02:00+01:00`", 4)
        if status not in allowed:
            if status in other:
                hint = f"; {status!r} is a {'incident' if is_maintenance else 'maintenance'} status"
            else:
                hint = did_you_mean(status, allowed)
            error(number, f"unknown status {parts.group('status')!r}{hint}; use one of {', '.join(allowed)}", column)
            status = None
        heading = (number, when, status)
    flush()
    return updates, heading_count, preamble_line


MAX_FRONT_MATTER_CHARS = 64 * 1024


def _deepest_line(body: str, first_line: int) -> int:
    """The line of `body` that starts with the most list or quote markers: where nesting went too deep."""
    def depth(line: str) -> int:
        return len(re.match(r"(?:\s*(?:[-*+>]|\d+[.)])(?=\s|>))*", line)[0])
    lines = body.splitlines() or [""]
    deepest = max(range(len(lines)), key=lambda index: depth(lines[index]))
    return first_line + deepest


def file_too_large(file: str, size: int) -> Problem:
    """The one wording for an incident file over MAX_FILE_KB, whether told from its size or its text."""
    return Problem(file, 1, 1, f"the file is {_kilobytes(size)} KB; the limit is {MAX_FILE_KB:,} KB: "
                   "shorten it, or link to long logs instead of pasting them")


def _kilobytes(size: int) -> str:
    """`size` bytes in KB, rounded up: a file just over a limit never reads as at it."""
    return f"{-(-size // 1024):,}"


def _utf8_size(text: str, limit: int) -> int | None:
    """How many bytes `text` is in UTF-8 when that is over `limit`, else None (and, for most
    texts, without encoding them: a character is at most 4 bytes)."""
    if len(text) * 4 <= limit:
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


def _oversize_paragraph(lines: list[str], first_line: int) -> tuple[int, int] | None:
    """(line, size in bytes) of the first paragraph of `lines` (lines between blank ones, the first
    on line `first_line`) over MAX_PARAGRAPH_KB, or None."""
    start, size = first_line, 0
    for number, line in enumerate(lines + [""], first_line):
        if line.strip():
            size += len(line.encode("utf-8", "surrogatepass"))
            continue
        if size > MAX_PARAGRAPH_KB * 1024:
            return start, size
        start, size = number + 1, 0
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "incident"

