from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from generator.site.config import Component
from generator.site.incidents import AffectedComponent, Incident, Update
from generator.status.model import (COMPONENT_STATUSES, INDICATOR_DESCRIPTIONS, component_state, group_layout,
                              page_indicator, page_status, worst)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class FakeCheck:
    interval: float = 300


@dataclass(frozen=True)
class Result:
    status: str
    time: datetime


API = Component("api", "API", group="Core", position=1, check=FakeCheck())
WEB = Component("web", "Web", group="Core", position=2)
DB = Component("db", "DB", position=3)
ALL = (API, WEB, DB)


def incident(status="investigating", impact="minor", affected=(), kind="incident", window=None, iid="i"):
    update = Update.of(NOW - HOUR, status, "", "", 1)
    return Incident(id=iid, title="T", kind=kind, impact=impact,
                    affected=tuple(AffectedComponent(c, e) for c, e in affected), updates=(update,),
                    started_at=NOW - HOUR, source="x.md",
                    scheduled_for=window[0] if window else None, scheduled_until=window[1] if window else None)


def test_worst_follows_severity_order():
    assert worst([]) == "operational"
    for better, worse in zip(COMPONENT_STATUSES, COMPONENT_STATUSES[1:]):
        assert worst([worse, better]) == worse


def test_all_operational_with_no_incidents():
    status = page_status(ALL, [], NOW)
    assert status.indicator == "none" and status.description == "All Systems Operational"
    assert {s.status for s in status.components} == {"operational"}


@pytest.mark.parametrize("effect", ["degraded_performance", "partial_outage", "major_outage"])
def test_open_incident_sets_its_effect_on_named_components_only(effect):
    status = page_status(ALL, [incident(affected=[("web", effect)])], NOW)
    assert status.state("web").status == effect
    assert status.state("db").status == "operational"
    assert status.state("web").open_incidents == ("i",)


def test_resolved_incident_has_no_effect():
    status = page_status(ALL, [incident(status="resolved", impact="critical", affected=[("web", "major_outage")])], NOW)
    assert status.state("web").status == "operational" and status.indicator == "none"
    assert status.open_incidents == ()


def test_worst_of_several_incidents_wins():
    status = page_status(ALL, [incident(affected=[("db", "degraded_performance")], iid="a"),
                               incident(affected=[("db", "major_outage")], iid="b")], NOW)
    assert status.state("db").status == "major_outage"
    assert status.state("db").open_incidents == ("a", "b")


def test_incident_without_components_affects_the_whole_page_by_impact():
    status = page_status(ALL, [incident(impact="major")], NOW)
    assert {s.status for s in status.components} == {"partial_outage"}
    assert status.indicator == "major"


def test_impact_none_changes_no_component_but_incident_is_listed():
    status = page_status(ALL, [incident(impact="none")], NOW)
    assert {s.status for s in status.components} == {"operational"}
    assert status.indicator == "none" and len(status.open_incidents) == 1


@pytest.mark.parametrize("impact,indicator", [("minor", "minor"), ("major", "major"), ("critical", "critical")])
def test_indicator_follows_incident_impact(impact, indicator):
    status = page_status(ALL, [incident(impact=impact, affected=[("db", "degraded_performance")])], NOW)
    assert status.indicator == indicator
    assert status.description == INDICATOR_DESCRIPTIONS[indicator]


@pytest.mark.parametrize("statuses,expected", [
    (["operational", "degraded_performance"], "minor"),
    (["operational", "partial_outage"], "major"),
    (["operational", "major_outage"], "major"),
    (["major_outage", "major_outage"], "critical"),
    (["operational", "under_maintenance"], "maintenance"),
])
def test_indicator_follows_components(statuses, expected):
    states = [component_state(Component(f"c{i}", "C"), [], [], NOW) for i in range(len(statuses))]
    states = [s.__class__(**{**s.__dict__, "status": st}) for s, st in zip(states, statuses)]
    assert page_indicator(states, [], maintenance_active="under_maintenance" in statuses) == expected


def test_maintenance_in_progress_marks_components_and_page():
    window = (NOW - HOUR, NOW + HOUR)
    status = page_status(ALL, [incident("scheduled", "none", [("api", None)], "maintenance", window)], NOW)
    assert status.state("api").status == "under_maintenance" and status.state("api").in_maintenance
    assert status.indicator == "maintenance" and status.description == "Service Under Maintenance"
    assert len(status.active_maintenance) == 1 and status.upcoming_maintenance == ()


def test_upcoming_maintenance_changes_nothing_yet():
    window = (NOW + HOUR, NOW + 2 * HOUR)
    status = page_status(ALL, [incident("scheduled", "none", [("api", None)], "maintenance", window)], NOW)
    assert status.state("api").status == "operational" and status.indicator == "none"
    assert len(status.upcoming_maintenance) == 1


def test_incident_outranks_maintenance():
    window = (NOW - HOUR, NOW + HOUR)
    status = page_status(ALL, [incident("in_progress", "none", [("api", None)], "maintenance", window, "m"),
                               incident(affected=[("api", "major_outage")])], NOW)
    assert status.state("api").status == "major_outage"
    assert status.indicator == "major"  # the incident's impact is minor, but a component is down


@pytest.mark.parametrize("result,expected", [("up", "operational"), ("degraded", "degraded_performance"),
                                             ("down", "major_outage")])
def test_latest_check_result_sets_status(result, expected):
    status = page_status(ALL, [], NOW, {"api": Result(result, NOW - timedelta(minutes=2))})
    assert status.state("api").status == expected
    assert status.state("api").check_status == result and not status.state("api").stale


def test_failing_check_during_maintenance_is_expected():
    window = (NOW - HOUR, NOW + HOUR)
    status = page_status(ALL, [incident("in_progress", "none", [("api", None)], "maintenance", window)], NOW,
                         {"api": Result("down", NOW)})
    assert status.state("api").status == "under_maintenance"


def test_incident_worse_than_check_wins_and_check_worse_than_incident_wins():
    down = {"api": Result("down", NOW)}
    assert page_status(ALL, [incident(affected=[("api", "degraded_performance")])], NOW, down).state("api").status == "major_outage"
    up = {"api": Result("up", NOW)}
    assert page_status(ALL, [incident(affected=[("api", "partial_outage")])], NOW, up).state("api").status == "partial_outage"


def test_stale_when_no_result_or_older_than_three_intervals():
    assert page_status(ALL, [], NOW).state("api").stale
    assert page_status(ALL, [], NOW, {"api": Result("up", NOW - timedelta(minutes=16))}).state("api").stale
    assert not page_status(ALL, [], NOW, {"api": Result("up", NOW - timedelta(minutes=14))}).state("api").stale
    assert not page_status(ALL, [], NOW).state("db").stale  # manual components are never stale


def test_groups_placed_at_first_member_with_worst_status():
    status = page_status(ALL, [incident(affected=[("web", "partial_outage")])], NOW)
    layout = status.layout
    assert [getattr(item, "name", None) or item.component.id for item in layout] == ["Core", "db"]
    core = status.groups[0]
    assert core.id == "group-core" and core.status == "partial_outage"
    assert [m.component.id for m in core.members] == ["api", "web"]


def test_group_layout_interleaves_loose_components():
    comps = [Component("a", "A"), Component("b", "B", group="G"), Component("c", "C"), Component("d", "D", group="G")]
    layout = group_layout([component_state(c, [], [], NOW) for c in comps])
    assert [getattr(i, "name", None) or i.component.id for i in layout] == ["a", "G", "c"]
