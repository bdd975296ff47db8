"""Atlassian Statuspage (and anything that publishes its API, Heliograph included): a page by its
URL, or a folder of its saved `api/v2/` documents.

    summary.json                 page, components and groups, unresolved incidents, active maintenance
    incidents.json               the last 50 incidents, every update
    scheduled-maintenances.json  the last 50 maintenance windows, every update

Components and groups become components with `group:`; incidents and maintenance become
incident files with every update, its status and time, and the components each affected
(the worst effect any update gave them). Times are kept to the minute, as incident files
write them. What Statuspage keeps that a Heliograph site does not (a component's current
status set by hand, `only_show_if_degraded`, the page's own ids, postmortems) is reported.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from generator.importers.model import (ImportedComponent, ImportedIncident, ImportedSite, ImportedUpdate, NotCarried,
                                      SourceError)
from generator.site.authoring import DEFAULT_MESSAGES, slugify
from generator.site.paths import check_inside
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DOCUMENTS = ("summary.json", "incidents.json", "scheduled-maintenances.json")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a page's JSON is kilobytes; a larger answer is not one
FETCH_TIMEOUT = 20.0

INCIDENT_STATUSES = {"investigating": "investigating", "identified": "identified", "monitoring": "monitoring",
                     "resolved": "resolved", "postmortem": "resolved"}
MAINTENANCE_STATUSES = {"scheduled": "scheduled", "in_progress": "in_progress", "verifying": "verifying",
                        "completed": "completed"}
EFFECTS = ("degraded_performance", "partial_outage", "major_outage")  # worst last
_HELIOGRAPH_PATH = re.compile(r"/incidents/(\d{4}-\d{2}-\d{2}-[a-z0-9-]+)/?$")


def read(source: str) -> ImportedSite:
    """The page at `source`: an http(s) URL of a status page, or a folder holding its api/v2 JSON."""
    if re.match(r"https?://", source):
        documents = _fetch(source)
    else:
        documents = _from_folder(Path(source))
    return from_documents(documents)


def _from_folder(folder: Path) -> dict[str, tuple[str, Any]]:
    """name -> (the file as the user would name it, its JSON), for the documents found."""

    if (folder / "api" / "v2").is_dir():
        folder = folder / "api" / "v2"
    if not folder.is_dir():
        raise SourceError(str(folder), "not a folder of Statuspage documents (summary.json, incidents.json)")
    found = {}
    for name in DOCUMENTS:
        path = folder / name
        if not path.is_file():  # saved under a prefix, e.g. cloudflare-summary.json
            named = sorted(p for p in folder.glob(f"*{name}") if p.name[: -len(name)].endswith(("-", "_", ".")))
            if len(named) != 1:
                continue
            path = named[0]
        check_inside(path, folder)  # a link leading out of the folder is not read
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise SourceError(str(path), f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB: not a status page document")
        found[name] = (str(path), _json(path.read_bytes(), str(path)))
    if "summary.json" not in found and "incidents.json" not in found:
        raise SourceError(str(folder), "holds neither summary.json nor incidents.json")
    return found


def _fetch(url: str) -> dict[str, tuple[str, Any]]:
    import httpx  # not at the top: 104 ms of imports, paid only here

    base = url.rstrip("/")
    base = base[: -len("/api/v2")] if base.endswith("/api/v2") else base
    found = {}
    with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True, headers={"Accept": "application/json"}) as client:
        for name in DOCUMENTS:
            address = f"{base}/api/v2/{name}"
            try:
                with client.stream("GET", address) as response:
                    if response.status_code == 404 and name != "summary.json":
                        continue
                    if response.status_code != 200:
                        raise SourceError(address, f"HTTP {response.status_code}: not a Statuspage API")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > MAX_DOCUMENT_BYTES:
                            raise SourceError(address, "the answer is too large to be a status page document")
            except httpx.HTTPError as error:
                raise SourceError(address, f"could not be read: {error}") from None
            found[name] = (address, _json(bytes(body), address))
    return found


def _json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", None)
        raise SourceError(f"{where}:{line}:{getattr(error, 'colno', 1)}" if line else where,
                          f"not JSON: {getattr(error, 'msg', error)}") from None


# --- the documents, as plain data --------------------------------------------------------------


def from_documents(documents: dict[str, tuple[str, Any]]) -> ImportedSite:
    site = ImportedSite()
    summary_where, summary = documents.get("summary.json", ("summary.json", {}))
    page = (summary or {}).get("page") or next((doc.get("page") for _, doc in documents.values()
                                                if isinstance(doc, dict) and doc.get("page")), {}) or {}
    site.title = _text(page.get("name"))
    url = _text(page.get("url"))
    site.base_url = url if url and url.endswith("/") else (url + "/" if url else None)
    site.timezone = _zone(_text(page.get("time_zone")), site, summary_where)
    ids = _Ids()
    groups: dict[str, str] = {}  # group's Statuspage id -> its name
    listed = [c for c in (summary or {}).get("components") or [] if isinstance(c, dict)]
    # Where each component is in summary.json, as a JSON pointer for the report (JSON keeps no lines).
    pointers = {id(c): f"/components/{n}" for n, c in enumerate((summary or {}).get("components") or [])}
    for component in listed:
        if component.get("group"):
            groups[str(component.get("id"))] = _text(component.get("name")) or "Group"
    for component in sorted(listed, key=lambda c: (c.get("position") or 0)):
        if component.get("group"):
            continue
        name = _text(component.get("name")) or "Component"
        site.components.append(ImportedComponent(
            id=ids.of(str(component.get("id")), name), name=name, description=_text(component.get("description")),
            group=groups.get(str(component.get("group_id"))) if component.get("group_id") else None))
        if component.get("only_show_if_degraded"):
            pointer = f"{pointers[id(component)]}/only_show_if_degraded"
            site.not_carried.append(NotCarried(summary_where, None, f"{pointer}: component {name!r}: "
                                               "only_show_if_degraded "
                                               "(Heliograph shows every component)"))
    seen: set[str] = set()
    for name, key, maintenance in (("incidents.json", "incidents", False),
                                   ("scheduled-maintenances.json", "scheduled_maintenances", True),
                                   ("summary.json", "incidents", False),
                                   ("summary.json", "scheduled_maintenances", True)):
        where, document = documents.get(name, (name, None))
        for number, raw in enumerate((document or {}).get(key) or []):
            if not isinstance(raw, dict) or str(raw.get("id")) in seen:
                continue
            seen.add(str(raw.get("id")))
            incident = _incident(raw, maintenance or "scheduled_for" in raw and raw.get("scheduled_for") is not None,
                                 where, f"/{key}/{number}", ids, site)
            if incident is not None:
                site.incidents.append(incident)
    open_effects = {cid for incident in site.incidents if incident.updates[0].status not in ("resolved", "completed")
                    for cid in incident.components}
    for component in listed:
        cid = ids.by_source.get(str(component.get("id")))
        if not component.get("group") and component.get("status") not in (None, "operational") and cid not in open_effects:
            site.not_carried.append(NotCarried(summary_where, None, f"{pointers[id(component)]}/status: "
                                               f"component {component.get('name')!r}: its status "
                                               f"{component.get('status')!r}, set by hand (a Heliograph component's "
                                               "status comes from its checks and open incidents)"))
    site.components.extend(ids.unlisted)
    for component in ids.unlisted:
        site.not_carried.append(NotCarried(summary_where, None, f"component {component.name!r} is named by incidents "
                                           "but not listed in summary.json: added without a group"))
    return site


class _Ids:
    """Heliograph ids for Statuspage components: from their names, each once."""

    def __init__(self) -> None:
        self.by_source: dict[str, str] = {}
        self.taken: set[str] = set()
        self.unlisted: list[ImportedComponent] = []

    def of(self, source_id: str, name: str) -> str:
        if source_id in self.by_source:
            return self.by_source[source_id]
        base = slugify(name)[:40].strip("-") or "component"
        candidate, number = base, 2
        while candidate in self.taken:
            candidate, number = f"{base}-{number}", number + 1
        self.taken.add(candidate)
        self.by_source[source_id] = candidate
        return candidate

    def named_only_by_incidents(self, source_id: str, name: str) -> str:
        if source_id not in self.by_source:
            self.unlisted.append(ImportedComponent(id=self.of(source_id, name), name=name))
        return self.by_source[source_id]


def _incident(raw: dict, maintenance: bool, where: str, pointer: str, ids: _Ids,
              site: ImportedSite) -> ImportedIncident | None:
    """The incident at `pointer` (a JSON pointer into `where`, named in what is reported)."""
    title = _text(raw.get("name")) or "Untitled"
    statuses = MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES
    updates = []
    effects: dict[str, str | None] = {}
    for component in raw.get("components") or []:
        if isinstance(component, dict) and component.get("id"):
            effects[ids.named_only_by_incidents(str(component["id"]), _text(component.get("name")) or "Component")] = None
    rounded = False
    for number, update in enumerate(raw.get("incident_updates") or []):
        if not isinstance(update, dict):
            continue
        status = statuses.get(str(update.get("status")))
        moment = _time(update.get("display_at")) or _time(update.get("created_at"))
        if status is None or moment is None:
            site.not_carried.append(NotCarried(where, None, f"{pointer}/incident_updates/{number}: "
                                               f"incident {title!r}: an update with status "
                                               f"{update.get('status')!r} at {update.get('display_at')!r}"))
            continue
        rounded |= moment.second != 0 or moment.microsecond != 0
        body = _text(update.get("body")) or DEFAULT_MESSAGES[status]
        updates.append(ImportedUpdate(moment, status, body))
        for affected in update.get("affected_components") or []:
            if not isinstance(affected, dict) or not affected.get("code"):
                continue
            cid = ids.named_only_by_incidents(str(affected["code"]), _text(affected.get("name")) or "Component")
            new = affected.get("new_status")
            worst = effects.get(cid)
            if new in EFFECTS and (worst is None or EFFECTS.index(new) > EFFECTS.index(worst)):
                effects[cid] = new
            else:
                effects.setdefault(cid, worst)
    if not updates:
        site.not_carried.append(NotCarried(where, None, f"{pointer}: incident {title!r} has no update Heliograph "
                                           "can show: left out"))
        return None
    if rounded:
        site.not_carried.append(NotCarried(where, None, f"{pointer}/incident_updates: incident {title!r}: "
                                           "update times to the second "
                                           "(incident files keep minutes)"))
    shortlink = _text(raw.get("shortlink")) or ""
    # A postmortem's text where the API gives it; else, when the page says there is one, its page.
    postmortem = _text(raw.get("postmortem_body")) or (shortlink if raw.get("status") == "postmortem"
                                                       and shortlink.startswith("https://") else None)
    impact = str(raw.get("impact") or "none")
    if impact not in ("none", "minor", "major", "critical"):
        impact = "none"
    own = _HELIOGRAPH_PATH.search(shortlink)  # a Heliograph page's own incident id: kept as the file name
    return ImportedIncident(
        title=title, impact=impact, updates=tuple(sorted(updates, key=lambda u: u.time, reverse=True)),
        components=effects, maintenance=maintenance,
        scheduled_for=_time(raw.get("scheduled_for")) if maintenance else None,
        scheduled_until=_time(raw.get("scheduled_until")) if maintenance else None,
        source=f"{where}: {title}", id_hint=own.group(1) if own else None, postmortem=postmortem)


def _zone(name: str | None, site: ImportedSite, where: str) -> str | None:

    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        site.not_carried.append(NotCarried(where, None, f"/page/time_zone: {name!r} is not an IANA zone: UTC is used"))
        return None
    return name


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else None
