"""The HTML pages and the small files around them (404, robots.txt, sitemap.xml, CNAME)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import jinja2

from .files import read_cache, write_cache
from .incidents import Incident
from .parallel import fork_map
from .render import render_page
from .urls import iso_seconds
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
        day_notes=incidents_by_day(incidents, site.component_ids, now, site.display.uptime_days,
                                   with_history=inputs.histories.keys()),
    )
    files: dict[str, bytes] = {}

    recent_since = now - timedelta(days=site.display.recent_incident_days)
    recent = tuple(i for i in incidents if not i.is_maintenance and not i.is_open(now)
                   and (i.ended_at(now) or i.started_at) >= recent_since)
    recent_maintenance = tuple(i for i in incidents if i.is_maintenance and i.status_at(now) == "completed"
                               and (i.ended_at(now) or i.started_at) >= recent_since)
    files["index.html"] = render_page(env, "index.html", "index.html", recent=recent,
                                      recent_maintenance=recent_maintenance, **common)

    files.update(_incident_pages(env, inputs, common))

    concerned = inputs.incidents_by_component
    for component_state in status.components:
        component = component_state.component
        path = f"components/{component.id}/index.html"
        related = tuple(concerned.get(component.id, ()))
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


def incidents_by_day(incidents: tuple[Incident, ...], all_ids: tuple[str, ...], now: datetime, days: int,
                     with_history) -> dict[str, dict[date, list[str]]]:
    """For each component's uptime bars: the incidents and maintenance of each UTC day shown."""
    first_day = (now - timedelta(days=days)).astimezone(timezone.utc).date()
    shown = set(with_history)
    notes: dict[str, dict[date, list[str]]] = {}
    for incident in reversed(incidents):  # oldest first, so a day lists them in order
        start = (incident.scheduled_for if incident.is_maintenance and incident.scheduled_for else incident.started_at)
        end = incident.ended_at(now) or now
        if end.astimezone(timezone.utc).date() < first_day or start > now:
            continue
        label = ("Maintenance: " if incident.is_maintenance else "Incident: ") + incident.title
        day = max(start.astimezone(timezone.utc).date(), first_day)
        last = min(end, now).astimezone(timezone.utc).date()
        for component_id in affected_ids(incident, all_ids):
            if component_id not in shown:
                continue
            per_day = notes.setdefault(component_id, {})
            current = day
            while current <= last:
                per_day.setdefault(current, []).append(label)
                current += timedelta(days=1)
    return notes


# --- incident pages, cached ------------------------------------------------------------------
#
# With 10,000 incidents, their pages are most of a build's rendering, and most never change.
# An incident page depends on the incident, the site, the theme and `now`; with the built-in
# templates, `now` shows only through the facts in `_now_facts` and the footer's "Page generated"
# time (tests/test_incremental_build.py checks that this stays so). A page is cached with that
# time cut out, keyed by everything else; with a site's own templates, nothing is cached.
# The built-in incident page shows nothing of the page's status or the histories (base.html's
# description block, the one place that would, is overridden): keep it so, or add them to the key.

PAGE_CACHE = "incident-pages.pickle"
_INCIDENT_TEMPLATES = ("incident.html", "base.html", "_macros.html", "_feeds_and_data.html")
_FOOTER_TIME = '<time datetime="{{ now | isotime }}">{{ now | localtime }}</time>'
_NOW_MARK = b"\0heliograph-now\0"


def _now_facts(incident: Incident, now: datetime) -> tuple:
    return (incident.status_at(now), incident.is_open(now), incident.ended_at(now), incident.duration(now))


def _theme_key(env: jinja2.Environment, inputs: BuildInputs) -> str | None:
    """What, besides the incident and `now`, an incident page is made from; None when the page
    must not be cached (a site's own templates may use `now` in any way)."""
    import hashlib
    import pickle

    from .render import default_theme_dir
    theme = default_theme_dir()
    digest = hashlib.sha256(b"heliograph-incident-pages-1")
    for name in _INCIDENT_TEMPLATES:
        source, filename, _ = env.loader.get_source(env, name)
        if Path(filename).resolve().parent != theme.resolve():
            return None
        digest.update(name.encode() + b"\0" + source.encode() + b"\0")
    try:
        for module in ("pages.py", "render.py", "incidents.py", "incident_loading.py", "status.py"):
            digest.update((Path(__file__).resolve().parent / module).read_bytes())
    except OSError:  # no sources to hash (a frozen install): cache nothing
        return None
    digest.update(jinja2.__version__.encode())
    try:
        digest.update(pickle.dumps((inputs.site.info, inputs.site.components, inputs.site.display)))
    except Exception:
        return None
    return digest.hexdigest()


def _incident_pages(env: jinja2.Environment, inputs: BuildInputs, common: dict[str, Any]) -> dict[str, bytes]:
    from .build import CACHE_DIR
    incidents, now = inputs.incidents.incidents, inputs.now
    theme = _theme_key(env, inputs) if incidents else None
    store = inputs.site.root / CACHE_DIR / PAGE_CACHE
    entries: dict[str, tuple] = {}
    if theme is not None:
        stored = read_cache(store, theme)
        entries = stored if type(stored) is dict else {}
    footer = env.from_string(_FOOTER_TIME).render(now=now).encode("utf-8")
    files: dict[str, bytes] = {}
    kept: dict[str, tuple] = {}
    misses: list[tuple[Incident, str, tuple | None]] = []
    for incident in incidents:
        path = f"incidents/{incident.id}/index.html"
        key = None
        if theme is not None and incident.source_key:
            key = (incident.source_key, _now_facts(incident, now))
            entry = entries.get(path)
            if entry is not None and entry[0] == key:
                files[path] = entry[1].replace(_NOW_MARK, footer)
                kept[path] = entry
                continue
        files[path] = b""  # keeps the page order; rendered below
        misses.append((incident, path, key))
    pages = _render_incident_pages(env, [(incident, path) for incident, path, _ in misses], common)
    changed = bool(misses)
    for (incident, path, key), page in zip(misses, pages):
        files[path] = page
        if key is not None and page.count(footer) <= 1:
            kept[path] = (key, page.replace(footer, _NOW_MARK))
    if theme is not None and (changed or kept.keys() != entries.keys()):
        write_cache(store, theme, kept)
    return files


_PARALLEL_MIN_PAGES = 400  # below this, starting processes costs more than it saves


def _render_incident_pages(env: jinja2.Environment, work: list[tuple[Incident, str]],
                           common: dict[str, Any]) -> list[bytes]:
    """The pages, on every core when there are many (a cold build of a large site)."""
    return fork_map(lambda page: render_page(env, "incident.html", page[1], incident=page[0], **common), work,
                    minimum=_PARALLEL_MIN_PAGES)


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
        lastmod = f"<lastmod>{iso_seconds(stamp)}</lastmod>" if stamp else ""
        rows.append(f"  <url><loc>{escape(url)}</loc>{lastmod}</url>")
    body = "\n".join(rows)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}\n</urlset>\n').encode()


def format_when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
