"""maintenance.ics: scheduled maintenance as an iCalendar feed (RFC 5545) to subscribe to.

Written by hand rather than with a library: the format is small, and the details calendar
clients are strict about (CRLF, lines folded at 75 octets without splitting a UTF-8 character,
escaped text, UTC times) are easiest to guarantee in one place. UIDs are stable and SEQUENCE
grows with each update, so a subscribed calendar updates the event instead of duplicating it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from generator.site.incidents import Incident
from generator.engine.reuse import Outputs, output_key
from generator.status.model import affected_ids
from generator.render.statuspage import status_changed_at
from generator.render.urls import incident_url

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs
    from generator.render.i18n import Language

RECENT = timedelta(days=90)  # finished windows stay this long, so a calendar keeps recent history
LINE_OCTETS = 75
DEFAULT_LENGTH = timedelta(hours=1)  # a window announced without an end


PATH = "maintenance.ics"


def render_calendar(inputs: BuildInputs, outputs: Outputs, language: Language | None = None) -> None:
    """The calendar, its words in `language` (English without one), kept while its events would
    read the same: each maintenance notice's source, and what `now` makes of it (its status, end
    and last change), are in its key, with the catalog's."""
    now = inputs.now
    maintenance = [i for i in inputs.incidents.incidents if i.is_maintenance and i.scheduled_for is not None]
    shown = []
    for incident in sorted(maintenance, key=lambda i: (i.scheduled_for, i.id)):
        end = incident.ended_at(now) or incident.scheduled_until or incident.scheduled_for + DEFAULT_LENGTH
        if incident.status_at(now) == "completed" and end < now - RECENT:
            continue
        shown.append(incident)
    seen = [(i.source_key, i.status_at(now), i.ended_at(now), status_changed_at(i, now)) for i in shown]
    key = None if any(not i.source_key for i in shown) else output_key(
        inputs.fingerprint, PATH, seen, language and language.catalog_key)
    if outputs.wants(PATH, key):
        outputs.add({PATH: calendar(inputs, shown, language)})


def calendar(inputs: BuildInputs, shown: list[Incident], language: Language | None = None) -> bytes:
    """The calendar of these maintenance notices, in this order. Times stay UTC (RFC 5545's);
    the words people read are in `language`."""
    _ = language.translations.gettext if language is not None else (lambda text: text)
    site = inputs.site
    host = urlsplit(site.info.base_url).hostname or "heliograph"
    names = {c.id: c.name for c in site.components}
    events = [_event(incident, inputs, host, names, _) for incident in shown]
    name = _("%(title)s maintenance") % {"title": site.info.title}
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Heliograph//Status page maintenance//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape_text(name)}",  # RFC 7986
        f"X-WR-CALNAME:{escape_text(name)}",
        f"X-WR-CALDESC:{escape_text(_('Scheduled maintenance on %(url)s') % {'url': site.info.base_url})}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",  # RFC 7986; X-PUBLISHED-TTL for older clients
        "X-PUBLISHED-TTL:PT1H",
        f"URL:{site.info.base_url}",
        *[line for event in events for line in event],
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")


def _event(incident: Incident, inputs: BuildInputs, host: str, names: dict[str, str],
           _: Callable[[str], str]) -> list[str]:
    now = inputs.now
    start = incident.scheduled_for
    assert start is not None
    # A window that ran long or ended early is shown as it really went, once it is over.
    end = incident.ended_at(now) or incident.scheduled_until or start + DEFAULT_LENGTH
    end = max(end, start + timedelta(minutes=1))
    components = [names[cid] for cid in affected_ids(incident, inputs.site.component_ids) if cid in names]
    url = incident_url(inputs.site.info, incident.id)
    trail = [f"{u.time:%Y-%m-%d %H:%M} UTC · {_(u.status_label)}\n{u.body_text}".strip()
             for u in incident.updates]
    affects = _("Affects: %(components)s") % {"components": ", ".join(components) or _("all components")}
    description = f"{affects}\n\n" + "\n\n".join(trail) + f"\n\n{url}"
    return [
        "BEGIN:VEVENT",
        f"UID:{incident.id}@{host}",
        f"DTSTAMP:{utc(status_changed_at(incident, now))}",
        f"CREATED:{utc(incident.created_at)}",
        f"LAST-MODIFIED:{utc(status_changed_at(incident, now))}",
        f"SEQUENCE:{len(incident.timeline) - 1}",
        f"DTSTART:{utc(start)}",
        f"DTEND:{utc(end)}",
        f"SUMMARY:{escape_text(_('Maintenance: %(title)s') % {'title': incident.title})}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        "STATUS:CONFIRMED",  # a maintenance has no cancelled state yet; when it does, CANCELLED goes here
        "TRANSP:TRANSPARENT",  # someone else's maintenance does not make the subscriber busy
        f"CATEGORIES:{','.join(escape_text(name) for name in components)}" if components else f"CATEGORIES:{escape_text(_('Maintenance'))}",
        "END:VEVENT",
    ]


def utc(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def escape_text(text: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon and comma escaped, newlines as \\n, no other controls."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(ch for ch in text if ch >= " " or ch == "\t")


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never inside a character."""
    out, current, size = [], [], 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = LINE_OCTETS if not out else LINE_OCTETS - 1  # a continuation starts with one space
        if size + width > limit:
            out.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out)
