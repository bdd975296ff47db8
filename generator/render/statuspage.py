"""The Statuspage public API v2 as static files under api/v2/, for the clients that already read it.

Exporters, chat bots and aggregators fail on a missing key or an unknown enum value, so every
object carries the full field set (null where empty) and only the values that API defines.
See /work/shared/reference/formats.md, "Statuspage public API v2".
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, TYPE_CHECKING, Any, Sequence

from generator.site.incidents import Incident, Update
from generator.status.model import ComponentState, GroupState, affected_ids, incident_effects
from generator.render.urls import incident_url, iso_ms

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs

LIST_LIMIT = 50  # what Statuspage's incidents.json and scheduled-maintenances.json hold
UNRESOLVED = ("investigating", "identified", "monitoring")
UPCOMING = ("scheduled",)
ACTIVE = ("in_progress", "verifying")
ID_LENGTH = 12


@lru_cache(maxsize=1 << 16)  # the same few ids are asked for thousands of times a build
def stable_id(base_url: str, kind: str, key: str) -> str:
    """A short lowercase alphanumeric id (base32 of a hash) that stays the same for the same object.

    The page's base URL is part of it so two pages' objects never share an id in an aggregator.
    """
    digest = hashlib.sha256(f"{base_url}\x00{kind}\x00{key}".encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:ID_LENGTH]


@dataclass(frozen=True)
class StatuspageDocuments:
    """The objects the api/v2 documents are made of, each worked out once."""

    page: dict[str, Any]
    status: dict[str, str]
    components: list[dict[str, Any]]
    incidents: list[dict[str, Any]]  # newest first, maintenance excluded
    maintenances: list[dict[str, Any]]  # most recent scheduled window first


def render_statuspage(inputs: BuildInputs) -> dict[str, bytes]:
    """Every document under api/v2/, by path. Rendered on every build: each states the moment it
    was built (page.updated_at), so only a build at that same moment could keep one."""
    docs = statuspage_documents(inputs)
    page, status = docs.page, docs.status
    unresolved = [i for i in docs.incidents if i["status"] in UNRESOLVED]
    soonest_first = sorted(docs.maintenances, key=lambda m: m["scheduled_for"] or "")
    upcoming = [m for m in soonest_first if m["status"] in UPCOMING]
    active = [m for m in soonest_first if m["status"] in ACTIVE]
    bodies: dict[str, dict[str, Any]] = {
        "summary.json": {"page": page, "components": docs.components, "incidents": unresolved,
                         "scheduled_maintenances": active + upcoming, "status": status},
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": docs.components},
        "incidents.json": {"page": page, "incidents": docs.incidents[:LIST_LIMIT]},
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {"page": page, "scheduled_maintenances": docs.maintenances[:LIST_LIMIT]},
        "scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": upcoming},
        "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
    }
    return {f"api/v2/{name}": dump_json(body) for name, body in bodies.items()}


def dump_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def statuspage_documents(inputs: BuildInputs) -> StatuspageDocuments:
    scan = _scan(inputs.incidents.incidents, inputs.now, inputs.site.component_ids)
    builder = _Builder(inputs, scan)
    return StatuspageDocuments(
        page=builder.page,
        status={"indicator": inputs.status.indicator, "description": inputs.status.description},
        components=builder.components,
        incidents=[builder.incident(i) for i in scan.incidents],
        maintenances=[builder.incident(i) for i in scan.maintenances],
    )


@dataclass(frozen=True)
class _Scan:
    """What the documents need of every incident, found in one pass over them: five passes over
    a large site's 10,000 took 30 ms of every build."""

    incidents: list[Incident]  # those listed (see `listed`), maintenance aside
    maintenances: list[Incident]  # those listed, the latest window first
    first_created: datetime | None  # of all of them
    changed_at: dict[str, datetime]  # by component: the last moment an incident changed its status


def _scan(incidents: Sequence[Incident], now: datetime, all_ids: Sequence[str]) -> _Scan:
    plain: list[Incident] = []
    windows: list[Incident] = []
    changed: dict[str, datetime] = {}
    first_created = None
    plain_seen = 0
    for incident in incidents:
        created = incident.created_at
        if first_created is None or created < first_created:
            first_created = created
        if incident.is_maintenance:
            if incident.scheduled_for:
                windows.append(incident)
        else:
            if plain_seen < LIST_LIMIT or incident.is_open(now):  # as `listed` keeps them
                plain.append(incident)
            plain_seen += 1
        moment = _last_status_moment(incident, now)
        if moment is None:
            continue
        for cid in affected_ids(incident, all_ids):
            if cid not in changed or moment > changed[cid]:
                changed[cid] = moment
    windows.sort(key=lambda i: i.scheduled_for, reverse=True)
    return _Scan(plain, listed(windows, lambda i: i.status_at(now) in LIVE_MAINTENANCE), first_created, changed)


LIVE_MAINTENANCE = ("scheduled", "in_progress", "verifying")


def listed(newest_first: list[Incident], keep: Callable[[Incident], bool]) -> list[Incident]:
    """What some file lists: the LIST_LIMIT most recent, and any older one `keep` wants (still open).

    Building the other thousands of Statuspage objects only to drop them was a second per build
    on a site with 10,000 incidents.
    """
    return [incident for index, incident in enumerate(newest_first) if index < LIST_LIMIT or keep(incident)]


class _Builder:
    """Turns the status model into Statuspage objects; ids and component objects are shared."""

    def __init__(self, inputs: BuildInputs, scan: _Scan):
        self.inputs = inputs
        self.site = inputs.site.info
        self.now = inputs.now
        self.all_ids = inputs.site.component_ids
        self.page_id = self.id("page", self.site.base_url)
        self.epoch = _first_known_moment(inputs, scan.first_created)
        self._changed_at = scan.changed_at
        self.page = {
            "id": self.page_id,
            "name": self.site.title,
            "url": self.site.base_url,
            "time_zone": "Etc/UTC" if self.site.timezone == "UTC" else self.site.timezone,
            "updated_at": iso_ms(self.now),
        }
        self.by_component: dict[str, dict[str, Any]] = {}
        self._site_components = {}
        for component in inputs.site.components:
            self._site_components.setdefault(component.id, component)  # the first, as Site.component
        self.components = self._components()

    def id(self, kind: str, key: str) -> str:
        return stable_id(self.site.base_url, kind, key)

    def component_id(self, component_id: str) -> str:
        return self.id("component", component_id)

    # --- components ----------------------------------------------------------------------

    def _components(self) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = []
        for item in self.inputs.status.layout:
            if isinstance(item, GroupState):
                group_id = self.id("group", item.id)
                members = [self._component(m, group_id=group_id) for m in item.members]
                group = self._group(item, group_id, [m["id"] for m in members])
                objects.extend([group, *members])
            else:
                objects.append(self._component(item, group_id=None))
        for position, obj in enumerate(objects, start=1):
            obj["position"] = position
        return objects

    def _component(self, state: ComponentState, *, group_id: str | None) -> dict[str, Any]:
        component = state.component
        history = self.inputs.histories.get(component.id)
        obj = {
            "id": self.component_id(component.id),
            "name": component.name,
            "status": state.status,
            "created_at": iso_ms(self.epoch),
            "updated_at": iso_ms(self._component_changed_at(component.id)),
            "position": 0,  # numbered in page order once all are known
            "description": component.description or None,
            "showcase": component.show_uptime and not component.is_manual,
            "start_date": _first_day_with_data(history),
            "group_id": group_id,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }
        self.by_component[component.id] = obj
        return obj

    def _group(self, group: GroupState, group_id: str, member_ids: list[str]) -> dict[str, Any]:
        changed = max((self._component_changed_at(m.component.id) for m in group.members), default=self.epoch)
        return {
            "id": group_id,
            "name": group.name,
            "status": group.status,
            "created_at": iso_ms(self.epoch),
            "updated_at": iso_ms(changed),
            "position": 0,
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": self.page_id,
            "group": True,
            "only_show_if_degraded": False,
            "components": member_ids,
        }

    def _component_changed_at(self, component_id: str) -> datetime:
        """The last moment an incident or maintenance could have changed this component's status."""
        moment = self._changed_at.get(component_id)
        return self.epoch if moment is None else max(moment, self.epoch)

    # --- incidents and maintenance -------------------------------------------------------

    def incident(self, incident: Incident) -> dict[str, Any]:
        status = incident.status_at(self.now)
        if status == "resolved" and (incident.postmortem_html or incident.postmortem_url):
            status = "postmortem"
        incident_id = self.id("incident", incident.id)
        obj: dict[str, Any] = {
            "id": incident_id,
            "name": incident.title,
            "status": status,
            "created_at": iso_ms(incident.created_at),
            "updated_at": iso_ms(status_changed_at(incident, self.now)),
            "monitoring_at": iso_ms(incident.monitoring_at),
            "resolved_at": iso_ms(incident.ended_at(self.now)),
            "impact": "maintenance" if incident.is_maintenance else incident.impact,
            "shortlink": incident_url(self.site, incident.id),
            # Statuspage gives a maintenance the time it was created, never its (future) window.
            "started_at": iso_ms(incident.created_at if incident.is_maintenance else incident.started_at),
            "page_id": self.page_id,
            "incident_updates": self._updates(incident, incident_id),
            "components": [self.by_component[c] for c in affected_ids(incident, self.all_ids) if c in self.by_component],
        }
        if incident.is_maintenance:
            obj["scheduled_for"] = iso_ms(incident.scheduled_for)
            obj["scheduled_until"] = iso_ms(incident.scheduled_until)
        return obj

    def _updates(self, incident: Incident, incident_id: str) -> list[dict[str, Any]]:
        changes = self._status_changes(incident)
        updates = []
        for update in incident.updates:  # newest first, as Statuspage lists them
            when = iso_ms(update.time)
            updates.append({
                "id": self.id("incident_update", f"{incident.id}/{when}/{update.status}"),
                "status": update.status,
                "body": update.body_text,
                "incident_id": incident_id,
                "created_at": when,
                "updated_at": when,
                "display_at": when,
                "affected_components": changes.get(update) or None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            })
        return updates

    def _status_changes(self, incident: Incident) -> dict[Update, list[dict[str, str]]]:
        """Which update moved which component from what to what: the opening update sets the
        incident's effects, the resolving (or completing) one clears them."""
        if incident.is_maintenance:
            effects = {cid: "under_maintenance" for cid in affected_ids(incident, self.all_ids)}
            opening = next((u for u in reversed(incident.updates) if u.status in ACTIVE), None)
            closing = next((u for u in reversed(incident.updates) if u.status == "completed"), None)
        else:
            effects = {cid: effect for cid, effect in incident_effects(incident, self.all_ids).items() if effect}
            opening = incident.updates[-1]
            closing = next((u for u in reversed(incident.updates) if u.status == "resolved"), None)

        def transitions(old: str | None, new: str | None) -> list[dict[str, str]]:
            known = self._site_components
            return [{"code": self.component_id(cid), "name": known[cid].name,
                     "old_status": old or effect, "new_status": new or effect}
                    for cid, effect in effects.items() if cid in known]

        changes: dict[Update, list[dict[str, str]]] = {}
        if opening is not None:
            changes[opening] = transitions("operational", None)
        if closing is not None and closing is not opening:
            changes[closing] = transitions(None, "operational")
        return changes


def status_changed_at(incident: Incident, now: datetime) -> datetime:
    """The latest update, or the moment a maintenance's schedule moved it on by itself."""
    moments = [incident.updated_at]
    if incident.is_maintenance and incident.latest_status == "scheduled":
        for moment in (incident.scheduled_for, incident.scheduled_until):
            if moment is not None and moment <= now:
                moments.append(moment)
    return max(moments)


def _last_status_moment(incident: Incident, now: datetime) -> datetime | None:
    """The newest of `status_moments` up to `now`."""
    if incident.resolved_at is not None and incident.updated_at <= now:
        return incident.updated_at  # settled: its last update resolved or completed it
    return max((moment for moment in status_moments(incident) if moment <= now), default=None)


def status_moments(incident: Incident) -> list[datetime]:
    """When the incident changed what its components show; announcing a maintenance changes nothing."""
    if not incident.is_maintenance:
        return [time for time, _ in incident.timeline]
    moments = [time for time, status in incident.timeline if status != "scheduled"]
    if incident.latest_status == "scheduled":
        moments.extend(m for m in (incident.scheduled_for, incident.scheduled_until) if m is not None)
    return moments


def _first_known_moment(inputs: BuildInputs, first_created: datetime | None) -> datetime:
    """A stable creation time for components: nothing records one, so the earliest thing we know
    of (`first_created`: the earliest incident's creation)."""
    moments = [] if first_created is None else [first_created]
    for history in inputs.histories.values():
        first = _first_day_with_data(history)
        if first:
            moments.append(datetime.fromisoformat(first + "T00:00:00+00:00"))
    return min(moments, default=inputs.now)


def _first_day_with_data(history: Any) -> str | None:
    if history is None:
        return None
    first = history.first_day_with_data
    return None if first is None else first.isoformat()
