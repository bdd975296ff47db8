"""Feeds of incidents and maintenance: RSS 2.0, Atom 1.0 and JSON Feed 1.1.

One entry per incident or maintenance. Readers de-duplicate by id, so an entry's id is its
incident page URL and never changes, while its `updated` time follows the newest update. The
content is the update trail, newest first, as hosted status pages publish it. Times inside the
content are in the site's time zone, like the page's.

feed.* are the page's feeds; history.rss and history.atom are the same feeds at the paths hosted
status pages use, so readers moving a subscription over find them; components/<id>/feed.* hold
what concerns one component.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any, Callable, Sequence
from zoneinfo import ZoneInfo


from generator.site.config import Site
from generator.site.incidents import Incident
from generator.render.environment import _zone_name, format_time
from generator.engine.reuse import Outputs, output_key
from generator.status.model import affected_ids, incident_effects
from generator.render.urls import absolute, component_url, incident_url, iso_seconds, logo_url

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs
    from generator.render.i18n import Language

ENTRY_LIMIT = 50  # the most recently updated; older ones stay on the history pages
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
TIME_FORMAT = "%b %-d, %Y %H:%M %Z"


@dataclass(frozen=True)
class FeedEntry:
    """One incident as the feeds list it, in whichever format."""

    id: str  # the incident page URL
    title: str
    url: str
    published: datetime
    updated: datetime
    content_html: str
    summary: str
    categories: tuple[tuple[str, str], ...]  # (component id, component name)
    extension: dict[str, Any]  # the JSON Feed's "_heliograph" object


@dataclass(frozen=True)
class Feed:
    """One feed's channel and entries, written as Atom, RSS or JSON Feed."""

    id: str
    title: str
    description: str
    home_url: str
    entries: tuple[FeedEntry, ...]  # newest update first
    updated: datetime  # the newest entry's update, so an unchanged feed stays byte-identical between builds


def render_feeds(inputs: BuildInputs, outputs: Outputs | None = None, language: Language | None = None) -> dict[str, bytes]:
    """Every feed, its words in `language` (English without one); with `outputs`, a feed whose
    entries are unchanged is KEEP there instead, and the others are left for its render_deferred."""
    alone = outputs is None
    _ = language.translations.gettext if language is not None else (lambda text: text)
    catalog = language.catalog_key if language is not None else None
    outputs = Outputs() if outputs is None else outputs
    site, now = inputs.site, inputs.now
    incidents = sorted(inputs.incidents.incidents, key=lambda i: (i.updated_at, i.id), reverse=True)
    built: dict[str, FeedEntry] = {}

    def entry(incident: Incident) -> FeedEntry:
        # Only the entries some feed lists are built: a feed holds the ENTRY_LIMIT newest.
        if incident.id not in built:
            built[incident.id] = feed_entry(site, incident, now, language)
        return built[incident.id]

    def key(listed: list[Incident]) -> str | None:
        # An entry shows `now` only through its status; an empty feed's updated time is `now`.
        if not listed:
            return output_key(inputs.fingerprint, "feed", now, catalog)
        if not all(i.source_key for i in listed):
            return None
        return output_key(inputs.fingerprint, "feed", [(i.source_key, i.status_at(now)) for i in listed], catalog)

    def add(paths: dict[str, Any], listed: list[Incident], feed: Callable[[], Feed]) -> None:
        # One key for a feed's formats: they list the same entries.
        listed_key = key(listed)
        wanted = [path for path in paths if outputs.wants(path, listed_key and output_key(listed_key, path))]
        if wanted:
            outputs.defer(wanted, lambda: {path: paths[path](made, site, absolute(site.info, path))
                                           for made in (feed(),) for path in wanted})

    info = site.info
    newest = incidents[:ENTRY_LIMIT]
    add({f"{stem}.{kind}": writer for stem in ("feed", "history") for kind, writer in (("atom", atom), ("rss", rss))}
        | {"feed.json": json_feed}, newest,
        lambda: Feed(
            id=info.base_url,
            title=info.title,
            description=info.description or _("Incidents and maintenance on %(title)s") % {"title": info.title},
            home_url=info.base_url,
            entries=tuple(entry(i) for i in newest),
            updated=incidents[0].updated_at if incidents else now,  # the newest update of all
        ))
    by_component = _newest_by_component(incidents, site.component_ids, ENTRY_LIMIT)
    for component in site.components:
        listed = by_component.get(component.id, [])
        folder = f"components/{component.id}"
        add({f"{folder}/feed.atom": atom, f"{folder}/feed.rss": rss}, listed,
            lambda component=component, listed=listed: Feed(
                id=component_url(info, component.id),
                title=f"{component.name} · {info.title}",
                description=_("Incidents and maintenance affecting %(name)s") % {"name": component.name},
                home_url=component_url(info, component.id),
                entries=tuple(entry(i) for i in listed),
                updated=listed[0].updated_at if listed else now,
            ))
    if alone:
        outputs.render_deferred()
    return outputs.files


def _newest_by_component(newest_first: list[Incident], component_ids: tuple[str, ...],
                         limit: int) -> dict[str, list[Incident]]:
    """Each component's `limit` first incidents of `newest_first` (status.incidents_by_component,
    cut short): the pass stops once every component has that many, which on a large site is
    after a quarter of its 10,000 incidents."""
    found: dict[str, list[Incident]] = {component_id: [] for component_id in component_ids}
    unfilled = len(found) if limit > 0 else 0
    for incident in newest_first:
        if not unfilled:
            break
        for component_id in dict.fromkeys(affected_ids(incident, component_ids)):  # each incident once
            listed = found.get(component_id)
            if listed is not None and len(listed) < limit:
                listed.append(incident)
                if len(listed) == limit:
                    unfilled -= 1
    return found


def feed_entry(site: Site, incident: Incident, now: datetime, language: Language | None = None) -> FeedEntry:
    zone = ZoneInfo(site.info.timezone)
    _ = language.translations.gettext if language is not None else (lambda text: text)
    names = {c.id: c.name for c in site.components}
    ids = affected_ids(incident, site.component_ids)
    latest = incident.latest
    return FeedEntry(
        id=incident_url(site.info, incident.id),
        title=incident.title,
        url=incident_url(site.info, incident.id),
        published=incident.created_at,
        updated=incident.updated_at,
        content_html=update_trail_html(incident, names, site.component_ids, zone, language),
        summary=f"{_(latest.status_label)}: {latest.body_text}".strip().rstrip(":"),
        categories=tuple((cid, names[cid]) for cid in ids if cid in names),
        extension={
            "kind": incident.kind,
            "impact": incident.impact,
            "status": incident.status_at(now),
            "components": list(ids),
            "scheduled_for": iso_seconds(incident.scheduled_for) if incident.scheduled_for else None,
            "scheduled_until": iso_seconds(incident.scheduled_until) if incident.scheduled_until else None,
        },
    )


def update_trail_html(incident: Incident, names: dict[str, str], all_ids: Sequence[str], zone: ZoneInfo,
                      language: Language | None = None) -> str:
    """What a reader needs in their feed reader: the window, what is affected, every update; the
    words and times as the page writes them in `language`."""
    _ = language.translations.gettext if language is not None else (lambda text: text)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return escape(_("not set"))
        if language is None or language.is_source:
            return escape(format_time(moment, zone, TIME_FORMAT))
        local = moment.astimezone(zone)
        return escape(f"{language.date_time(local)} {_zone_name(local)}")

    def heading(label: str) -> str:
        return f"<strong>{escape(_(label))}</strong>: "

    parts = []
    if incident.is_maintenance:
        parts.append(f"<p>{heading('Scheduled maintenance')}{when(incident.scheduled_for)} – "
                     f"{when(incident.scheduled_until)}</p>")
    if incident.affected:
        effects = incident_effects(incident, all_ids)
        affected = ", ".join(
            escape(names.get(cid, cid)) + ("" if incident.is_maintenance or not effects.get(cid)
                                           else f" ({escape(_(effects[cid].replace('_', ' ')))})")
            for cid in incident.component_ids)
    else:
        affected = escape(_("All components"))
    parts.append(f"<p>{heading('Affected')}{affected}</p>")
    for update in incident.updates:
        parts.append(f"<p><small>{when(update.time)}</small><br><strong>{escape(_(update.status_label))}</strong></p>")
        if update.body_html:
            parts.append(update.body_html)
    if incident.postmortem_url:
        parts.append(f'<p>{heading("Postmortem")}<a href="{escape(incident.postmortem_url)}">'
                     f"{escape(incident.postmortem_url)}</a></p>")
    elif incident.postmortem_html:
        parts.append(f"<p><strong>{escape(_('Postmortem'))}</strong></p>\n{incident.postmortem_html}")
    return "\n".join(parts)


def atom(feed: Feed, site: Site, self_url: str) -> bytes:
    """Atom 1.0 (RFC 4287), laid out as lxml pretty-prints it (the bytes feedgen wrote before)."""
    info = site.info
    logo = logo_url(info)
    lines = [_DECLARATION, f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{_attribute(info.language)}">',
             _element(1, "id", feed.id), _element(1, "title", feed.title),
             _element(1, "updated", feed.updated.isoformat()),
             "  <author>", _element(2, "name", info.title), _element(2, "uri", info.base_url), "  </author>",
             f'  <link href="{_attribute(self_url)}" rel="self"/>',
             f'  <link href="{_attribute(feed.home_url)}" rel="alternate"/>',
             _element(1, "generator", GENERATOR)]
    if logo:
        lines += [_element(1, "icon", logo), _element(1, "logo", logo)]
    lines.append(_element(1, "subtitle", feed.description))
    scheme = _attribute(absolute(info, "components/"))
    for entry in feed.entries:
        lines += ["  <entry>", _element(2, "id", entry.id), _element(2, "title", entry.title),
                  _element(2, "updated", entry.updated.isoformat()),
                  f'    <content type="html">{_text(entry.content_html)}</content>',
                  f'    <link href="{_attribute(entry.url)}"/>']
        if entry.summary:
            lines.append(_element(2, "summary", entry.summary))
        lines += [f'    <category term="{_attribute(term)}" scheme="{scheme}" label="{_attribute(label)}"/>'
                  for term, label in entry.categories]
        lines += [_element(2, "published", entry.published.isoformat()), "  </entry>"]
    lines.append("</feed>\n")
    return "\n".join(lines).encode("utf-8")


def rss(feed: Feed, site: Site, self_url: str) -> bytes:
    """RSS 2.0, laid out as lxml pretty-prints it (the bytes feedgen wrote before). Readers show an
    item's <description> as HTML, so it carries the whole update trail; the channel's description
    is text, so it is escaped once more to stay text."""
    info = site.info
    logo = logo_url(info)
    lines = [_DECLARATION, '<rss xmlns:atom="http://www.w3.org/2005/Atom" '
             'xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">', "  <channel>",
             _element(2, "title", feed.title), _element(2, "link", feed.home_url),
             _element(2, "description", escape(feed.description)),
             f'    <atom:link href="{_attribute(self_url)}" rel="self"/>',
             _element(2, "docs", "http://www.rssboard.org/rss-specification"), _element(2, "generator", GENERATOR)]
    if logo and not logo.lower().endswith(".svg"):  # an RSS <image> must be GIF, JPEG or PNG
        lines += ["    <image>", _element(3, "url", logo), _element(3, "title", feed.title),
                  _element(3, "link", feed.home_url), "    </image>"]
    lines += [_element(2, "language", info.language), _element(2, "lastBuildDate", _rfc2822(feed.updated))]
    domain = _attribute(absolute(info, "components/"))
    for entry in feed.entries:
        lines += ["    <item>", _element(3, "title", entry.title), _element(3, "link", entry.url),
                  _element(3, "description", entry.content_html),
                  f'      <guid isPermaLink="true">{_text(entry.id)}</guid>']
        lines += [f'      <category domain="{domain}">{_text(label)}</category>' for _, label in entry.categories]
        lines += [_element(3, "pubDate", _rfc2822(entry.published)), "    </item>"]
    lines += ["  </channel>", "</rss>\n"]
    return "\n".join(lines).encode("utf-8")


GENERATOR = "Heliograph"
_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>"
# What XML 1.0 cannot hold at all (control characters but tab and line ends, lone surrogates,
# U+FFFE and U+FFFF): dropped, where lxml refused the whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    # str.replace, not str.translate, which is many times slower on long text.
    return (_NOT_XML.sub("", value) if _NOT_XML.search(value) else value).replace("&", "&amp;").replace(
        "<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attribute(value: str) -> str:
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _element(depth: int, name: str, value: str) -> str:
    """One element holding text, at `depth` levels of indentation ("<x/>" when it is empty)."""
    text = _text(value)
    return f"{'  ' * depth}<{name}>{text}</{name}>" if text else f"{'  ' * depth}<{name}/>"


def _rfc2822(moment: datetime) -> str:
    """"Sat, 21 Nov 2026 17:11:00 +0000": English names whatever the locale, as RSS wants.
    (What email.utils.format_datetime writes, without importing email and socket into every
    build that renders a feed.)"""
    return (f"{_WEEKDAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year:04d} "
            f"{moment:%H:%M:%S} {moment.strftime('%z') or '-0000'}")


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def json_feed(feed: Feed, site: Site, self_url: str) -> bytes:
    info = site.info
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": self_url,
        "description": feed.description,
        "language": info.language,
        "authors": [{"name": info.title, "url": info.base_url}],
    }
    logo = logo_url(info)
    if logo:
        document["icon"] = logo
        document["favicon"] = logo
    document["items"] = [
        {
            "id": entry.id,
            "url": entry.url,
            "title": entry.title,
            "content_html": entry.content_html,
            "summary": entry.summary,
            "date_published": iso_seconds(entry.published),
            "date_modified": iso_seconds(entry.updated),
            "tags": [label for _, label in entry.categories],
            "_heliograph": entry.extension,
        }
        for entry in feed.entries
    ]
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
