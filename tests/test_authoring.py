"""The pure half of incident authoring: text in, text out, every result checked by the build's parser."""

from datetime import datetime, timezone

import pytest

from generator.site.authoring import (AffectedSpec, AuthoringError, NewIncident, UpdateRequest, add_update,
                                 check_status, find_incident_id, new_incident_id, new_incident_text, parse_when,
                                 plan_resolution, plan_update, slugify, to_minute, yaml_scalar)
from generator.site.incidents import parse_incident

NOW = datetime(2026, 11, 20, 14, 30, 40, tzinfo=timezone.utc)
COMPONENTS = ("api", "web", "db")


def parse(text: str, incident_id: str = "2026-11-20-api-errors"):
    incident, warnings = parse_incident(text, incident_id=incident_id, file="incidents/x.md",
                                        component_ids=COMPONENTS, now=NOW)
    assert warnings == []
    return incident


def timeline(text: str) -> list[tuple[str, str, str]]:
    return [(f"{u.time:%H:%M}", u.status, u.body_markdown) for u in parse(text).updates]


EXISTING = (
    "---\n"
    "title: API errors   # keep this comment\n"
    "impact: major\n"
    "components: [api]\n"
    "---\n"
    "\n"
    "## 2026-11-20 14:15 UTC - identified\n"
    "A bad deploy.  \n"
    "\n"
    "```\n"
    "## 2026-11-20 14:00 UTC · Resolved   (inside a code block: not a heading)\n"
    "```\n"
    "\n"
    "## 2026-11-20T14:02:00+01:00 | investigating\n"
    "Looking."
)


def test_new_incident_text_parses_back_to_what_was_asked():
    spec = NewIncident(title="API errors: 5xx #1", time=to_minute(NOW), status="investigating",
                       message="We are investigating.\n\nRetries are safe.", impact="major",
                       components=(AffectedSpec("api"), AffectedSpec("web", "major_outage")))
    text = new_incident_text(spec)
    incident = parse(text)
    assert incident.title == "API errors: 5xx #1"
    assert incident.impact == "major"
    assert [(a.id, a.effect) for a in incident.affected] == [("api", "partial_outage"), ("web", "major_outage")]
    assert timeline(text) == [("14:31", "investigating", "We are investigating.\n\nRetries are safe.")]
    assert "## 2026-11-20 14:31 UTC · Investigating\n" in text


def test_new_maintenance_text():
    spec = NewIncident(title="Database upgrade", time=to_minute(NOW), status="scheduled", message="Planned.",
                       impact="none", components=(AffectedSpec("db"),), maintenance=True,
                       scheduled_for=datetime(2026, 12, 8, 2, tzinfo=timezone.utc),
                       scheduled_until=datetime(2026, 12, 8, 3, tzinfo=timezone.utc))
    incident = parse(new_incident_text(spec), "2026-12-08-database-upgrade")
    assert incident.is_maintenance and incident.latest.status == "scheduled"
    assert incident.scheduled_for == datetime(2026, 12, 8, 2, tzinfo=timezone.utc)
    assert new_incident_id(spec, []) == "2026-12-08-database-upgrade"  # named after the window, not today
    with pytest.raises(AuthoringError, match="--from and --until"):
        new_incident_text(NewIncident(title="x", time=NOW, status="scheduled", message="m", impact="none",
                                      maintenance=True))


@pytest.mark.parametrize("title", ["API: errors", "# not a comment", "'quoted'", "yes", "123", "- dash",
                                   "Störung {api}", "a \"b\" c"])
def test_any_title_survives_yaml(title):
    assert parse(f"---\ntitle: {yaml_scalar(title)}\n---\n\n## 2026-11-20 14:00 UTC · Investigating\nx\n").title \
        == title


def test_add_update_goes_on_top_and_keeps_every_other_byte():
    request = UpdateRequest(time=datetime(2026, 11, 20, 14, 30, tzinfo=timezone.utc), status="monitoring",
                            message="A fix is deployed.")
    updated = add_update(EXISTING, request)
    head, _, tail = EXISTING.partition("## 2026-11-20 14:15")
    assert updated == head + "## 2026-11-20 14:30 UTC · Monitoring\nA fix is deployed.\n\n## 2026-11-20 14:15" + tail
    assert timeline(updated) == [("14:30", "monitoring", "A fix is deployed."),
                                 ("14:15", "identified", "A bad deploy.  \n\n```\n## 2026-11-20 14:00 UTC · Resolved   "
                                  "(inside a code block: not a heading)\n```"),
                                 ("13:02", "investigating", "Looking.")]


def test_add_update_in_a_crlf_file_with_bom_writes_crlf():
    crlf = "\ufeff" + EXISTING.replace("\n", "\r\n")
    updated = add_update(crlf, UpdateRequest(datetime(2026, 11, 20, 14, 30, tzinfo=timezone.utc), "resolved",
                                             "Fixed.\nAll good."))
    head, _, tail = crlf.partition("## 2026-11-20 14:15")
    assert updated == head + "## 2026-11-20 14:30 UTC · Resolved\r\nFixed.\r\nAll good.\r\n\r\n## 2026-11-20 14:15" + tail
    assert parse(updated).latest.status == "resolved"


def test_add_update_needs_a_heading():
    with pytest.raises(AuthoringError, match="no `## <time> · <status>`"):
        add_update("---\ntitle: x\n---\n\nno updates\n", UpdateRequest(NOW, "resolved", "x"))


def test_plan_update_keeps_the_status_for_a_note_and_fills_a_default_message():
    incident = parse(EXISTING)
    assert plan_update(incident, status=None, message="Still on it.", time=NOW) == \
        UpdateRequest(datetime(2026, 11, 20, 14, 31, tzinfo=timezone.utc), "identified", "Still on it.")
    assert plan_update(incident, status="Monitoring", message="", time=NOW).message == \
        "A fix has been applied and we are monitoring the results."
    assert plan_resolution(incident, message=None, time=NOW).message == "This incident has been resolved."


def test_plan_update_refuses_what_the_build_or_readers_would_not_take():
    incident = parse(EXISTING)
    with pytest.raises(AuthoringError, match=r"before the latest update \(2026-11-20 14:15 UTC\)"):
        plan_update(incident, status="monitoring", message="", time=datetime(2026, 11, 20, 14, 10,
                                                                             tzinfo=timezone.utc))
    with pytest.raises(AuthoringError, match=r"unknown status 'resolvd'.*did you mean \"resolved\""):
        plan_update(incident, status="resolvd", message="", time=NOW)
    with pytest.raises(AuthoringError, match="'completed' is a maintenance status"):
        plan_update(incident, status="completed", message="", time=NOW)
    resolved = parse(add_update(EXISTING, UpdateRequest(datetime(2026, 11, 20, 14, 20, tzinfo=timezone.utc),
                                                        "resolved", "Fixed.")))
    with pytest.raises(AuthoringError) as refused:
        plan_update(resolved, status="investigating", message="Back again.", time=NOW)
    assert "cannot go back to 'investigating'" in str(refused.value)
    assert ("heliograph incident new 'API errors' --component api:partial_outage --impact major "
            "--status investigating") in str(refused.value)
    with pytest.raises(AuthoringError, match="already resolved"):
        plan_resolution(resolved, message=None, time=NOW)
    # A note on a resolved incident keeps it resolved, which the build accepts.
    assert plan_update(resolved, status=None, message="Postmortem published.", time=NOW).status == "resolved"


def test_maintenance_statuses():
    assert check_status("In progress", maintenance=True) == "in_progress"
    with pytest.raises(AuthoringError, match="'resolved' is an incident status"):
        check_status("resolved", maintenance=True)


@pytest.mark.parametrize("title, slug", [
    ("API errors", "api-errors"),
    ("Störung: API 5xx!", "storung-api-5xx"),
    ("日本語", "incident"),
    ("Elevated error rates on the payments API for customers in the EU region", "elevated-error-rates-on-the-payments-api-for"),
])
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_new_incident_id_never_reuses_a_name():
    spec = NewIncident(title="API errors", time=NOW, status="investigating", message="x", impact="minor")
    assert new_incident_id(spec, []) == "2026-11-20-api-errors"
    assert new_incident_id(spec, ["2026-11-20-api-errors"]) == "2026-11-20-api-errors-2"
    assert new_incident_id(spec, ["2026-11-20-api-errors", "2026-11-20-api-errors-2"]) == "2026-11-20-api-errors-3"


IDS = ["2026-11-18-api-errors", "2026-11-20-api-errors-eu", "2026-11-23-webhook-delays"]


@pytest.mark.parametrize("query, found", [
    ("2026-11-18-api-errors", "2026-11-18-api-errors"),
    ("incidents/2026-11-18-api-errors.md", "2026-11-18-api-errors"),
    ("api-errors", "2026-11-18-api-errors"),  # exactly the part after the date
    ("2026-11-23", "2026-11-23-webhook-delays"),
    ("webhook", "2026-11-23-webhook-delays"),
    ("EU", "2026-11-20-api-errors-eu"),
])
def test_find_incident_id(query, found):
    assert find_incident_id(query, IDS) == found


def test_find_incident_id_errors_name_the_candidates():
    with pytest.raises(AuthoringError) as ambiguous:
        find_incident_id("api", IDS)
    assert str(ambiguous.value) == ("'api' matches 2 incidents; give more of the id:\n"
                                    "  2026-11-18-api-errors\n  2026-11-20-api-errors-eu")
    with pytest.raises(AuthoringError, match="no incident matches 'webhok-delays'"):
        find_incident_id("webhok-delays", IDS)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-20 14:15 UTC", datetime(2026, 11, 20, 14, 15, tzinfo=timezone.utc)),
    ("2026-11-20T15:15:00+01:00", datetime(2026, 11, 20, 14, 15, tzinfo=timezone.utc)),
    ("14:15 UTC", datetime(2026, 11, 20, 14, 15, tzinfo=timezone.utc)),
    ("15:15 Europe/Berlin", datetime(2026, 11, 20, 14, 15, tzinfo=timezone.utc)),
    ("14:15 +01:00", datetime(2026, 11, 20, 13, 15, tzinfo=timezone.utc)),
    ("23:50 UTC", datetime(2026, 11, 19, 23, 50, tzinfo=timezone.utc)),  # later than now today: yesterday's
])
def test_parse_when(text, expected):
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize("text", ["14:15", "2026-11-20 14:15", "soon", "25:00 UTC", "14:15 Mars/Olympus"])
def test_parse_when_needs_a_zone(text):
    with pytest.raises(AuthoringError, match="not a time with a zone"):
        parse_when(text, NOW)


def test_to_minute_rounds():
    assert to_minute(datetime(2026, 11, 20, 14, 30, 29, tzinfo=timezone.utc)).minute == 30
    assert to_minute(datetime(2026, 11, 20, 14, 30, 30, tzinfo=timezone.utc)).minute == 31
