"""`heliograph import`: cState, Upptime, Statuspage and Statusfy sites become Heliograph sites that
build at once, with a line for everything not carried over. Real files from those projects
(tests/fixtures/peers/, copied with their sources and licenses, and tests/fixtures/ in their formats), real builds, a real HTTP
server for a page imported by URL."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from clirun import REPO, invoke
from servers import static_server

PEERS = Path(__file__).resolve().parent / "fixtures" / "peers"  # copied from ../shared, sources and licenses beside them
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = "2026-12-05T06:50:00Z"


def imported(source: str, location: str | Path, into: Path, *extra: str):
    ran = invoke("import", source, str(location), "--into", str(into), *extra)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr
    return ran


def built(site: Path) -> Path:
    ran = invoke("--site", str(site), "build", "--now", NOW)
    assert ran.code == 0, ran.stdout + ran.stderr
    return site / "build"


def api(build: Path, name: str) -> dict:
    return json.loads((build / "api" / "v2" / name).read_text())


# --- Statuspage ---------------------------------------------------------------------------------

# Every field Statuspage defines, compared after a round trip. Ids (id, page_id, incident_id,
# group_id, components' member ids, affected components' code) are digests of the site's own
# component and incident ids, which Statuspage's JSON does not hold: the importer makes ids from
# names, so they match only where the original ids were their names' slugs.
PAGE_FIELDS = ("name", "url", "time_zone")
COMPONENT_FIELDS = ("name", "status", "created_at", "updated_at", "position", "description", "showcase",
                    "start_date", "group", "only_show_if_degraded")
INCIDENT_FIELDS = ("name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact", "shortlink",
                   "started_at")
MAINTENANCE_FIELDS = INCIDENT_FIELDS + ("scheduled_for", "scheduled_until")
UPDATE_FIELDS = ("status", "body", "created_at", "updated_at", "display_at", "deliver_notifications", "custom_tweet",
                 "tweet_id")
AFFECTED_FIELDS = ("name", "old_status", "new_status")


def _pick(record: dict, fields: tuple[str, ...]) -> dict:
    return {field: record.get(field, "<absent>") for field in fields}


def _incident_view(incident: dict, fields: tuple[str, ...]) -> dict:
    return {**_pick(incident, fields),
            "components": [_pick(c, COMPONENT_FIELDS) for c in incident.get("components") or []],
            "updates": [{**_pick(u, UPDATE_FIELDS),
                         "affected": [_pick(a, AFFECTED_FIELDS) for a in u.get("affected_components") or []]}
                        for u in incident["incident_updates"]]}


def _statuspage_view(build: Path) -> dict:
    summary, incidents = api(build, "summary.json"), api(build, "incidents.json")
    maintenances = api(build, "scheduled-maintenances.json")
    by_id = {c["id"]: c["name"] for c in summary["components"]}
    return {
        "page": _pick(summary["page"], PAGE_FIELDS),
        "status": summary["status"],
        "components": [{**_pick(c, COMPONENT_FIELDS), "group_name": by_id.get(c.get("group_id")),
                        "members": sorted(by_id[m] for m in c.get("components") or [])}
                       for c in summary["components"]],
        "summary_incidents": [_incident_view(i, INCIDENT_FIELDS) for i in summary["incidents"]],
        "summary_maintenances": [_incident_view(m, MAINTENANCE_FIELDS) for m in summary["scheduled_maintenances"]],
        "incidents": [_incident_view(i, INCIDENT_FIELDS) for i in incidents["incidents"]],
        "maintenances": [_incident_view(m, MAINTENANCE_FIELDS) for m in maintenances["scheduled_maintenances"]],
    }


def _manual_demo(root: Path) -> Path:
    """The demo's components, incidents (a postmortem, maintenance past and upcoming, effects on
    components, groups) and settings, without its checks and history."""
    import yaml

    root.mkdir()
    config = yaml.safe_load((REPO / "site.yaml").read_text())
    for component in config["components"]:
        component.pop("check", None)
    config.pop("alerts", None)
    (root / "site.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copytree(REPO / "incidents", root / "incidents")
    return root


def test_a_heliograph_page_round_trips_through_its_own_statuspage_api(tmp_path):
    """Every field Statuspage defines is the same after a round trip (ids aside, see above)."""
    source = built(_manual_demo(tmp_path / "demo"))
    ran = imported("statuspage", source / "api" / "v2", tmp_path / "copy")
    rebuilt = built(tmp_path / "copy")
    original, copy = _statuspage_view(source), _statuspage_view(rebuilt)
    assert copy == original
    assert len(original["incidents"]) >= 2 and original["maintenances"]
    assert any(i["status"] == "postmortem" for i in original["incidents"])  # carried as a link to the old page
    assert any(u["affected"] for i in original["incidents"] for u in i["updates"])
    assert "not carried over" not in ran.stdout  # nothing of a Heliograph page's API is lost
    names = sorted(p.name for p in (tmp_path / "copy" / "incidents").glob("*.md"))
    assert names == sorted(p.name for p in (tmp_path / "demo" / "incidents").glob("*.md"))  # their own ids kept


def test_a_checked_page_round_trips_but_for_what_its_checks_history_gives(tmp_path):
    """Statuspage's API publishes no checks and no history: a component's created_at (the first
    day of history), start_date, showcase (whether it shows uptime bars) and, for one no incident
    ever changed, updated_at (then its created_at) come from them, and only they differ."""
    assert invoke("demo", str(tmp_path / "demo"), "--now", NOW).code == 0
    source = built(tmp_path / "demo")
    imported("statuspage", source / "api" / "v2", tmp_path / "copy")
    original, copy = _statuspage_view(source), _statuspage_view(built(tmp_path / "copy"))
    from_history = ("created_at", "updated_at", "start_date", "showcase")

    def without(view: dict) -> dict:
        def strip(component: dict) -> dict:
            return {k: v for k, v in component.items() if k not in from_history}
        view = json.loads(json.dumps(view))
        view["components"] = [strip(c) for c in view["components"]]
        for key in ("summary_incidents", "summary_maintenances", "incidents", "maintenances"):
            for incident in view[key]:
                incident["components"] = [strip(c) for c in incident["components"]]
        return view

    assert without(copy) == without(original)
    assert copy != original  # and they do differ: the demo's checked components have history


def test_a_statuspage_page_is_imported_by_its_url(tmp_path):
    folder = tmp_path / "served" / "api" / "v2"
    folder.mkdir(parents=True)
    shutil.copy(PEERS / "statuspage" / "gwen-cli-cloudflare" / "cloudflare-summary.json", folder / "summary.json")
    shutil.copy(PEERS / "statuspage" / "gwen-cli-cloudflare" / "cloudflare-incidents.json", folder / "incidents.json")
    with static_server(tmp_path / "served") as url:
        ran = imported("statuspage", url, tmp_path / "site")
    build = built(tmp_path / "site")
    names = {c["name"] for c in api(build, "summary.json")["components"]}
    source = json.loads((folder / "summary.json").read_text())
    assert {c["name"] for c in source["components"] if not c["group"]} <= names
    titles = {i["name"] for i in api(build, "incidents.json")["incidents"]}
    assert titles == {i["name"] for i in json.loads((folder / "incidents.json").read_text())["incidents"]}
    # Components named only by incidents (this saved summary is trimmed) are added, and said so.
    assert "is named by incidents but not listed in summary.json" in ran.stdout
    assert "summary.json: not carried over: /components/1/status: component 'Arica, Chile - (ARI)': its status 'partial_outage'" in ran.stdout


def test_a_saved_folder_with_prefixed_names_is_read_and_times_to_the_second_are_reported(tmp_path):
    ran = imported("statuspage", PEERS / "statuspage" / "gwen-cli-cloudflare", tmp_path / "site")
    assert "update times to the second (incident files keep minutes)" in ran.stdout
    text = (tmp_path / "site" / "incidents").glob("*web-analytics*.md").__next__().read_text()
    assert "## 2026-08-05 15:09 UTC · Investigating" in text and "## 2026-08-05 17:12 UTC · Resolved" in text, text
    built(tmp_path / "site")


def test_not_json_is_located_and_nothing_is_written(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "summary.json").write_text('{"page": {"name": "X"},\n  "components": [,]}\n')
    ran = invoke("import", "statuspage", str(folder), "--into", str(tmp_path / "site"))
    assert ran.code == 1
    assert f"{folder / 'summary.json'}:2:" in ran.stderr and "error: not JSON" in ran.stderr
    assert "Traceback" not in ran.stderr and not (tmp_path / "site").exists()


# --- cState -------------------------------------------------------------------------------------


def test_a_cstate_site_becomes_a_site_that_builds(tmp_path):
    ran = imported("cstate", PEERS / "cstate", tmp_path / "site")
    site = tmp_path / "site"
    build = built(site)
    components = {c["name"]: c for c in api(build, "summary.json")["components"]}
    assert {"Gateway", "Backup Gateway", "Website", "API", "Media Proxy", "North Coast"} == set(components)
    assert components["North Coast"]["group"] is True  # a category with a title is a group
    assert components["Website"]["group_id"] is None  # "Uncategorized" is untitled: no group
    text = (site / "incidents" / "2018-04-13-unavailable-guilds-connection-issues.md").read_text()
    # Each {{< track >}} is a dated update, its label the status; resolvedWhen closes it.
    assert text.index("## 2018-04-13 17:30 UTC · Resolved") < text.index("## 2018-04-13 16:50 UTC · Monitoring") \
        < text.index("## 2018-04-13 15:54 UTC · Investigating")
    assert "After hitting the ole reboot button" in text and "{{<" not in text
    assert "postmortem: At approximately 14:01" in text  # the leading *Post-mortem* section
    assert "api: major_outage" in text and "media-proxy: major_outage" in text and "impact: critical" in text
    maintenance = (site / "incidents" / "2024-02-24-maintenance-window.md").read_text()
    assert "type: maintenance" in maintenance and "scheduled_until: 2024-02-24 11:35 UTC" in maintenance
    ongoing = (site / "incidents" / "2024-12-27-dns-resolution-api.md").read_text()
    assert "· Resolved" not in ongoing  # resolved: false stays open
    # What is not carried over says where it was.
    assert "config.yml:313: not carried over: logo 'logo.png'" in ran.stdout
    assert "content/issues/2024-12-27-dns-resolution-api.md:7: not carried over: automated: true" in ran.stdout
    assert "config.yml:121: not carried over: system 'Website': its link 'https://example.com/'" in ran.stdout


def test_a_broken_cstate_post_is_located_and_nothing_is_written(tmp_path):
    source = tmp_path / "cstate"
    shutil.copytree(PEERS / "cstate" / "exampleSite", source)
    (source / "content" / "issues" / "2025-01-01-broken.md").write_text(
        "---\ntitle: Broken\ndate: 2025-01-01 10:00:00\naffected: [API\nseverity: down\n---\nText\n")
    ran = invoke("import", "cstate", str(source), "--into", str(tmp_path / "site"))
    assert ran.code == 1
    assert "content/issues/2025-01-01-broken.md:5:9: error: front matter is not valid YAML" in ran.stderr
    assert "Traceback" not in ran.stderr and not (tmp_path / "site").exists()


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_a_post_linking_out_of_the_source_is_refused(tmp_path):
    source = tmp_path / "cstate"
    shutil.copytree(PEERS / "cstate" / "exampleSite", source)
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Secret\ndate: 2025-01-01 10:00:00\n---\nhunter2\n")
    (source / "content" / "issues" / "2025-01-01-leak.md").symlink_to(secret)
    ran = invoke("import", "cstate", str(source), "--into", str(tmp_path / "site"))
    assert ran.code == 1 and "Traceback" not in ran.stderr
    assert "2025-01-01-leak.md" in ran.stderr and not (tmp_path / "site").exists()


# --- Upptime ------------------------------------------------------------------------------------


def test_an_upptime_repository_brings_its_checks_history_and_issues(tmp_path):
    ran = imported("upptime", FIXTURES / "upptime", tmp_path / "site")
    site = tmp_path / "site"
    config = (site / "site.yaml").read_text()
    assert "base_url: https://status.example.com/" in config and "title: Example Status" in config
    assert "url: https://api.example.com/v1/health" in config and "method: POST" in config
    assert "Authorization: 'Bearer ${API_TOKEN}'" in config  # Upptime's $SECRET, as Heliograph's ${SECRET}
    assert "expect: {status: [200, 204]}" in config and "degraded_after: 1500ms" in config
    assert "type: tcp" in config and "host: db.example.com" in config and "port: 5432" in config
    assert "url: https://reports.example.com/health?key=${REPORTS_KEY}" in config  # the __NAME__ form too
    assert "${API_TOKEN}, ${DASHBOARD_URL}, ${REPORTS_KEY}" in ran.stderr
    ran_validate = invoke("--site", str(site), "validate")
    assert ran_validate.code == 0, ran_validate.stderr
    build = built(site)
    history = json.loads((build / "api" / "history.json").read_text()) if (build / "api" / "history.json").exists() else None
    page = (build / "components" / "website" / "index.html").read_text()
    # 2026-11-04 was down all day, 2026-11-03 for 72 minutes: from summary.json's dailyMinutesDown.
    assert "Nov 4, 2026: 0.00% up" in page and "Nov 3, 2026: 95.00% up" in page and "Nov 2, 2026: 100.00% up" in page
    del history
    titles = {p.read_text().splitlines()[1] for p in (site / "incidents").glob("*.md")}
    assert titles == {"title: Website is down", "title: API has degraded performance", "title: Database upgrade"}
    assert "issues.json (issue #15): not carried over: 'Add a status check for the docs' is not labelled" in ran.stdout
    assert ".upptimerc.yml:37: not carried over: assignees" in ran.stdout
    # The open maintenance issue is written as scheduled, whenever the import runs; the page
    # built after its window shows it completed, by its schedule.
    (maintenance,) = (site / "incidents").glob("*database-upgrade*.md")
    assert "· Scheduled" in maintenance.read_text() and "Completed" not in maintenance.read_text()
    listed = json.loads((build / "api" / "v2" / "scheduled-maintenances.json").read_text())["scheduled_maintenances"]
    assert [m["status"] for m in listed if m["name"] == "Database upgrade"] == ["completed"]


def test_upptime_without_its_issues_says_how_to_export_them(tmp_path):
    source = tmp_path / "repo"
    shutil.copytree(FIXTURES / "upptime", source)
    (source / "issues.json").unlink()
    ran = imported("upptime", source, tmp_path / "site")
    assert "gh issue list --state all" in ran.stdout
    ran = imported("upptime", PEERS / "upptime" / "upptimerc-digital-land.yml", tmp_path / "real")
    assert "https://status.planning.data.gov.uk/" in (tmp_path / "real" / "site.yaml").read_text()
    assert "status-website.customBodyHtml" in ran.stdout and "status-website.css" in ran.stdout
    built(tmp_path / "real")


# --- Statusfy -----------------------------------------------------------------------------------


def test_a_statusfy_site_becomes_a_site_that_builds(tmp_path):
    ran = imported("statusfy", FIXTURES / "statusfy", tmp_path / "site")
    site = tmp_path / "site"
    build = built(site)
    names = {c["name"] for c in api(build, "summary.json")["components"]}
    assert names == {"API", "CDN", "Site Delivery"}  # named by locales/en.json
    text = (site / "incidents" / "2018-01-28-api-issues.md").read_text()
    assert text.index("23:58 UTC · Resolved") < text.index("22:28 UTC · Monitoring") < text.index("18:28 UTC · Investigating")
    assert "Our Files Conversion Process was responding slowly." in text and ":::" not in text
    maintenance = (site / "incidents" / "2021-09-01-database-maintenance.md").read_text()
    assert "scheduled_for: 2021-09-02 15:00 UTC" in maintenance and "scheduled_until: 2021-09-02 16:30 UTC" in maintenance
    assert "content/2020-08-17_feed-delays.md:5: not carried over: affected system 'search'" in ran.stdout
    assert "content/es: not carried over: 1 translated incident files" in ran.stdout


# --- into an existing site ----------------------------------------------------------------------


def test_importing_into_a_site_adds_what_it_lacks_and_overwrites_nothing(tmp_path):
    site = tmp_path / "site"
    assert invoke("init", str(site)).code == 0
    _example_before(site, "2026-11-30")  # init writes it at the real time; these builds run at NOW
    before = {p: p.read_bytes() for p in (site / "incidents").glob("*.md")}
    config_before = (site / "site.yaml").read_text()
    ran = imported("statusfy", FIXTURES / "statusfy", site)
    config = (site / "site.yaml").read_text()
    assert config.startswith(config_before.split("components:")[0])  # the settings are as they were
    assert "id: site-delivery" in config and config.count("id: api\n") == 1  # init's api is kept, not doubled
    assert "kept: site.yaml: component 'api' is there already; kept as it is" in ran.stdout
    assert all(path.read_bytes() == content for path, content in before.items())
    imported("statusfy", FIXTURES / "statusfy", site)  # again: every incident file is there
    built(site)


def _example_before(site: Path, day: str) -> None:
    """Move the example incident `init` wrote to `day`, so that a build at NOW finds it in the past."""
    import re

    for example in (site / "incidents").glob("*-example-incident.md"):
        text = re.sub(r"## \d{4}-\d{2}-\d{2} ", f"## {day} ", example.read_text())
        example.unlink()
        (site / "incidents" / f"{day}-example-incident.md").write_text(text)


def test_a_folder_that_is_neither_empty_nor_a_site_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    ran = invoke("import", "statusfy", str(FIXTURES / "statusfy"), "--into", str(tmp_path))
    assert ran.code == 1 and "neither empty nor a Heliograph site" in ran.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
