import os
import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from generator.site.incident_loading import load_incidents
from generator.site.incidents import parse_incident, parse_time
from generator.site.problems import InvalidInput

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
COMPONENTS = ("api", "web", "db")


def parse(text: str, incident_id: str = "2026-11-20-api-errors", now=NOW):
    return parse_incident(textwrap.dedent(text), incident_id=incident_id, file="incidents/x.md",
                          component_ids=COMPONENTS, now=now)


def errors(text: str, **kwargs) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse(text, **kwargs)
    return [str(p) for p in caught.value.problems]


GOOD = """\
---
title: API errors
impact: major
components:
  api: partial_outage
  web: degraded_performance
---

## 2026-11-20 14:40 UTC · Resolved
The fix is deployed.

## 2026-11-20 14:02 UTC · Investigating
We are seeing elevated **5xx** rates on `/v1/*`.
"""


def test_good_incident_timeline_and_derived_times():
    incident, warnings = parse(GOOD)
    assert warnings == []
    assert incident.id == "2026-11-20-api-errors"
    assert (incident.title, incident.kind, incident.impact) == ("API errors", "incident", "major")
    assert [(a.id, a.effect) for a in incident.affected] == [("api", "partial_outage"), ("web", "degraded_performance")]
    assert [u.status for u in incident.updates] == ["resolved", "investigating"]
    assert incident.started_at == datetime(2026, 11, 20, 14, 2, tzinfo=timezone.utc)
    assert incident.resolved_at == datetime(2026, 11, 20, 14, 40, tzinfo=timezone.utc)
    assert incident.duration(NOW) == timedelta(minutes=38)
    assert not incident.is_open(NOW)
    assert "<strong>5xx</strong>" in incident.updates[1].body_html
    assert incident.updates[0].line == 9


@pytest.mark.parametrize("heading", [
    "## 2026-11-20 14:02 UTC · Investigating",
    "## 2026-11-20 14:02 UTC - investigating",
    "## 2026-11-20 14:02 UTC — INVESTIGATING",
    "## 2026-11-20 14:02 UTC | Investigating",
    "## 2026-11-20T14:02:00Z · Investigating",
    "## 2026-11-20T15:02:00+01:00 · Investigating",
    "## 2026-11-20 15:02 +0100 · Investigating",
    "## 2026-11-20 15:02 Europe/Berlin · Investigating",
])
def test_heading_separators_and_time_formats(heading):
    incident, _ = parse(f"---\ntitle: T\n---\n{heading}\nText.\n")
    assert incident.updates[0].time == datetime(2026, 11, 20, 14, 2, tzinfo=timezone.utc)
    assert incident.updates[0].status == "investigating"


def test_updates_in_any_order_and_list_of_components_gets_impact_effect():
    incident, _ = parse("---\ntitle: T\nimpact: critical\ncomponents: [api, db]\n---\n"
                        "## 2026-11-20 10:00 UTC · Investigating\na\n"
                        "## 2026-11-20 12:00 UTC · Monitoring\nc\n"
                        "## 2026-11-20 11:00 UTC · Identified\nb\n")
    assert [u.status for u in incident.updates] == ["monitoring", "identified", "investigating"]
    assert incident.is_open(NOW) and incident.status_at(NOW) == "monitoring"
    assert {a.effect for a in incident.affected} == {"major_outage"}


def test_no_components_means_whole_page_and_default_impact_minor():
    incident, _ = parse("---\ntitle: T\n---\n## 2026-11-20 10:00 UTC · Investigating\nx\n")
    assert incident.affected == () and incident.impact == "minor"


def test_started_in_front_matter_overrides_first_update():
    incident, _ = parse("---\ntitle: T\nstarted: 2026-11-20 09:30 UTC\n---\n## 2026-11-20 10:00 UTC · Investigating\nx\n")
    assert incident.started_at == datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def test_unknown_component_status_and_time_are_located():
    found = errors("""\
    ---
    title: T
    components: [api, wbe]
    ---

    ## 2026-11-20 14:40 UTC · Fixed
    x

    ## yesterday afternoon · Investigating
    y
    """)
    assert found == [
        'incidents/x.md:3:19: error: unknown component "wbe" (did you mean "web"?); components in site.yaml: api, web, db',
        "incidents/x.md:6:27: error: unknown status 'Fixed'; use one of investigating, identified, monitoring, resolved",
        "incidents/x.md:9:4: error: unparseable time 'yesterday afternoon'; write e.g. `2026-11-20 14:02 UTC` or an "
        "ISO 8601 time with a zone such as `2026-11-20T14:02:00+01:00`",
    ]


def test_time_without_zone_is_refused():
    found = errors("---\ntitle: T\n---\n## 2026-11-20 14:40 · Investigating\nx\n")
    assert found[0].startswith("incidents/x.md:4:4: error: unparseable time '2026-11-20 14:40'")


def test_no_updates():
    found = errors("---\ntitle: T\n---\n\nJust some text.\n")
    assert found == ["incidents/x.md:4:1: error: no updates; add one, e.g. `## 2026-11-20 14:02 UTC · Investigating` "
                     "followed by a sentence"]


def test_future_update_is_an_error_for_incidents_but_not_maintenance():
    found = errors("---\ntitle: T\n---\n## 2026-11-22 10:00 UTC · Investigating\nx\n")
    assert found[0].startswith("incidents/x.md:4:1: error: update time 2026-11-22 10:00 UTC is in the future")
    maintenance, _ = parse("---\ntitle: T\ntype: maintenance\nscheduled_for: 2026-12-01 02:00 UTC\n"
                           "scheduled_until: 2026-12-01 03:00 UTC\n---\n## 2026-12-01 02:00 UTC · In progress\nx\n")
    assert maintenance.updates[0].status == "in_progress"


def test_update_after_resolution_is_an_error():
    found = errors("---\ntitle: T\n---\n## 2026-11-20 12:00 UTC · Monitoring\nb\n"
                   "## 2026-11-20 11:00 UTC · Resolved\na\n## 2026-11-20 10:00 UTC · Investigating\nz\n")
    assert found == ["incidents/x.md:4:1: error: this update (monitoring) comes after the resolved update at line 6; "
                     "reopen by changing that update's status, or open a new incident"]


def test_front_matter_errors_are_all_reported():
    found = errors("---\ntitel: T\nimpact: huge\ntype: outage\ncomponents: {api: broken}\n---\n"
                   "## 2026-11-20 10:00 UTC · Investigating\nx\n")
    assert 'incidents/x.md:2:1: error: unknown front matter key "titel" (did you mean "title"?)' in found[0]
    assert any(p.startswith('incidents/x.md:2:1: error: missing "title"') for p in found)
    assert any(p.startswith("incidents/x.md:3:9: error: \"impact\" must be one of none, minor, major, critical") for p in found)
    assert any(p.startswith("incidents/x.md:4:7: error: \"type\" must be incident or maintenance") for p in found)
    assert any(p.startswith("incidents/x.md:5:19: error: unknown effect 'broken' for \"api\"") for p in found)


def test_maintenance_needs_its_window_and_maintenance_statuses():
    found = errors("---\ntitle: T\ntype: maintenance\n---\n## 2026-11-20 10:00 UTC · Investigating\nx\n")
    assert 'maintenance needs "scheduled_for"' in found[0]
    assert 'maintenance needs "scheduled_until"' in found[1]
    assert "'investigating' is a incident status" in found[2]


def test_maintenance_follows_its_schedule_when_nobody_updates_it():
    text = ("---\ntitle: T\ntype: maintenance\ncomponents: [db]\nscheduled_for: 2026-11-21 11:00 UTC\n"
            "scheduled_until: 2026-11-21 13:00 UTC\n---\n## 2026-11-19 10:00 UTC · Scheduled\nx\n")
    maintenance, _ = parse(text)
    assert maintenance.impact == "none"
    assert maintenance.status_at(datetime(2026, 11, 21, 10, 59, tzinfo=timezone.utc)) == "scheduled"
    assert maintenance.status_at(datetime(2026, 11, 21, 11, 0, tzinfo=timezone.utc)) == "in_progress"
    assert maintenance.status_at(datetime(2026, 11, 21, 13, 0, tzinfo=timezone.utc)) == "completed"
    assert maintenance.ended_at(datetime(2026, 11, 22, tzinfo=timezone.utc)) == datetime(2026, 11, 21, 13, 0, tzinfo=timezone.utc)


def test_text_before_first_update_is_a_warning():
    _, warnings = parse("---\ntitle: T\n---\nSummary here.\n\n## 2026-11-20 10:00 UTC · Investigating\nx\n")
    assert [str(w) for w in warnings] == [
        "incidents/x.md:4:1: warning: text before the first update heading is not shown; move it under a "
        "`## <time> · <status>` heading"]


def test_headings_inside_code_fences_are_body_text():
    incident, _ = parse("---\ntitle: T\n---\n## 2026-11-20 10:00 UTC · Investigating\n```\n## not a heading\n```\n")
    assert len(incident.updates) == 1 and "## not a heading" in incident.updates[0].body_html


def test_postmortem_markdown_or_url():
    incident, _ = parse("---\ntitle: T\npostmortem: https://blog.example/pm\n---\n## 2026-11-20 10:00 UTC · Resolved\nx\n")
    assert incident.postmortem_url == "https://blog.example/pm"
    incident, _ = parse("---\ntitle: T\npostmortem: |\n  **Root cause**: DNS.\n---\n## 2026-11-20 10:00 UTC · Resolved\nx\n")
    assert "<strong>Root cause</strong>" in incident.postmortem_html


def test_file_name_must_be_a_url_safe_id():
    found = errors("---\ntitle: T\n---\n## 2026-11-20 10:00 UTC · Investigating\nx\n", incident_id="API Errors")
    assert found == ["incidents/x.md: error: the file name gives the incident id 'API Errors', which appears in URLs; "
                     "rename the file to lowercase letters, digits and dashes, e.g. api-errors.md"]


def test_missing_front_matter():
    found = errors("## 2026-11-20 10:00 UTC · Investigating\nx\n")
    assert found[0].startswith("incidents/x.md:1:1: error: missing front matter")


def test_load_incidents_keeps_good_files_and_reports_bad_ones(tmp_path):
    (tmp_path / "2026-11-20-good.md").write_text(GOOD)
    (tmp_path / "2026-11-19-bad.md").write_text("---\ntitle: x\n---\n## nope\n")
    loaded = load_incidents(tmp_path, COMPONENTS, now=NOW, relative_to=tmp_path.parent)
    assert [i.id for i in loaded.incidents] == ["2026-11-20-good"]
    assert len(loaded.problems) == 1
    assert str(loaded.problems[0]).startswith(f"{tmp_path.name}/2026-11-19-bad.md:4:3: error: update heading must be")


@pytest.mark.parametrize("text,expected", [
    ("2026-11-20T14:02:00Z", datetime(2026, 11, 20, 14, 2, tzinfo=timezone.utc)),
    ("2026-11-20 14:02:30 UTC", datetime(2026, 11, 20, 14, 2, 30, tzinfo=timezone.utc)),
    ("2026-11-20T09:02-05:00", datetime(2026, 11, 20, 14, 2, tzinfo=timezone.utc)),
    ("2026-11-20 14:02", None),
    ("not a time", None),
    ("2026-13-40 14:02 UTC", None),
    ("2026-11-20 14:02 Mars/Base", None),
])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_incidents_from_the_parse_cache_equal_fresh_ones_with_their_facts_at_hand(tmp_path):
    """A rebuild reads incidents from the parse cache: each equals a fresh parse, with the facts
    every build needs worked out already (Incident.with_derived_facts)."""
    folder = tmp_path / "incidents"
    folder.mkdir()
    (folder / "2026-11-20-good.md").write_text(GOOD)
    cache = tmp_path / "cache"
    fresh = load_incidents(folder, COMPONENTS, now=NOW, relative_to=tmp_path, cache_dir=cache).incidents[0]
    cached = load_incidents(folder, COMPONENTS, now=NOW, relative_to=tmp_path, cache_dir=cache).incidents[0]
    assert cached is not fresh
    assert {"updated_at", "created_at", "resolved_at", "latest_status"} <= vars(cached).keys()
    assert (cached.updated_at, cached.created_at, cached.resolved_at, cached.latest_status, cached.status_at(NOW)) == (
        fresh.updated_at, fresh.created_at, fresh.resolved_at, "resolved", "resolved")
    assert cached.latest.body_text == "The fix is deployed."
    assert cached == fresh and cached.updates[1].body_html == fresh.updates[1].body_html
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        cached.nonsense  # noqa: B018


def _three_incidents(tmp_path):
    """incidents/ with three files: one with a warning (text before its first update), and one
    whose last update is a minute before NOW."""
    folder = tmp_path / "incidents"
    folder.mkdir()
    (folder / "2026-11-20-good.md").write_text(GOOD)
    (folder / "2026-11-19-older.md").write_text(
        GOOD.replace("2026-11-20", "2026-11-19").replace("---\n\n## ", "---\nA stray line.\n\n## "))
    (folder / "2026-11-21-later.md").write_text(GOOD.replace("2026-11-20 14:40", "2026-11-21 11:59"))
    return folder


def test_a_rebuild_with_every_incident_file_as_it_was_takes_them_from_the_listing(tmp_path, monkeypatch):
    """When no incident file changed, the parse cache is read in the order the last build sorted
    it, without a file looked up again; any change, a `now` that makes an update future, or a
    lost cache entry goes the usual way and gives what a fresh load gives."""
    from generator.site import incident_loading

    folder = _three_incidents(tmp_path)
    cache = tmp_path / "cache"

    def load(now=NOW):
        return load_incidents(folder, COMPONENTS, now=now, relative_to=tmp_path, cache_dir=cache)

    first = load()
    assert [i.id for i in first.incidents] == ["2026-11-21-later", "2026-11-20-good", "2026-11-19-older"]

    class Untouchable:
        def __init__(self, *args):
            raise AssertionError("a file was looked up again")

    with monkeypatch.context() as patched:
        patched.setattr(incident_loading, "ContentDigests", Untouchable)
        again = load()
    assert again.incidents == first.incidents and again.problems == first.problems
    assert [p.message for p in again.problems] == [p.message for p in first.problems] and again.problems

    (folder / "2026-11-20-good.md").write_text(GOOD.replace("The fix is deployed.", "The fix is out."))
    edited = load()
    assert [u.body_html for i in edited.incidents if i.id == "2026-11-20-good" for u in i.updates][0] == "<p>The fix is out.</p>"

    with pytest.raises(AssertionError, match="looked up again"), monkeypatch.context() as patched:
        patched.setattr(incident_loading, "ContentDigests", Untouchable)
        load(now=NOW - timedelta(hours=1))  # the later incident's last update would be in the future
    earlier = load(now=NOW - timedelta(hours=1))
    assert any("in the future" in p.message for p in earlier.problems)

    for bucket in (cache / "incidents").glob("[0-9]*.pickle"):
        bucket.unlink()
    assert load().incidents == edited.incidents


def test_a_rebuild_with_a_few_incident_files_changed_parses_only_those(tmp_path, monkeypatch):
    """An edit, a new file or a deleted one: the changed files are parsed and put in place among
    the last build's incidents, with no other file looked up again. Whatever changed, the
    result is what a load without any cache gives, and the listing it leaves is right for the
    next build."""
    from generator.site import incident_loading

    folder = _three_incidents(tmp_path)
    (folder / "2026-11-18-oldest.md").write_text(GOOD.replace("2026-11-20", "2026-11-18"))
    cache = tmp_path / "cache"

    def load(now=NOW, cache_dir=cache):
        return load_incidents(folder, COMPONENTS, now=now, relative_to=tmp_path, cache_dir=cache_dir)

    class Untouchable:
        def __init__(self, *args):
            raise AssertionError("every file was looked up again")

    def few_changed(now=NOW):
        with monkeypatch.context() as patched:
            patched.setattr(incident_loading, "ContentDigests", Untouchable)
            loaded = load(now)
        fresh = load(now, cache_dir=None)
        assert loaded.incidents == fresh.incidents and loaded.problems == fresh.problems
        assert [i.id for i in loaded.incidents] == [i.id for i in fresh.incidents]
        return loaded

    load()
    (folder / "2026-11-20-good.md").write_text(GOOD.replace("The fix is deployed.", "The fix is out."))
    assert "<p>The fix is out.</p>" in [u.body_html for i in few_changed().incidents for u in i.updates]
    # moved to the top of the order: its start is now the newest
    (folder / "2026-11-18-oldest.md").write_text(GOOD.replace("2026-11-20 14:02", "2026-11-21 10:00")
                                                 .replace("2026-11-20 14:40", "2026-11-21 10:30"))
    assert [i.id for i in few_changed().incidents][:2] == ["2026-11-18-oldest", "2026-11-21-later"]
    (folder / "2026-11-17-new.md").write_text(GOOD.replace("2026-11-20", "2026-11-17"))
    assert "2026-11-17-new" in [i.id for i in few_changed().incidents]
    (folder / "2026-11-19-older.md").unlink()
    assert not few_changed().problems  # its warning went with it
    # The newest update of all is edited out: an hour earlier, no update is in the future any
    # more, and the listing must know it (else the next build would look up every file again).
    (folder / "2026-11-21-later.md").write_text(GOOD.replace("2026-11-20 14:40 UTC · Resolved", "2026-11-20 14:30 UTC · Monitoring"))
    few_changed()
    with monkeypatch.context() as patched:
        patched.setattr(incident_loading, "ContentDigests", Untouchable)
        assert load(NOW - timedelta(hours=1)).incidents == load(NOW - timedelta(hours=1), cache_dir=None).incidents
    # Touched, or checked out again: new times, same bytes, not parsed again.
    good = folder / "2026-11-20-good.md"
    os.utime(good, ns=(good.stat().st_atime_ns, good.stat().st_mtime_ns + 10**9))
    with monkeypatch.context() as patched:
        patched.setattr(incident_loading, "parse_incident", Untouchable)
        patched.setattr(incident_loading, "ContentDigests", Untouchable)
        touched = load()
    assert touched.incidents == load(cache_dir=None).incidents
    # A changed file that no longer parses: the usual way, which reports it.
    (folder / "2026-11-20-good.md").write_text(GOOD.replace("impact: major", "impact: huge"))
    broken = load()
    assert any("huge" in p.message for p in broken.problems) and broken.problems == load(cache_dir=None).problems
