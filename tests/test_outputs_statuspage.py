"""api/v2/: the Statuspage public API v2, checked against the table in shared/reference/formats.md.

The schema below is written from that table, not from the generator, and is closed: a missing key,
an extra key or a value outside the enums fails.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from generator.engine.build import build
from test_outputs_api import fresh_demo
from conftest import DEMO_NOW, write_site

TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"}
ID = {"type": "string", "pattern": "^[a-z0-9]{8,16}$"}
STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
COMPONENT_STATUS = {"enum": ["operational", "degraded_performance", "partial_outage", "major_outage",
                             "under_maintenance"]}


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


def closed(properties, optional=()):
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": [key for key in properties if key not in optional]}


def array(items):
    return {"type": "array", "items": items}


PAGE = closed({"id": ID, "name": STRING, "url": {"type": "string", "pattern": "^https?://"},
               "time_zone": STRING, "updated_at": TIMESTAMP})
STATUS = closed({
    "indicator": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
    "description": {"enum": ["All Systems Operational", "Minor Service Outage", "Partial System Outage",
                             "Major Service Outage", "Service Under Maintenance"]},
})
COMPONENT = {
    **closed({
        "id": ID, "name": STRING, "status": COMPONENT_STATUS, "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        "position": {"type": "integer"}, "description": nullable(STRING), "showcase": BOOLEAN,
        "start_date": nullable({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}), "group_id": nullable(ID),
        "page_id": ID, "group": BOOLEAN, "only_show_if_degraded": BOOLEAN, "components": array(ID),
    }, optional=("components",)),
    # A group has group: true, group_id: null and its members' ids; one level only.
    "if": {"properties": {"group": {"const": True}}},
    "then": {"required": ["components"], "properties": {"group_id": {"type": "null"}}},
    "else": {"not": {"required": ["components"]}},
}
AFFECTED = closed({"code": ID, "name": STRING, "old_status": COMPONENT_STATUS, "new_status": COMPONENT_STATUS})


def update_schema(statuses):
    return closed({
        "id": ID, "status": {"enum": statuses}, "body": STRING, "incident_id": ID, "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP, "display_at": TIMESTAMP, "affected_components": nullable(array(AFFECTED)),
        "deliver_notifications": BOOLEAN, "custom_tweet": nullable(STRING), "tweet_id": nullable(STRING),
    })


INCIDENT_STATUSES = ["investigating", "identified", "monitoring", "resolved", "postmortem"]
MAINTENANCE_STATUSES = ["scheduled", "in_progress", "verifying", "completed"]
INCIDENT_FIELDS = {
    "id": ID, "name": STRING, "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
    "monitoring_at": nullable(TIMESTAMP), "resolved_at": nullable(TIMESTAMP),
    "shortlink": {"type": "string", "pattern": "^https?://"}, "started_at": TIMESTAMP, "page_id": ID,
    "components": array(COMPONENT),
}


def incident_schema(statuses):
    return closed({**INCIDENT_FIELDS, "status": {"enum": statuses},
                   "impact": {"enum": ["none", "minor", "major", "critical"]},
                   "incident_updates": array(update_schema(INCIDENT_STATUSES))})


def maintenance_schema(statuses):
    return closed({**INCIDENT_FIELDS, "status": {"enum": statuses}, "impact": {"const": "maintenance"},
                   "incident_updates": array(update_schema(MAINTENANCE_STATUSES)),
                   "scheduled_for": TIMESTAMP, "scheduled_until": nullable(TIMESTAMP)})


UNRESOLVED = ["investigating", "identified", "monitoring"]
FILES = {
    "summary.json": closed({"page": PAGE, "components": array(COMPONENT), "incidents": array(incident_schema(UNRESOLVED)),
                            "scheduled_maintenances": array(maintenance_schema(["scheduled", "in_progress", "verifying"])),
                            "status": STATUS}),
    "status.json": closed({"page": PAGE, "status": STATUS}),
    "components.json": closed({"page": PAGE, "components": array(COMPONENT)}),
    "incidents.json": closed({"page": PAGE, "incidents": {**array(incident_schema(INCIDENT_STATUSES)), "maxItems": 50}}),
    "incidents/unresolved.json": closed({"page": PAGE, "incidents": array(incident_schema(UNRESOLVED))}),
    "scheduled-maintenances.json": closed({"page": PAGE, "scheduled_maintenances": {
        **array(maintenance_schema(MAINTENANCE_STATUSES)), "maxItems": 50}}),
    "scheduled-maintenances/upcoming.json": closed({"page": PAGE, "scheduled_maintenances": array(
        maintenance_schema(["scheduled"]))}),
    "scheduled-maintenances/active.json": closed({"page": PAGE, "scheduled_maintenances": array(
        maintenance_schema(["in_progress", "verifying"]))}),
}


def read_api(build_dir: Path) -> dict[str, dict]:
    return {name: json.loads((build_dir / "api/v2" / name).read_bytes()) for name in FILES}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    demo = fresh_demo(tmp_path_factory.mktemp("statuspage") / "demo")
    build(demo, now=DEMO_NOW)
    return read_api(demo / "build")


def test_every_file_has_every_field_and_only_allowed_values(api):
    for name, schema in FILES.items():
        jsonschema.validate(api[name], schema)  # raises with the path of the first problem


def test_summary_holds_the_demo_status(api):
    summary = api["summary.json"]
    assert summary["status"] == {"indicator": "minor", "description": "Minor Service Outage"}
    assert summary["page"]["name"] == "Northwind Pay Status"
    assert summary["page"]["url"] == "https://status.northwind.example/"
    assert summary["page"]["time_zone"] == "Europe/Berlin"
    assert summary["page"]["updated_at"] == "2026-11-23T12:00:00.000Z"
    assert [i["name"] for i in summary["incidents"]] == ["Delayed webhook deliveries"]
    assert [m["name"] for m in summary["scheduled_maintenances"]] == ["Database upgrade"]
    assert api["incidents/unresolved.json"]["incidents"] == summary["incidents"]
    assert api["scheduled-maintenances/upcoming.json"]["scheduled_maintenances"] == summary["scheduled_maintenances"]
    assert api["scheduled-maintenances/active.json"]["scheduled_maintenances"] == []
    assert [m["name"] for m in api["scheduled-maintenances.json"]["scheduled_maintenances"]] == \
        ["Database upgrade", "SEPA connection certificate rotation"]
    # Every file names the same page.
    assert all(body["page"] == summary["page"] for body in api.values())


def test_groups_are_group_components_with_their_members(api):
    components = api["components.json"]["components"]
    by_id = {c["id"]: c for c in components}
    assert len(by_id) == len(components), "ids are unique"
    groups = [c for c in components if c["group"]]
    assert [g["name"] for g in groups] == ["Core", "Payment rails", "Website and support"]
    core = groups[0]
    assert [by_id[m]["name"] for m in core["components"]] == ["API", "Dashboard", "Webhooks"]
    assert all(by_id[m]["group_id"] == core["id"] and not by_id[m]["group"] for m in core["components"])
    assert core["status"] == "degraded_performance"  # its worst member, Webhooks
    assert [c["position"] for c in components] == list(range(1, len(components) + 1))
    assert by_id[core["components"][0]]["description"] == "REST API at api.northwind.example"
    assert [c["name"] for c in components if not c["group"] and c["description"] is None] == \
        ["Card payments", "SEPA transfers", "Payouts", "Documentation", "DNS", "Support portal"]
    assert {c["page_id"] for c in components} == {api["summary.json"]["page"]["id"]}


def test_incidents_carry_updates_newest_first_and_their_components(api):
    incidents = {i["name"]: i for i in api["incidents.json"]["incidents"]}
    assert list(incidents) == ["Delayed webhook deliveries", "Elevated API error rates"]  # newest first, no maintenance
    errors = incidents["Elevated API error rates"]
    assert errors["status"] == "postmortem"  # resolved, and its postmortem is published
    assert errors["impact"] == "major"
    assert errors["shortlink"] == "https://status.northwind.example/incidents/2026-11-18-api-errors/"
    assert (errors["created_at"], errors["started_at"], errors["monitoring_at"], errors["resolved_at"]) == (
        "2026-11-18T14:04:00.000Z", "2026-11-18T14:04:00.000Z", "2026-11-18T14:31:00.000Z", "2026-11-18T14:52:00.000Z")
    updates = errors["incident_updates"]
    assert [u["status"] for u in updates] == ["resolved", "monitoring", "identified", "investigating"]
    assert updates[-1]["body"] == "We are seeing elevated 5xx rates on /v1/*. Payments may fail; retries are safe."
    assert all(u["incident_id"] == errors["id"] for u in updates)
    assert [u["display_at"] for u in updates] == sorted((u["display_at"] for u in updates), reverse=True)
    # The opening update degrades the components, the resolving one restores them; the others change nothing.
    assert [(a["name"], a["old_status"], a["new_status"]) for a in updates[-1]["affected_components"]] == [
        ("API", "operational", "partial_outage"), ("Dashboard", "operational", "degraded_performance")]
    assert [(a["name"], a["old_status"], a["new_status"]) for a in updates[0]["affected_components"]] == [
        ("API", "partial_outage", "operational"), ("Dashboard", "degraded_performance", "operational")]
    assert updates[1]["affected_components"] is None and updates[2]["affected_components"] is None
    # components[] are the full component objects, as in components.json.
    by_id = {c["id"]: c for c in api["components.json"]["components"]}
    assert [c["name"] for c in errors["components"]] == ["API", "Dashboard"]
    assert all(c == by_id[c["id"]] for c in errors["components"])
    assert updates[-1]["affected_components"][0]["code"] == errors["components"][0]["id"]


def test_maintenance_windows_and_statuses(api):
    sepa, = [m for m in api["scheduled-maintenances.json"]["scheduled_maintenances"] if m["name"].startswith("SEPA")]
    assert sepa["status"] == "completed" and sepa["impact"] == "maintenance"
    assert (sepa["scheduled_for"], sepa["scheduled_until"], sepa["resolved_at"]) == (
        "2026-11-12T05:00:00.000Z", "2026-11-12T05:30:00.000Z", "2026-11-12T05:21:00.000Z")
    changes = {u["status"]: u["affected_components"] for u in sepa["incident_updates"]}
    assert changes["scheduled"] is None
    assert [(a["name"], a["new_status"]) for a in changes["in_progress"]] == [("SEPA transfers", "under_maintenance")]
    assert [(a["name"], a["new_status"]) for a in changes["completed"]] == [("SEPA transfers", "operational")]


def test_ids_are_stable_across_builds_and_distinct_between_pages(demo_copy, tmp_path):
    build(demo_copy, now=DEMO_NOW)
    first = read_api(demo_copy / "build")["summary.json"]
    build(demo_copy, now=datetime(2026, 11, 23, 12, 30, tzinfo=timezone.utc))
    later = read_api(demo_copy / "build")["summary.json"]

    def ids(summary):
        return [summary["page"]["id"]] + [c["id"] for c in summary["components"]] + \
            [i["id"] for i in summary["incidents"]] + [u["id"] for i in summary["incidents"] for u in i["incident_updates"]]

    assert ids(first) == ids(later)
    assert len(set(ids(first))) == len(ids(first))
    build(demo_copy, tmp_path / "other", now=DEMO_NOW, base_url="https://other.example/")
    other = read_api(tmp_path / "other")["summary.json"]
    assert not set(ids(first)) & set(ids(other))


MAINTENANCE_ONLY = {
    "2026-11-20-db.md": """\
        ---
        title: Database upgrade
        type: maintenance
        components: [db]
        scheduled_for: 2026-11-20 10:00 UTC
        scheduled_until: 2026-11-20 11:00 UTC
        ---

        ## 2026-11-19 09:00 UTC · Scheduled
        We will upgrade the database.
        """,
}


def test_maintenance_in_progress_is_the_maintenance_indicator(tmp_path):
    root = write_site(tmp_path / "site", incidents=MAINTENANCE_ONLY)
    build(root, now=datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc))
    api = read_api(root / "build")
    for name, schema in FILES.items():
        jsonschema.validate(api[name], schema)
    summary = api["summary.json"]
    assert summary["status"] == {"indicator": "maintenance", "description": "Service Under Maintenance"}
    assert summary["page"]["time_zone"] == "Etc/UTC"
    active = api["scheduled-maintenances/active.json"]["scheduled_maintenances"]
    assert [(m["name"], m["status"]) for m in active] == [("Database upgrade", "in_progress")]
    assert summary["scheduled_maintenances"] == active
    db, = [c for c in summary["components"] if c["name"] == "Database"]
    assert db["status"] == "under_maintenance" and db["updated_at"] == "2026-11-20T10:00:00.000Z"
    assert active[0]["updated_at"] == "2026-11-20T10:00:00.000Z"  # the schedule moved it on by itself


def test_a_page_without_incidents_still_has_every_array(tmp_path):
    root = write_site(tmp_path / "site")
    build(root, now=DEMO_NOW)
    api = read_api(root / "build")
    for name, schema in FILES.items():
        jsonschema.validate(api[name], schema)
    summary = api["summary.json"]
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []
    assert summary["status"]["indicator"] == "none"
    assert api["incidents.json"]["incidents"] == []


def test_lists_hold_the_fifty_most_recent_and_every_open_one(tmp_path):
    from generator.engine.build import build
    from conftest import write_site

    incidents = {}
    for number in range(1, 61):
        day = datetime(2026, 9, 1, 10, 0, tzinfo=timezone.utc) + timedelta(days=number - 1)
        status = "Investigating" if number == 1 else "Resolved"  # the oldest is still open
        incidents[f"{day:%Y-%m-%d}-i.md"] = f"---\ntitle: Incident {number}\n---\n## {day:%Y-%m-%d %H:%M} UTC · {status}\nx\n"
    root = write_site(tmp_path / "site", incidents=incidents)
    build(root, now=DEMO_NOW)
    api = root / "build" / "api" / "v2"
    listed = json.loads((api / "incidents.json").read_bytes())["incidents"]
    assert len(listed) == 50 and listed[0]["name"] == "Incident 60" and listed[-1]["name"] == "Incident 11"
    unresolved = json.loads((api / "incidents" / "unresolved.json").read_bytes())["incidents"]
    assert [i["name"] for i in unresolved] == ["Incident 1"]
    summary = json.loads((api / "summary.json").read_bytes())
    assert [i["name"] for i in summary["incidents"]] == ["Incident 1"]
