"""Heliograph's own machine-readable files: api/status.json (everything the page says, with our
component ids and uptime) and api/history.csv (daily uptime, for spreadsheets and notebooks).

api/openapi.json describes both (see openapi.py); the widget (embed/status.js) reads status.json.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from generator.site.incidents import Incident
from generator.engine.reuse import Outputs, output_key
from generator.status.readings import UPTIME_WINDOWS, fraction_figure, percent_figure, response_time_ms, uptime
from generator.status.model import COMPONENT_STATUS_LABELS, ComponentState, incident_effects, outdated_from
from generator.render.statuspage import dump_json, status_changed_at
from generator.render.urls import absolute, component_url, incident_url, iso_ms

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs

STATUS_JSON_VERSION = 1
CSV_COLUMNS = ("date", "component_id", "component_name", "uptime_percent", "checks", "up", "degraded", "down",
               "maintenance_checks", "downtime_seconds", "latency_p50_ms", "latency_p95_ms", "latency_max_ms")


def render_api(inputs: BuildInputs, outputs: Outputs) -> None:
    files = {"api/status.json": dump_json(status_document(inputs))}  # it states `now`: new every build
    ids = [component.id for component in inputs.site.components]
    histories = [history for history in map(inputs.histories.get, ids) if history is not None]
    known = [history.source_key for history in histories]
    csv_key = all(known) and output_key(inputs.fingerprint, "history.csv", ids, known)
    closed = [history.closed_key for history in histories]
    # Days before today come first and stay as they are all day: a check run adds only today's rows.
    earlier = all(closed) and output_key(inputs.fingerprint, "history.csv before today", ids, closed)
    if outputs.wants("api/history.csv", csv_key or None, fragments=(earlier or None,)):
        files["api/history.csv"] = (_csv_text([CSV_COLUMNS])
                                    + outputs.fragment(earlier or None, lambda: _csv_text(history_rows(inputs, today=False)))
                                    + _csv_text(history_rows(inputs, today=True))).encode("utf-8")
    outputs.add(files)


def status_document(inputs: BuildInputs) -> dict[str, Any]:
    site, status, now = inputs.site.info, inputs.status, inputs.now
    return {
        "version": STATUS_JSON_VERSION,
        "generated_at": iso_ms(now),
        "outdated_from": iso_ms(outdated_from(now)),
        "page": {
            "name": site.title,
            "url": site.base_url,
            "description": site.description or None,
            "time_zone": site.timezone,
            "language": site.language,
        },
        "status": {"indicator": status.indicator, "description": status.description},
        "components": [_component(inputs, state) for state in status.components],
        "groups": [{"id": g.id, "name": g.name, "status": g.status,
                    "components": [m.component.id for m in g.members]} for g in status.groups],
        "incidents": [_incident(inputs, i) for i in status.open_incidents],
        "maintenance": {
            "active": [_incident(inputs, i) for i in status.active_maintenance],
            "upcoming": [_incident(inputs, i) for i in status.upcoming_maintenance],
        },
        "schedule_lateness_24h": dict(inputs.lateness._asdict()),
        "links": {
            "page": site.base_url,
            "history": absolute(site, "history/"),
            "statuspage_summary": absolute(site, "api/v2/summary.json"),
            "openapi": absolute(site, "api/openapi.json"),
            "history_csv": absolute(site, "api/history.csv"),
            "feed_atom": absolute(site, "feed.atom"),
            "feed_rss": absolute(site, "feed.rss"),
            "feed_json": absolute(site, "feed.json"),
            "maintenance_calendar": absolute(site, "maintenance.ics"),
        },
    }


def _component(inputs: BuildInputs, state: ComponentState) -> dict[str, Any]:
    component = state.component
    history = inputs.histories.get(component.id)
    latest = history.latest if history is not None else None
    return {
        "id": component.id,
        "name": component.name,
        "description": component.description or None,
        "group": component.group,
        "url": component_url(inputs.site.info, component.id),
        "status": state.status,
        "status_label": COMPONENT_STATUS_LABELS[state.status],
        "monitored": not component.is_manual,
        "last_checked": iso_ms(state.last_checked),
        "stale": state.stale,
        "latest_check": None if latest is None else {
            "status": latest.status,
            "time": iso_ms(latest.time),
            "latency_ms": latest.latency_ms,
        },
        "uptime": {window: fraction_figure(uptime(history, window)) for window in UPTIME_WINDOWS},
        "response_time_ms": response_time_ms(history, inputs.now, stale=state.stale),
        "checks_24h": _checks(component, history),
        "open_incidents": list(state.open_incidents),
    }


def _checks(component: Any, history: Any) -> dict[str, Any] | None:
    """The cadence of the component's results (readings.CADENCE_DEFINITION); None for a manual one."""
    if component.check is None:
        return None
    cadence = getattr(history, "cadence", None)
    coverage = getattr(history, "coverage_24h", None)
    return {"interval_s": component.check.interval,
            "results": cadence.results if cadence else 0,
            "median_gap_s": cadence.median_gap_s if cadence else None,
            "worst_gap_s": cadence.worst_gap_s if cadence else None,
            "locations": list(cadence.locations) if cadence else [],
            "coverage": fraction_figure(coverage)}


def _incident(inputs: BuildInputs, incident: Incident) -> dict[str, Any]:
    latest = incident.latest
    effects = incident_effects(incident, inputs.site.component_ids)
    return {
        "id": incident.id,
        "title": incident.title,
        "url": incident_url(inputs.site.info, incident.id),
        "kind": incident.kind,
        "status": incident.status_at(inputs.now),
        "impact": incident.impact,
        "started_at": iso_ms(incident.started_at),
        "updated_at": iso_ms(status_changed_at(incident, inputs.now)),
        "scheduled_for": iso_ms(incident.scheduled_for),
        "scheduled_until": iso_ms(incident.scheduled_until),
        "components": [{"id": cid, "effect": "under_maintenance" if incident.is_maintenance else effect}
                       for cid, effect in effects.items()],
        "latest_update": {
            "time": iso_ms(latest.time),
            "status": latest.status,
            "text": latest.body_text,
            "html": latest.body_html,
        },
    }


def history_rows(inputs: BuildInputs, *, today: bool) -> list[list]:
    """api/history.csv: one row per monitored component per day, oldest day first, empty cells
    where there is no data. These are the rows of today (every history's last day) or of the
    days before it, by day, then component in site.yaml order."""
    rows = []
    for component in inputs.site.components:
        history = inputs.histories.get(component.id)
        days = () if history is None else history.days[-1:] if today else history.days[:-1]
        for day in days:
            rows.append((day.day, component.position, [
                day.day.isoformat(), component.id, _spreadsheet_safe(component.name),
                _truncated_percent(day.uptime), day.checks, day.up, day.degraded, day.down,
                getattr(day, "maintenance", 0), _number(day.downtime_seconds), _number(day.latency_p50),
                _number(day.latency_p95), _number(day.latency_max),
            ]))
    return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]


def _csv_text(rows: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)  # RFC 4180
    return out.getvalue()


def _truncated_percent(value: float | None) -> str:
    """Rounded down (readings.floor_units): 99.9996% must not read as 100.000%."""
    return "" if value is None else percent_figure(value, 3)


def _number(value: float | None) -> str:
    """To the millisecond (what downtime is kept to; latencies are kept to 0.1 ms), without
    trailing zeros: "300", "5405.185". Not "%g", whose 6 significant digits cut 86399.5 s."""
    return "" if value is None else f"{value:.3f}".rstrip("0").rstrip(".")


def _spreadsheet_safe(text: str) -> str:
    """A cell starting with = + - @ is a formula to spreadsheets; a leading quote keeps it text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
