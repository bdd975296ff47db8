"""The HTML pages and the small files around them (404, robots.txt, sitemap.xml, CNAME)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import jinja2

from .incidents import Incident
from .render import render_page
from .status import affected_ids

if TYPE_CHECKING:
    from .build import BuildInputs


@dataclass(frozen=True)
class MonthOfIncidents:
    label: str  # "November 2026"
    incidents: tuple[Incident, ...]


def render_pages(env: jinja2.Environment, inputs: BuildInputs) -> dict[str, bytes]:
    site, now, status = inputs.site, inputs.now, inputs.status
    incidents = inputs.incidents.incidents
    names = {c.id: c.name for c in site.components}
    common: dict[str, Any] = dict(
        now=now, status=status, component_names=names, histories=inputs.histories,
        display=site.display, all_component_ids=site.component_ids, affected_ids=affected_ids,
    )
    files: dict[str, bytes] = {}

    recent_since = now - timedelta(days=site.display.recent_incident_days)
    recent = tuple(i for i in incidents if not i.is_maintenance and not i.is_open(now)
                   and (i.ended_at(now) or i.started_at) >= recent_since)
    recent_maintenance = tuple(i for i in incidents if i.is_maintenance and i.status_at(now) == "completed"
                               and (i.ended_at(now) or i.started_at) >= recent_since)
    files["index.html"] = render_page(env, "index.html", "index.html", recent=recent,
                                      recent_maintenance=recent_maintenance, **common)

    for incident in incidents:
        path = f"incidents/{incident.id}/index.html"
        files[path] = render_page(env, "incident.html", path, incident=incident, **common)

    for component_state in status.components:
        component = component_state.component
        path = f"components/{component.id}/index.html"
        related = tuple(i for i in incidents if component.id in affected_ids(i, site.component_ids))
        files[path] = render_page(env, "component.html", path, state=component_state,
                                  history=inputs.histories.get(component.id), incidents=related, **common)

    files.update(_history_pages(env, incidents, site.display.history_page_size, common))
    files["404.html"] = render_page(env, "404.html", "404.html", root=site.info.base_path, **common)
    files["robots.txt"] = f"User-agent: *\nAllow: /\n\nSitemap: {site.info.base_url}sitemap.xml\n".encode()
    files["sitemap.xml"] = _sitemap(site.info.base_url, [p for p in files if p.endswith("index.html")], inputs)
    files[".nojekyll"] = b""  # GitHub Pages: serve files as they are, no Jekyll pass
    if site.info.custom_domain:
        files["CNAME"] = (site.info.custom_domain + "\n").encode()
    return files


def _history_pages(env: jinja2.Environment, incidents: tuple[Incident, ...], page_size: int,
                   common: dict[str, Any]) -> dict[str, bytes]:
    """history/index.html, history/2/index.html, ...: every incident and maintenance, newest first."""
    pages = [incidents[i:i + page_size] for i in range(0, len(incidents), page_size)] or [()]
    files = {}
    for number, chunk in enumerate(pages, start=1):
        path = "history/index.html" if number == 1 else f"history/{number}/index.html"
        files[path] = render_page(env, "history.html", path, months=_by_month(chunk), page_number=number,
                                  page_count=len(pages), **common)
    return files


def _by_month(incidents: tuple[Incident, ...]) -> tuple[MonthOfIncidents, ...]:
    months: list[MonthOfIncidents] = []
    for incident in incidents:
        label = (incident.scheduled_for or incident.started_at).strftime("%B %Y")
        if months and months[-1].label == label:
            months[-1] = MonthOfIncidents(label, months[-1].incidents + (incident,))
        else:
            months.append(MonthOfIncidents(label, (incident,)))
    return tuple(months)


def history_page_link(number: int) -> str:
    return "history/index.html" if number == 1 else f"history/{number}/index.html"


def _sitemap(base_url: str, page_paths: list[str], inputs: BuildInputs) -> bytes:
    updated = {f"incidents/{i.id}/index.html": i.updated_at for i in inputs.incidents.incidents}
    rows = []
    for path in sorted(page_paths):
        url = base_url + path.removesuffix("index.html")
        stamp = updated.get(path)
        lastmod = f"<lastmod>{stamp:%Y-%m-%dT%H:%M:%SZ}</lastmod>" if stamp else ""
        rows.append(f"  <url><loc>{escape(url)}</loc>{lastmod}</url>")
    body = "\n".join(rows)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}\n</urlset>\n').encode()


def format_when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
