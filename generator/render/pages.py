"""The HTML pages and the small files around them (404, robots.txt, sitemap.xml, CNAME)."""

from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence
from html import escape

import jinja2
from markupsafe import Markup

from generator.site.incidents import Incident
from generator.site.subscribe import SubscribeSettings
from generator.render.environment import day_bars_key, relative_root, render_page
from generator.render.kept_pages import KeptPageClock, StatusShown, template_set_key
from generator.engine.reuse import Outputs, output_key
from generator.render.urls import iso_seconds
from generator.status.model import affected_ids

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs


@dataclass(frozen=True)
class MonthOfIncidents:
    """The incidents of one month, as the history pages group them."""

    label: str  # "November 2026"
    incidents: tuple[Incident, ...]
    first_day: date | None = None  # a day of the month, for the month_label filter (the page's language)


def page_context(inputs: BuildInputs) -> dict[str, Any]:
    """What every page rendered on every build (the front page, 404, Subscribe) is given."""
    site, now = inputs.site, inputs.now
    return dict(
        now=now, status=inputs.status, component_names={c.id: c.name for c in site.components},
        histories=inputs.histories, display=site.display, all_component_ids=site.component_ids,
        affected_ids=affected_ids, day_notes=inputs.day_notes,
    )


def kept_page_context(common: dict[str, Any]) -> dict[str, Any]:
    """What every page kept between builds is given (see kept_pages): what the site's settings
    say, which every key covers through inputs.fingerprint, and `now` that cannot be shown. The
    rest each kind of page adds, with its key covering it."""
    return dict(now=KeptPageClock.of(common["now"]), component_names=common["component_names"],
                display=common["display"], all_component_ids=common["all_component_ids"],
                affected_ids=affected_ids)


def render_front_page(env: jinja2.Environment, inputs: BuildInputs, common: dict[str, Any], outputs: Outputs) -> None:
    """index.html: rendered on every build, from two parts that change less often."""
    site, now, status = inputs.site, inputs.now, inputs.status
    recent, recent_maintenance = _recently_ended(inputs.incidents.incidents, now,
                                                 now - timedelta(days=site.display.recent_incident_days))
    front = dict(common, recent=recent, recent_maintenance=recent_maintenance, root="", page_path="index.html")
    kept = dict(kept_page_context(common), root="", page_path="index.html")
    listed = sorted(recent + recent_maintenance, key=lambda i: i.updated_at, reverse=True)
    recent_theme = template_set_key(env, "_recent_incidents.html")
    card_theme = template_set_key(env, "_macros.html")
    card_of = env.get_template("_macros.html").module.incident_card
    # Each incident's card is kept too: an edit changes one card of the hundreds listed.
    card_keys = _card_keys(inputs, card_theme, listed)
    card = lambda incident: Markup(outputs.fragment(card_keys[incident.id], lambda: str(card_of(  # noqa: E731
        incident, kept["now"], "", common["component_names"], common["all_component_ids"], affected_ids))))
    recent_html = outputs.fragment(
        recent_theme and _listing_key(inputs, recent_theme, "index.html", tuple(listed), site.display.recent_incident_days),
        lambda: env.get_template("_recent_incidents.html").render(
            kept, recent=recent, recent_maintenance=recent_maintenance, card=card),
        parts=list(card_keys.values()))
    components_theme = template_set_key(env, "_components.html")
    shown = StatusShown(status.description, status.indicator, status.layout)
    components_html = outputs.fragment(
        components_theme and output_key(
            inputs.fingerprint, components_theme, "index.html", shown,
            [(history_key(inputs.histories.get(c.id)), common["day_notes"].get(c.id)) for c in site.components]),
        lambda: env.get_template("_components.html").render(
            kept, status=shown, histories=inputs.histories, day_notes=common["day_notes"]),
        parts=[_bars_key(env, inputs, common, c.id) for c in site.components if c.show_uptime])
    outputs.add({"index.html": render_page(env, "index.html", "index.html", recent_incidents=Markup(recent_html),
                                           component_list=Markup(components_html), **front)})


def _recently_ended(incidents: tuple[Incident, ...], now: datetime, since: datetime
                    ) -> tuple[tuple[Incident, ...], tuple[Incident, ...]]:
    """The incidents resolved since `since`, and the maintenance completed since then (or
    started then, if it completed with no end written down)."""
    recent, maintenance = [], []
    for incident in incidents:  # all 10,000 of a large site: the common case first
        if not incident.is_maintenance:
            # An incident is over exactly when an update resolved it, and then it ended there.
            if incident.resolved_at is not None and incident.resolved_at >= since:
                recent.append(incident)
        elif incident.status_at(now) == "completed" and (incident.ended_at(now) or incident.started_at) >= since:
            maintenance.append(incident)
    return tuple(recent), tuple(maintenance)


def _card_keys(inputs: BuildInputs, theme: str | None, incidents: list[Incident]) -> dict[str, str | None]:
    """Each incident's key for its card on the front page (None: rendered every time)."""
    if theme is None:
        return {incident.id: None for incident in incidents}
    shared = output_key(inputs.fingerprint, theme, "card")
    known = inputs.incident_facts
    return {incident.id: known[incident.id] and f"{shared}|{known[incident.id]}" for incident in incidents}


def render_pages(env: jinja2.Environment, inputs: BuildInputs, common: dict[str, Any], outputs: Outputs) -> None:
    """Every page but the front page (render_front_page), in `env`'s language."""
    site, status = inputs.site, inputs.status
    _incident_pages(env, inputs, common, outputs)

    theme = template_set_key(env, "component.html")
    list_theme = template_set_key(env, "_incident_list.html")
    kept = kept_page_context(common)
    concerned = inputs.incidents_by_component
    for component_state in status.components:
        component = component_state.component
        path = f"components/{component.id}/index.html"
        related = tuple(concerned.get(component.id, ()))
        history = inputs.histories.get(component.id)
        # The page's key names its incident list's, which covers the incidents.
        list_key = list_theme and _listing_key(inputs, list_theme, path, related)
        notes = common["day_notes"].get(component.id)
        key = theme and list_key and output_key(inputs.fingerprint, theme, path, list_key, component_state,
                                                history_key(history), notes, inputs.lateness)
        if outputs.wants(path, key, fragments=(list_key, _bars_key(env, inputs, common, component.id))):
            context = dict(kept, state=component_state, history=history, incidents=related, component=component,
                           lateness=inputs.lateness,
                           day_notes={component.id: notes} if notes is not None else {},
                           root=relative_root(path), page_path=path)

            def component_page(path: str = path, context: dict = context, list_key: str | None = list_key) -> dict:
                listing = outputs.fragment(list_key, lambda: env.get_template("_incident_list.html").render(context))
                return {path: render_page(env, "component.html", path, incident_list=Markup(listing), **context)}

            outputs.defer([path], component_page)

    _history_pages(env, inputs, common, outputs)
    subscribe = site.subscribe or SubscribeSettings()
    outputs.add({"subscribe/index.html": render_page(env, "subscribe.html", "subscribe/index.html", subscribe=subscribe,
                                                     components=site.components, **common)})
    # Its links are absolute: a host serves it at whatever address was not found. A host that
    # serves the nearest 404.html up the path (Cloudflare Pages) shows each language its own.
    prefix = env.globals.get("language_prefix", "")
    outputs.add({"404.html": render_page(env, "404.html", "404.html", root=site.info.base_path + prefix,
                                         site_root=site.info.base_path, **common)})


def render_site_files(env: jinja2.Environment, inputs: BuildInputs, common: dict[str, Any], outputs: Outputs) -> None:
    """The files a site has once whatever its languages: robots.txt, sitemap.xml (listing every
    language's pages), .nojekyll and CNAME."""
    site, incidents = inputs.site, inputs.incidents.incidents
    files = {"robots.txt": f"User-agent: *\nAllow: /\n\nSitemap: {site.info.base_url}sitemap.xml\n".encode()}
    page_paths = sorted({"index.html"}.union(p for p in outputs.files if p.endswith("index.html")))
    if outputs.wants("sitemap.xml", _sitemap_key(inputs, page_paths)):
        updated = {f"{prefix}incidents/{i.id}/index.html": i.updated_at  # their lastmod dates
                   for prefix in map(site.info.language_prefix, site.info.page_languages) for i in incidents}
        files["sitemap.xml"] = _sitemap(site.info.base_url, page_paths, updated)
    files[".nojekyll"] = b""  # GitHub Pages: serve files as they are, no Jekyll pass
    if site.info.custom_domain:
        files["CNAME"] = (site.info.custom_domain + "\n").encode()
    outputs.add(files)




class LanguageOutputs:
    """Where one more of site.yaml's `languages` renders its pages: each path under the language's
    folder ("de/index.html"). Keys and kept fragments are the site's own: each already differs
    from another language's, as it names its language's catalog (kept_pages.template_set_key)."""

    def __init__(self, outputs: Outputs, prefix: str):
        self.outputs, self.prefix = outputs, prefix

    def wants(self, path: str, key: str | None, *, fragments: Sequence[str | None] = ()) -> bool:
        return self.outputs.wants(self.prefix + path, key, fragments=fragments)

    def fragment(self, key: str | None, render: Callable[[], str], *, parts: Sequence[str | None] = ()) -> str:
        return self.outputs.fragment(key, render, parts=parts)

    def defer(self, paths: Sequence[str], render: Callable[[], Mapping[str, bytes]]) -> None:
        prefix = self.prefix
        self.outputs.defer([prefix + path for path in paths],
                           lambda: {prefix + path: content for path, content in render().items()})

    def add(self, files: Mapping[str, bytes]) -> None:
        self.outputs.add({self.prefix + path: content for path, content in files.items()})


# --- pages a rebuild can keep ----------------------------------------------------------------
#
# With 10,000 incidents, their pages are most of a build's rendering, and few change between
# builds. A page's key (see `reuse`) names what it is made of: its templates, from whichever folder
# (kept_pages.template_set_key), and what its context holds (kept_page_context and what each kind
# adds). tests/test_incremental_build.py checks that equal keys give equal pages, with the built-in
# theme and with a site's own templates.


def _bars_key(env: jinja2.Environment, inputs: BuildInputs, common: dict[str, Any], component_id: str) -> str | None:
    """The key of the day bars a page shows for a component, kept with the page when it is kept."""
    return day_bars_key(inputs.histories.get(component_id), common["day_notes"].get(component_id),
                        env.globals["catalog_key"])


def history_key(history: Any) -> Any:
    """What stands for a component's history in a key: its source_key, or all of it."""
    return history.source_key if history is not None and history.source_key else history




def _listing_key(inputs: BuildInputs, theme: str, path: str, incidents: tuple[Incident, ...], *more: Any) -> str | None:
    known = inputs.incident_facts
    return _facts_key(inputs, theme, path, [known[incident.id] for incident in incidents], *more)


def _facts_key(inputs: BuildInputs, theme: str, path: str, facts: list[str | None], *more: Any) -> str | None:
    """The key of an output listing incidents whose incident_facts are `facts`."""
    return None if None in facts else output_key(inputs.fingerprint, theme, path, "\n".join(facts), *more)


def _incident_pages(env: jinja2.Environment, inputs: BuildInputs, common: dict[str, Any], outputs: Outputs) -> None:
    theme = template_set_key(env, "incident.html") if inputs.incidents.incidents else None
    kept = kept_page_context(common)
    # 10,000 keys: each is the page's facts after one digest of what all incident pages share
    shared = theme and output_key(inputs.fingerprint, theme)
    for incident, facts in zip(inputs.incidents.incidents, inputs.incident_facts_in_order):
        path = f"incidents/{incident.id}/index.html"
        if outputs.wants(path, shared and facts and f"{shared}|{path}|{facts}"):
            outputs.defer([path], lambda incident=incident, path=path: {
                path: render_page(env, "incident.html", path, incident=incident, **kept)})


def _history_pages(env: jinja2.Environment, inputs: BuildInputs, common: dict[str, Any], outputs: Outputs) -> None:
    """history/index.html, history/2/index.html, ...: every incident and maintenance, newest first."""
    incidents, page_size = inputs.incidents.incidents, inputs.site.display.history_page_size
    pages = [incidents[i:i + page_size] for i in range(0, len(incidents), page_size)] or [()]
    theme = template_set_key(env, "history.html")
    shown = StatusShown(inputs.status.description, inputs.status.indicator)
    kept = dict(kept_page_context(common), status=shown)
    facts = inputs.incident_facts_in_order
    for number, chunk in enumerate(pages, start=1):
        path = history_page_link(number)
        start = (number - 1) * page_size
        key = theme and _facts_key(inputs, theme, path, facts[start:start + page_size], number, len(pages), shown)
        if outputs.wants(path, key):
            outputs.defer([path], lambda path=path, chunk=chunk, number=number: {
                path: render_page(env, "history.html", path, months=_by_month(chunk), page_number=number,
                                  page_count=len(pages), **kept)})


def _by_month(incidents: tuple[Incident, ...]) -> tuple[MonthOfIncidents, ...]:
    months: list[MonthOfIncidents] = []
    for incident in incidents:
        label = (incident.scheduled_for or incident.started_at).strftime("%B %Y")
        if months and months[-1].label == label:
            months[-1] = MonthOfIncidents(label, months[-1].incidents + (incident,), months[-1].first_day)
        else:
            months.append(MonthOfIncidents(label, (incident,), (incident.scheduled_for or incident.started_at).date()))
    return tuple(months)


def history_page_link(number: int) -> str:
    return "history/index.html" if number == 1 else f"history/{number}/index.html"


def _sitemap_key(inputs: BuildInputs, page_paths: list[str]) -> str:
    """What sitemap.xml is made of: the pages, and when each incident was last updated. Written
    out as text and numbers: pickling 10,000 datetimes took 13 ms of every rebuild."""
    incidents = inputs.incidents.incidents
    digest = hashlib.blake2b(output_key(inputs.fingerprint, "sitemap").encode(), digest_size=20)
    digest.update("\n".join(page_paths).encode())
    digest.update("\n".join([incident.id for incident in incidents]).encode())
    digest.update(array("d", [incident.updated_at.timestamp() for incident in incidents]).tobytes())
    return digest.hexdigest()


def _sitemap(base_url: str, page_paths: list[str], updated: dict[str, datetime]) -> bytes:
    """`page_paths` sorted; `updated`: the lastmod of some of them."""
    rows = []
    for path in page_paths:
        url = base_url + path.removesuffix("index.html")
        stamp = updated.get(path)
        lastmod = f"<lastmod>{iso_seconds(stamp)}</lastmod>" if stamp else ""
        rows.append(f"  <url><loc>{escape(url, quote=False)}</loc>{lastmod}</url>")
    body = "\n".join(rows)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}\n</urlset>\n').encode()
