"""llms.txt (llmstxt.org): the page in Markdown for language-model agents, with links to the
machine-readable files, so an agent asked "is X down?" reads one short file instead of HTML.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from generator.site.incidents import Incident
from generator.status.readings import milliseconds_text, percent_text, response_time_ms, uptime
from generator.status.model import COMPONENT_STATUS_LABELS
from generator.render.urls import absolute, component_url, incident_url

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


def render_llms(inputs: BuildInputs) -> dict[str, bytes]:
    site, status, now = inputs.site.info, inputs.status, inputs.now
    names = {c.id: c.name for c in inputs.site.components}
    lines = [f"# {_inline(site.title)}", ""]
    summary = _inline(site.description).rstrip(".") if site.description else "The status page"
    lines += [f"> {summary}. Current status: **{status.description}** (as of {now:{TIME_FORMAT}}).", ""]
    lines += ["Times are UTC. The machine-readable files listed below hold the same data.", ""]

    lines += ["## Components", ""]
    for state in status.components:
        component = state.component
        history = inputs.histories.get(component.id)
        facts = [COMPONENT_STATUS_LABELS[state.status]]
        if not component.is_manual:
            facts.append(f"uptime over 30 days: {percent_text(uptime(history, '30d'))}")
            facts.append(f"response time: {milliseconds_text(response_time_ms(history, now, stale=state.stale))}")
        if state.stale_note:
            facts.append(f"stale: {state.stale_note}")
        group = f" ({_inline(component.group)})" if component.group else ""
        lines.append(f"- [{_link_text(component.name)}]({component_url(site, component.id)}){group}: "
                     + "; ".join(facts))
    lines.append("")

    sections = (("Active incidents", status.open_incidents), ("Maintenance in progress", status.active_maintenance),
                ("Scheduled maintenance", status.upcoming_maintenance))
    for heading, incidents in sections:
        lines += [f"## {heading}", ""]
        lines += [_incident_line(inputs, i, names) for i in incidents] or ["None."]
        lines.append("")

    lines += [
        "## Machine-readable",
        "",
        f"- [Statuspage API v2 summary]({absolute(site, 'api/v2/summary.json')}): status, components, "
        "unresolved incidents and maintenance in the Statuspage format",
        f"- [Status JSON]({absolute(site, 'api/status.json')}): the same with component ids, uptime and response times",
        f"- [OpenAPI description]({absolute(site, 'api/openapi.json')}): every endpoint and its schema",
        f"- [Daily uptime CSV]({absolute(site, 'api/history.csv')})",
        f"- [Incident feed (Atom)]({absolute(site, 'feed.atom')}), [RSS]({absolute(site, 'feed.rss')}), "
        f"[JSON Feed]({absolute(site, 'feed.json')})",
        f"- [Maintenance calendar (iCalendar)]({absolute(site, 'maintenance.ics')})",
        "",
        "## Optional",
        "",
        f"- [Incident history]({absolute(site, 'history/')}): every past incident and maintenance",
    ]
    lines += [f"- [{_link_text(link.label)}]({link.url})" for link in site.links if link.url.startswith("http")]
    return {"llms.txt": ("\n".join(lines) + "\n").encode("utf-8")}


def _incident_line(inputs: BuildInputs, incident: Incident, names: dict[str, str]) -> str:
    now = inputs.now
    affected = ", ".join(_inline(names.get(cid, cid)) for cid in incident.component_ids) or "all components"
    when = (f"{incident.scheduled_for:{TIME_FORMAT}} to {incident.scheduled_until:{TIME_FORMAT}}"
            if incident.is_maintenance and incident.scheduled_for and incident.scheduled_until
            else f"since {incident.started_at:{TIME_FORMAT}}")
    impact = "" if incident.is_maintenance else f", {incident.impact} impact"
    latest = incident.latest
    return (f"- [{_link_text(incident.title)}]({incident_url(inputs.site.info, incident.id)}): "
            f"{incident.status_at(now).replace('_', ' ')}{impact}, {when}; affects {affected}. "
            f"Latest update ({latest.time:{TIME_FORMAT}}): {_inline(latest.body_text)}")


def _inline(text: str) -> str:
    """One line of plain text: user text can neither start a heading nor a list."""
    return re.sub(r"\s+", " ", text).strip()


def _link_text(text: str) -> str:
    return _inline(text).replace("[", "\\[").replace("]", "\\]")
