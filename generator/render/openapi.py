"""api/openapi.json: an OpenAPI 3.1 description of the static endpoints, generated per site.

The document names this site's server and component ids, so a client generator or an agent
gets exact paths and enums. Its schemas are strict (all keys required, closed enums): the tests
validate the built files against them, so the description cannot drift from the output.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from generator.site.incidents import IMPACTS, INCIDENT_STATUSES, MAINTENANCE_STATUSES
from generator.status.readings import (CADENCE_DEFINITION, LATENCY_PERCENTILE_NOTE, LATENESS_DEFINITION,
                                       RESPONSE_TIME_DEFINITION, UPTIME_DEFINITION, UPTIME_WINDOWS, WINDOW_DEFINITIONS)
from generator.engine.reuse import Outputs, output_key
from generator.status.model import COMPONENT_STATUSES, INDICATORS

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs

TIMESTAMP = {"type": "string", "format": "date-time", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
             "examples": ["2026-02-11T03:15:01.913Z"]}
STATUSPAGE_ID = {"type": "string", "pattern": "^[a-z0-9]+$", "description": "Stable across builds."}
STATUSPAGE_COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage",
                                 "under_maintenance")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], description: str = "", optional: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def schemas(component_ids: tuple[str, ...]) -> dict[str, Any]:
    component_id = {"enum": list(component_ids)} if component_ids else {"type": "string"}  # enums may not be empty
    component_status = {"enum": list(STATUSPAGE_COMPONENT_STATUSES)}
    affected = _object({"code": STATUSPAGE_ID, "name": {"type": "string"}, "old_status": component_status,
                        "new_status": component_status})
    incident_fields = {
        "id": STATUSPAGE_ID,
        "name": {"type": "string"},
        "status": {"enum": [*INCIDENT_STATUSES, "postmortem"]},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "monitoring_at": _nullable(TIMESTAMP),
        "resolved_at": _nullable(TIMESTAMP),
        "impact": {"enum": list(IMPACTS)},
        "shortlink": {"type": "string", "format": "uri"},
        "started_at": TIMESTAMP,
        "page_id": STATUSPAGE_ID,
        "incident_updates": _array(_ref("IncidentUpdate")),
        "components": _array(_ref("Component")),
    }
    maintenance_fields = {
        **incident_fields,
        "status": {"enum": list(MAINTENANCE_STATUSES)},
        "impact": {"const": "maintenance"},
        "scheduled_for": TIMESTAMP,
        "scheduled_until": _nullable(TIMESTAMP),
    }
    heliograph_incident = _object({
        "id": {"type": "string", "description": "The incident file's name, as in incidents/<id>/."},
        "title": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "kind": {"enum": ["incident", "maintenance"]},
        "status": {"enum": [*INCIDENT_STATUSES, *MAINTENANCE_STATUSES]},
        "impact": {"enum": list(IMPACTS)},
        "started_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "scheduled_for": _nullable(TIMESTAMP),
        "scheduled_until": _nullable(TIMESTAMP),
        "components": _array(_object({"id": component_id,
                                      "effect": _nullable({"enum": list(COMPONENT_STATUSES)})})),
        "latest_update": _object({"time": TIMESTAMP, "status": {"type": "string"}, "text": {"type": "string"},
                                  "html": {"type": "string", "description": "Sanitized HTML."}}),
    })
    fraction = _nullable({"type": "number", "minimum": 0, "maximum": 1})
    return {
        "Page": _object({"id": STATUSPAGE_ID, "name": {"type": "string"}, "url": {"type": "string", "format": "uri"},
                         "time_zone": {"type": "string"}, "updated_at": TIMESTAMP}),
        "Status": _object({"indicator": {"enum": list(INDICATORS)}, "description": {"type": "string"}}),
        "Component": _object({
            "id": STATUSPAGE_ID,
            "name": {"type": "string"},
            "status": component_status,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "position": {"type": "integer"},
            "description": _nullable({"type": "string"}),
            "showcase": {"type": "boolean"},
            "start_date": _nullable({"type": "string", "format": "date"}),
            "group_id": _nullable(STATUSPAGE_ID),
            "page_id": STATUSPAGE_ID,
            "group": {"type": "boolean"},
            "only_show_if_degraded": {"type": "boolean"},
            "components": {**_array(STATUSPAGE_ID), "description": "A group's members; groups only."},
        }, optional=("components",)),
        "IncidentUpdate": _object({
            "id": STATUSPAGE_ID,
            "status": {"enum": [*INCIDENT_STATUSES, "postmortem", *MAINTENANCE_STATUSES]},
            "body": {"type": "string", "description": "Plain text."},
            "incident_id": STATUSPAGE_ID,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "display_at": TIMESTAMP,
            "affected_components": _nullable(_array(affected)),
            "deliver_notifications": {"type": "boolean"},
            "custom_tweet": {"type": "null"},
            "tweet_id": {"type": "null"},
        }),
        "Incident": _object(incident_fields),
        "ScheduledMaintenance": _object(maintenance_fields),
        "Summary": _object({"page": _ref("Page"), "components": _array(_ref("Component")),
                            "incidents": _array(_ref("Incident")),
                            "scheduled_maintenances": _array(_ref("ScheduledMaintenance")), "status": _ref("Status")}),
        "StatusResponse": _object({"page": _ref("Page"), "status": _ref("Status")}),
        "ComponentsResponse": _object({"page": _ref("Page"), "components": _array(_ref("Component"))}),
        "IncidentsResponse": _object({"page": _ref("Page"), "incidents": _array(_ref("Incident"))}),
        "ScheduledMaintenancesResponse": _object({"page": _ref("Page"),
                                                  "scheduled_maintenances": _array(_ref("ScheduledMaintenance"))}),
        "HeliographIncident": heliograph_incident,
        "HeliographStatus": _object({
            "version": {"const": 1},
            "generated_at": TIMESTAMP,
            "outdated_from": {**TIMESTAMP, "description": (
                "generated_at plus two hours: the page is rebuilt at least hourly, so a reader later than this "
                "has a copy that missed a rebuild, and checked components' status may be out of date.")},
            "page": _object({"name": {"type": "string"}, "url": {"type": "string", "format": "uri"},
                             "description": _nullable({"type": "string"}), "time_zone": {"type": "string"},
                             "language": {"type": "string"}}),
            "status": _ref("Status"),
            "components": _array(_object({
                "id": component_id,
                "name": {"type": "string"},
                "description": _nullable({"type": "string"}),
                "group": _nullable({"type": "string"}),
                "url": {"type": "string", "format": "uri"},
                "status": {"enum": list(COMPONENT_STATUSES)},
                "status_label": {"type": "string"},
                "monitored": {"type": "boolean", "description": "Has a check; manual components do not."},
                "last_checked": _nullable(TIMESTAMP),
                "stale": {"type": "boolean", "description": "Monitored, but its newest result is too old."},
                "latest_check": _nullable(_object({"status": {"enum": ["up", "degraded", "down"]},
                                                   "time": TIMESTAMP,
                                                   "latency_ms": _nullable({"type": "number"})})),
                "uptime": _object({window: {**fraction, "description": WINDOW_DEFINITIONS[window]}
                                   for window in UPTIME_WINDOWS}, UPTIME_DEFINITION),
                "response_time_ms": _nullable({"type": "number", "description": RESPONSE_TIME_DEFINITION}),
                "checks_24h": _nullable(_object({
                    "interval_s": {"type": "number"}, "results": {"type": "integer", "minimum": 0},
                    "median_gap_s": _nullable({"type": "number"}), "worst_gap_s": _nullable({"type": "number"}),
                    "locations": _array({"type": "string"}),
                    "coverage": _nullable(fraction)}, CADENCE_DEFINITION)),
                "open_incidents": _array({"type": "string"}),
            })),
            "groups": _array(_object({"id": {"type": "string"}, "name": {"type": "string"},
                                      "status": {"enum": list(COMPONENT_STATUSES)},
                                      "components": _array(component_id)})),
            "incidents": _array(_ref("HeliographIncident")),
            "maintenance": _object({"active": _array(_ref("HeliographIncident")),
                                    "upcoming": _array(_ref("HeliographIncident"))}),
            "schedule_lateness_24h": _object({"runs": {"type": "integer", "minimum": 0},
                                              "median_s": _nullable({"type": "number"}),
                                              "worst_s": _nullable({"type": "number"})}, LATENESS_DEFINITION),
            "links": {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}},
        }),
        "ShieldsEndpoint": _object({
            "schemaVersion": {"const": 1},
            "label": {"type": "string"},
            "message": {"type": "string", "minLength": 1},
            "color": {"type": "string"},
            "labelColor": {"type": "string"},
            "style": {"enum": ["flat", "flat-square", "for-the-badge"]},
            "cacheSeconds": {"type": "integer", "minimum": 300},
        }, "The shields.io endpoint badge format: https://img.shields.io/endpoint?url=...",
            optional=("labelColor", "style")),
    }


HISTORY_CSV_DESCRIPTION = (
    "One row per checked component per UTC day shown, oldest first. uptime_percent: that day's share of checks up or "
    "degraded (or of time not down, in duration mode), outside maintenance, rounded down to 3 decimals; empty when "
    "no data. checks, up, degraded, down: counted results; maintenance_checks: results inside maintenance windows; "
    "downtime_seconds: time held by down results, averaged over the locations that reported. latency_p50_ms and "
    f"latency_p95_ms over up and degraded results are {LATENCY_PERCENTILE_NOTE}; latency_max_ms is exact.")


def openapi_document(inputs: BuildInputs) -> dict[str, Any]:
    site = inputs.site.info
    component_ids = inputs.site.component_ids
    component_parameter = {"name": "component", "in": "path", "required": True,
                           "schema": {"enum": list(component_ids)}, "description": "A component id from site.yaml."}
    window_parameter = {"name": "window", "in": "path", "required": True, "schema": {"enum": list(UPTIME_WINDOWS)}}

    def json_response(schema: str, media: str = "application/json") -> dict[str, Any]:
        return {"200": {"description": "OK", "content": {media: {"schema": _ref(schema)}}}}

    def other_response(media: str, description: str) -> dict[str, Any]:
        return {"200": {"description": description, "content": {media: {"schema": {"type": "string"}}}}}

    def get(summary: str, responses: dict[str, Any], *, tag: str, parameters: list | None = None,
            description: str = "") -> dict[str, Any]:
        operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
        if description:
            operation["description"] = description
        if parameters:
            operation["parameters"] = parameters
        return {"get": operation}

    statuspage = "Statuspage API v2"
    paths: dict[str, Any] = {
        "/api/v2/summary.json": get("Page, components, unresolved incidents, upcoming and active maintenance, status",
                                    json_response("Summary"), tag=statuspage),
        "/api/v2/status.json": get("The page's status indicator", json_response("StatusResponse"), tag=statuspage),
        "/api/v2/components.json": get("Every component and group", json_response("ComponentsResponse"),
                                       tag=statuspage),
        "/api/v2/incidents.json": get("The 50 most recent incidents", json_response("IncidentsResponse"),
                                      tag=statuspage),
        "/api/v2/incidents/unresolved.json": get("Incidents not yet resolved", json_response("IncidentsResponse"),
                                                 tag=statuspage),
        "/api/v2/scheduled-maintenances.json": get("The 50 most recent maintenances",
                                                   json_response("ScheduledMaintenancesResponse"), tag=statuspage),
        "/api/v2/scheduled-maintenances/upcoming.json": get("Maintenance not yet started",
                                                            json_response("ScheduledMaintenancesResponse"),
                                                            tag=statuspage),
        "/api/v2/scheduled-maintenances/active.json": get("Maintenance in progress or being verified",
                                                          json_response("ScheduledMaintenancesResponse"),
                                                          tag=statuspage),
        "/api/status.json": get("Everything the page says, with component ids, uptime and response times",
                                json_response("HeliographStatus"), tag="Heliograph"),
        "/api/history.csv": get("Daily uptime and latency per component (RFC 4180 CSV with a header row)",
                                other_response("text/csv", "CSV"), tag="Heliograph", description=HISTORY_CSV_DESCRIPTION),
        "/badges/status.json": get("The page's status as a shields.io endpoint badge",
                                   json_response("ShieldsEndpoint"), tag="Badges"),
        "/badges/status.svg": get("The page's status badge", other_response("image/svg+xml", "SVG"), tag="Badges"),
        "/badges/{component}/status.json": get("A component's status as a shields.io endpoint badge",
                                               json_response("ShieldsEndpoint"), tag="Badges",
                                               parameters=[component_parameter]),
        "/badges/{component}/status.svg": get("A component's status badge", other_response("image/svg+xml", "SVG"),
                                              tag="Badges", parameters=[component_parameter]),
        "/badges/{component}/uptime-{window}.json": get("A component's uptime as a shields.io endpoint badge",
                                                        json_response("ShieldsEndpoint"), tag="Badges",
                                                        parameters=[component_parameter, window_parameter]),
        "/badges/{component}/uptime-{window}.svg": get("A component's uptime badge",
                                                       other_response("image/svg+xml", "SVG"), tag="Badges",
                                                       parameters=[component_parameter, window_parameter]),
        "/badges/{component}/response-time.json": get("A component's response time as a shields.io endpoint badge",
                                                      json_response("ShieldsEndpoint"), tag="Badges",
                                                      parameters=[component_parameter]),
        "/badges/{component}/response-time.svg": get("A component's response time badge",
                                                     other_response("image/svg+xml", "SVG"), tag="Badges",
                                                     parameters=[component_parameter]),
        "/feed.atom": get("Incidents and maintenance (Atom 1.0)", other_response("application/atom+xml", "Atom"),
                          tag="Feeds"),
        "/feed.rss": get("Incidents and maintenance (RSS 2.0)", other_response("application/rss+xml", "RSS"),
                         tag="Feeds"),
        "/feed.json": get("Incidents and maintenance (JSON Feed 1.1)",
                          other_response("application/feed+json", "JSON Feed"), tag="Feeds"),
        "/history.atom": get("The same as /feed.atom, at the path hosted status pages use",
                             other_response("application/atom+xml", "Atom"), tag="Feeds"),
        "/history.rss": get("The same as /feed.rss, at the path hosted status pages use",
                            other_response("application/rss+xml", "RSS"), tag="Feeds"),
        "/components/{component}/feed.atom": get("One component's incidents and maintenance (Atom 1.0)",
                                                 other_response("application/atom+xml", "Atom"), tag="Feeds",
                                                 parameters=[component_parameter]),
        "/components/{component}/feed.rss": get("One component's incidents and maintenance (RSS 2.0)",
                                                other_response("application/rss+xml", "RSS"), tag="Feeds",
                                                parameters=[component_parameter]),
        "/maintenance.ics": get("Scheduled maintenance (iCalendar, RFC 5545)",
                                other_response("text/calendar", "iCalendar"), tag="Feeds"),
        "/llms.txt": get("A Markdown summary of the page for language-model agents",
                         other_response("text/plain", "Markdown"), tag="Heliograph"),
    }
    if not component_ids:  # an enum may not be empty; without components those paths do not exist
        paths = {path: item for path, item in paths.items() if "{component}" not in path}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": f"{site.title} status API",
            "version": "1",
            "description": "Static files, regenerated on every build and safe to poll once a minute. "
                           "The /api/v2/ paths follow the Statuspage public API v2, so its clients work unchanged. "
                           "Every path answers GET with CORS allowed from any origin.",
        },
        "servers": [{"url": site.base_url.rstrip("/")}],
        "paths": paths,
        "components": {"schemas": schemas(component_ids)},
    }


def render_openapi(inputs: BuildInputs, outputs: Outputs) -> None:
    """Made of the site's settings and the code alone (`inputs.fingerprint`)."""
    path = "api/openapi.json"
    if outputs.wants(path, output_key(inputs.fingerprint, path)):
        text = json.dumps(openapi_document(inputs), ensure_ascii=False, indent=2)
        outputs.add({path: (text + "\n").encode("utf-8")})
