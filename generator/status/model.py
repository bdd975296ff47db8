"""The status model: what each component and the whole page are, right now. Pure functions only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Mapping, Protocol, Sequence

from generator.checks.spec import DEFAULT_INTERVAL
from generator.site.config import Component
from generator.site.incidents import DEFAULT_EFFECT, Incident

# Ordered from best to worst: a worse status wins when several apply.
COMPONENT_STATUSES = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")
SEVERITY = {status: rank for rank, status in enumerate(COMPONENT_STATUSES)}
COMPONENT_STATUS_LABELS = {
    "operational": "Operational",
    "under_maintenance": "Under maintenance",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}
INDICATORS = ("none", "minor", "major", "critical", "maintenance")
INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
    "maintenance": "Service Under Maintenance",
}
_INDICATOR_RANK = {"none": 0, "minor": 1, "major": 2, "critical": 3}
CHECK_TO_COMPONENT = {"up": "operational", "degraded": "degraded_performance", "down": "major_outage"}
# A component is stale when its newest result is older than this many of its check intervals:
# one late run is normal jitter, three in a row means the checker itself has stopped. The one
# definition every output (page, component page, badges, api, llms.txt, embed) follows.
STALE_AFTER_INTERVALS = 3


class LatestResult(Protocol):
    """What the status model needs of a check result (the checks stage's CheckResult fits)."""

    status: str
    time: datetime


@dataclass(frozen=True)
class ComponentState:
    """One component's status at `now`, and why: open incidents, maintenance, its latest check."""

    component: Component
    status: str
    open_incidents: tuple[str, ...] = ()
    in_maintenance: bool = False
    check_status: str | None = None  # the latest result's up / degraded / down
    last_checked: datetime | None = None
    stale: bool = False  # has a check, but its newest result is too old (or there is none)

    @property
    def label(self) -> str:
        return COMPONENT_STATUS_LABELS[self.status]

    @property
    def fresh_check(self) -> bool:
        """Checked, with a result recent enough when the page was built: what `outdated_from`
        is about."""
        return self.component.check is not None and self.last_checked is not None and not self.stale

    @property
    def stale_note(self) -> str | None:
        """The warning shown wherever this status is, in the page's words; None while fresh."""
        if not self.stale or self.component.is_manual:
            return None
        if self.last_checked is None:
            return "Not checked yet."
        return (f"No check result since {self.last_checked.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC: "
                "the status shown may be out of date.")


@dataclass(frozen=True)
class GroupState:
    """A group of components and its status, the worst of its members'."""

    id: str
    name: str
    status: str
    members: tuple[ComponentState, ...]

    @property
    def label(self) -> str:
        return COMPONENT_STATUS_LABELS[self.status]


@dataclass(frozen=True)
class PageStatus:
    """The page's status at `now`: the overall indicator, each component's and what is open."""

    indicator: str
    description: str
    components: tuple[ComponentState, ...]
    layout: tuple[ComponentState | GroupState, ...]  # the page's order: loose components and groups
    open_incidents: tuple[Incident, ...]
    active_maintenance: tuple[Incident, ...]
    upcoming_maintenance: tuple[Incident, ...]

    def state(self, component_id: str) -> ComponentState | None:
        return next((s for s in self.components if s.component.id == component_id), None)

    @property
    def stale_components(self) -> tuple[ComponentState, ...]:
        return tuple(s for s in self.components if s.stale and not s.component.is_manual)

    @property
    def groups(self) -> tuple[GroupState, ...]:
        return tuple(item for item in self.layout if isinstance(item, GroupState))


def worst(statuses: Sequence[str]) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default="operational")


def affected_ids(incident: Incident, all_ids: Sequence[str]) -> tuple[str, ...]:
    """An incident that names no component concerns the whole page."""
    return incident.component_ids or tuple(all_ids)


def incidents_by_component(incidents: Sequence[Incident], all_ids: Sequence[str]) -> dict[str, list[Incident]]:
    """Each component's incidents, in the order given: one pass instead of one per component."""
    concerned: dict[str, list[Incident]] = {component_id: [] for component_id in all_ids}
    for incident in incidents:
        for component_id in dict.fromkeys(affected_ids(incident, all_ids)):  # each incident once
            if component_id in concerned:
                concerned[component_id].append(incident)
    return concerned


def incident_effects(incident: Incident, all_ids: Sequence[str]) -> dict[str, str | None]:
    if incident.affected:
        return {a.id: a.effect for a in incident.affected}
    return {component_id: DEFAULT_EFFECT[incident.impact] for component_id in all_ids}


# deploy.yml rebuilds the page once an hour whatever happened (and when a status changes), and
# GitHub may start a scheduled run late. A page read later than this after it was built has
# missed a rebuild: the checks or the deploys have stopped, and what it says of its checked
# components may be out of date (`outdated_from`). Three check intervals are no measure there:
# between hourly rebuilds a page's newest result is normally up to an hour old.
REBUILT_WITHIN = timedelta(hours=2)


def outdated_from(built: datetime) -> datetime:
    """The moment from which a reader of a page built at `built` is told that its checked
    components' status may be out of date (the embed and the widget judge it when read)."""
    return built + REBUILT_WITHIN


def stale_after(check: object) -> timedelta:
    """How old a component's newest result may be before what it shows is stale."""
    interval = getattr(check, "interval", DEFAULT_INTERVAL) or DEFAULT_INTERVAL
    return timedelta(seconds=STALE_AFTER_INTERVALS * interval)


def is_stale(check: object | None, last_checked: datetime | None, now: datetime) -> bool:
    """Monitored, but with no result or none within `stale_after`; an unchecked component never is."""
    if check is None:
        return False
    return last_checked is None or now - last_checked > stale_after(check)


def component_state(component: Component, incidents: Sequence[Incident], all_ids: Sequence[str], now: datetime,
                    latest: LatestResult | None = None) -> ComponentState:
    statuses = ["operational"]
    open_ids = []
    in_maintenance = False
    for incident in incidents:
        if component.id not in affected_ids(incident, all_ids):
            continue
        status = incident.status_at(now)
        if incident.is_maintenance:
            if status in ("in_progress", "verifying"):
                in_maintenance = True
                statuses.append("under_maintenance")
                open_ids.append(incident.id)
        elif incident.is_open(now):
            open_ids.append(incident.id)
            effect = incident_effects(incident, all_ids).get(component.id)
            if effect:
                statuses.append(effect)
    check_status = latest.status if latest else None
    # During maintenance a failing check is expected downtime, not news.
    if check_status and not in_maintenance:
        statuses.append(CHECK_TO_COMPONENT.get(check_status, "operational"))
    stale = is_stale(component.check, latest.time if latest else None, now)
    return ComponentState(
        component=component, status=worst(statuses), open_incidents=tuple(open_ids), in_maintenance=in_maintenance,
        check_status=check_status, last_checked=latest.time if latest else None, stale=stale,
    )


def _may_be_live(incident: Incident, now: datetime) -> bool:
    """False only for what is certainly over: resolved or completed, as its latest update says."""
    return incident.is_maintenance or incident.is_open(now)


def page_indicator(states: Sequence[ComponentState], open_incidents: Sequence[Incident], maintenance_active: bool) -> str:
    """Statuspage's indicator: the worse of open incidents' impact and what the components show."""
    rank = max((_INDICATOR_RANK[i.impact] for i in open_incidents), default=0)
    statuses = [s.status for s in states]
    if "major_outage" in statuses:
        all_down = all(s == "major_outage" for s in statuses)
        rank = max(rank, _INDICATOR_RANK["critical" if all_down else "major"])
    elif "partial_outage" in statuses:
        rank = max(rank, _INDICATOR_RANK["major"])
    elif "degraded_performance" in statuses:
        rank = max(rank, _INDICATOR_RANK["minor"])
    indicator = next(name for name, value in _INDICATOR_RANK.items() if value == rank)
    if indicator == "none" and maintenance_active:
        return "maintenance"
    return indicator


def page_status(components: Sequence[Component], incidents: Sequence[Incident], now: datetime,
                latest_results: Mapping[str, LatestResult] | None = None) -> PageStatus:
    latest_results = latest_results or {}
    all_ids = [c.id for c in components]
    # Only what is open or in progress can set a component's status: of 10,000 incidents, a few.
    # What an update resolved or completed is over whatever `now` is.
    incidents = [i for i in incidents if i.resolved_at is None]
    concerned = incidents_by_component([i for i in incidents if _may_be_live(i, now)], all_ids)
    states = tuple(component_state(c, concerned.get(c.id, ()), all_ids, now, latest_results.get(c.id)) for c in components)
    open_incidents = tuple(i for i in incidents if not i.is_maintenance and i.is_open(now))
    active = tuple(i for i in incidents if i.is_maintenance and i.status_at(now) in ("in_progress", "verifying"))
    upcoming = tuple(sorted((i for i in incidents if i.is_maintenance and i.status_at(now) == "scheduled"),
                            key=lambda i: i.scheduled_for or i.started_at))
    indicator = page_indicator(states, open_incidents, bool(active))
    return PageStatus(
        indicator=indicator, description=INDICATOR_DESCRIPTIONS[indicator], components=states,
        layout=group_layout(states), open_incidents=open_incidents, active_maintenance=active,
        upcoming_maintenance=upcoming,
    )


def group_layout(states: Sequence[ComponentState]) -> tuple[ComponentState | GroupState, ...]:
    """Components in their site.yaml order, each group placed where its first member is."""
    order: list[str | ComponentState] = []
    members: dict[str, list[ComponentState]] = {}
    for state in states:
        group = state.component.group
        if not group:
            order.append(state)
            continue
        if group not in members:
            members[group] = []
            order.append(group)
        members[group].append(state)
    layout: list[ComponentState | GroupState] = []
    for item in order:
        if isinstance(item, str):
            group_members = tuple(members[item])
            layout.append(GroupState(id=group_id(item), name=item,
                                     status=worst([m.status for m in group_members]), members=group_members))
        else:
            layout.append(item)
    return tuple(layout)


def group_id(name: str) -> str:
    return "group-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed")

def incidents_by_day(incidents: tuple[Incident, ...], all_ids: tuple[str, ...], now: datetime, days: int,
                     with_history) -> dict[str, dict[date, list[str]]]:
    """For each component's uptime bars: the incidents and maintenance of each UTC day shown."""
    first_day = (now - timedelta(days=days)).astimezone(timezone.utc).date()
    first_moment = datetime(first_day.year, first_day.month, first_day.day, tzinfo=timezone.utc)
    shown = set(with_history)
    notes: dict[str, dict[date, list[str]]] = {}
    for incident in reversed(incidents):  # oldest first, so a day lists them in order
        resolved = incident.resolved_at
        if resolved is not None and resolved < first_moment:
            continue  # over before the first bar: most of a large site's incidents
        start = (incident.scheduled_for if incident.is_maintenance and incident.scheduled_for else incident.started_at)
        end = incident.ended_at(now) or now
        if end < first_moment or start > now:
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
