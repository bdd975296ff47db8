"""llms.txt (llmstxt.org): the page in Markdown for language-model agents, with links to the
machine-readable files, so an agent asked "is X down?" reads one short file instead of HTML.
Its words are in the site's language (English without one); its times stay UTC.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from generator.render.badges import Words
from generator.site.incidents import Incident
from generator.status.readings import response_time_ms, uptime
from generator.status.model import COMPONENT_STATUS_LABELS
from generator.render.urls import absolute, component_url, incident_url

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs
    from generator.render.i18n import Language

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


def render_llms(inputs: BuildInputs, language: Language | None = None) -> dict[str, bytes]:
    site, status, now = inputs.site.info, inputs.status, inputs.now
    words = Words(language)
    _ = words.gettext
    names = {c.id: c.name for c in inputs.site.components}
    lines = [f"# {_inline(site.title)}", ""]
    summary = _inline(site.description).rstrip(".") if site.description else _("The status page")
    lines += ["> " + _("%(summary)s. Current status: **%(status)s** (as of %(time)s).") % {
        "summary": summary, "status": _(status.description), "time": f"{now:{TIME_FORMAT}}"}, ""]
    lines += [_("Times are UTC. The machine-readable files listed below hold the same data."), ""]

    lines += [f"## {_('Components')}", ""]
    for state in status.components:
        component = state.component
        history = inputs.histories.get(component.id)
        facts = [_(COMPONENT_STATUS_LABELS[state.status])]
        if not component.is_manual:
            facts.append(_("uptime over 30 days: %(value)s") % {"value": words.percent(uptime(history, '30d'))})
            facts.append(_("response time: %(value)s") % {
                "value": words.milliseconds(response_time_ms(history, now, stale=state.stale))})
        if state.stale_note:
            facts.append(_("stale: %(note)s") % {"note": _stale_note(state.last_checked, _)})
        group = f" ({_inline(component.group)})" if component.group else ""
        lines.append(f"- [{_link_text(component.name)}]({component_url(site, component.id)}){group}: "
                     + "; ".join(facts))
    lines.append("")

    sections = (("Active incidents", status.open_incidents), ("Maintenance in progress", status.active_maintenance),
                ("Scheduled maintenance", status.upcoming_maintenance))
    for heading, incidents in sections:
        lines += [f"## {_(heading)}", ""]
        lines += [_incident_line(inputs, i, names, words) for i in incidents] or [_("None.")]
        lines.append("")

    lines += [
        f"## {_('Machine-readable')}",
        "",
        "- " + _("[Statuspage API v2 summary](%(url)s): status, components, unresolved incidents and maintenance "
                 "in the Statuspage format") % {"url": absolute(site, 'api/v2/summary.json')},
        "- " + _("[Status JSON](%(url)s): the same with component ids, uptime and response times") % {
            "url": absolute(site, 'api/status.json')},
        "- " + _("[OpenAPI description](%(url)s): every endpoint and its schema") % {"url": absolute(site, 'api/openapi.json')},
        "- " + _("[Daily uptime CSV](%(url)s)") % {"url": absolute(site, 'api/history.csv')},
        "- " + _("[Incident feed (Atom)](%(atom)s), [RSS](%(rss)s), [JSON Feed](%(json)s)") % {
            "atom": absolute(site, 'feed.atom'), "rss": absolute(site, 'feed.rss'), "json": absolute(site, 'feed.json')},
        "- " + _("[Maintenance calendar (iCalendar)](%(url)s)") % {"url": absolute(site, 'maintenance.ics')},
        "",
        f"## {_('Optional')}",
        "",
        "- " + _("[Incident history](%(url)s): every past incident and maintenance") % {"url": absolute(site, 'history/')},
    ]
    lines += [f"- [{_link_text(link.label)}]({link.url})" for link in site.links if link.url.startswith("http")]
    return {"llms.txt": ("\n".join(lines) + "\n").encode("utf-8")}


def _stale_note(last_checked: datetime | None, _: Callable[[str], str]) -> str:
    """ComponentState.stale_note's words, through the catalog."""
    if last_checked is None:
        return _("Not checked yet.")
    return _("No check result since %(time)s: the status shown may be out of date.") % {
        "time": f"{last_checked.astimezone(timezone.utc):{TIME_FORMAT}}"}


def _incident_line(inputs: BuildInputs, incident: Incident, names: dict[str, str], words: Words) -> str:
    now, _ = inputs.now, words.gettext
    affected = ", ".join(_inline(names.get(cid, cid)) for cid in incident.component_ids) or _("all components")
    when = (_("%(start)s to %(end)s") % {"start": f"{incident.scheduled_for:{TIME_FORMAT}}",
                                          "end": f"{incident.scheduled_until:{TIME_FORMAT}}"}
            if incident.is_maintenance and incident.scheduled_for and incident.scheduled_until
            else _("since %(time)s") % {"time": f"{incident.started_at:{TIME_FORMAT}}"})
    state = incident.status_at(now).replace('_', ' ')
    # English keeps its lower-case words; another language has the page's labels ("Behoben").
    state = state if words.language is None else _(state.capitalize())
    impact = "" if incident.is_maintenance else ", " + _("%(impact)s impact") % {
        "impact": incident.impact if words.language is None else _(incident.impact.capitalize())}
    latest = incident.latest
    return (f"- [{_link_text(incident.title)}]({incident_url(inputs.site.info, incident.id)}): "
            + _("%(state)s%(impact)s, %(when)s; affects %(components)s. Latest update (%(time)s): %(text)s") % {
                "state": state, "impact": impact, "when": when, "components": affected,
                "time": f"{latest.time:{TIME_FORMAT}}", "text": _inline(latest.body_text)})


def _inline(text: str) -> str:
    """One line of plain text: user text can neither start a heading nor a list."""
    return re.sub(r"\s+", " ", text).strip()


def _link_text(text: str) -> str:
    return _inline(text).replace("[", "\\[").replace("]", "\\]")
