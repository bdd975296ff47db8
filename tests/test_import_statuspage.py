"""`heliograph import statuspage`: groups, every update's status, the worst effect each update gave
a component, maintenance windows, and a JSON pointer for each thing not carried over. A page
served by a real HTTP server on 127.0.0.1, the CLI as a real process, then a real build."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import REPO, invoke
from servers import static_server

PEERS = Path(__file__).resolve().parent / "fixtures" / "peers"  # copied from ../shared, sources and licenses beside them
NOW = "2026-12-05T06:50:00Z"
PAGE = {"id": "p1", "name": "Acme Status", "url": "https://status.acme.example", "time_zone": "Etc/UTC",
        "updated_at": "2026-12-01T10:00:00.000Z"}


def _component(cid: str, name: str, position: int, group_id: str | None = None, group: bool = False,
               members: list[str] | None = None) -> dict:
    record = {"id": cid, "name": name, "status": "operational", "created_at": "2020-01-01T00:00:00.000Z",
              "updated_at": "2026-12-01T10:00:00.000Z", "position": position, "description": None,
              "showcase": False, "start_date": None, "group_id": group_id, "page_id": "p1", "group": group,
              "only_show_if_degraded": False}
    if group:
        record["components"] = members or []
    return record


def _update(uid: str, status: str, at: str, body: str, affected: list[tuple[str, str, str]]) -> dict:
    return {"id": uid, "status": status, "body": body, "incident_id": "i1", "created_at": at, "updated_at": at,
            "display_at": at, "deliver_notifications": True, "custom_tweet": None, "tweet_id": None,
            "affected_components": [{"code": code, "name": name, "old_status": "operational", "new_status": new}
                                    for code, name, new in affected]}


INCIDENT = {
    "id": "i1", "name": "Paris answers slowly, then not at all", "status": "resolved", "impact": "major",
    "created_at": "2026-11-20T09:00:00.000Z", "updated_at": "2026-11-20T11:00:00.000Z",
    "monitoring_at": None, "resolved_at": "2026-11-20T11:00:00.000Z", "started_at": "2026-11-20T09:00:00.000Z",
    "shortlink": "https://stspg.io/abc", "page_id": "p1",
    "components": [_component("c-paris", "Paris", 1, "g-eu")],
    "incident_updates": [
        _update("u3", "resolved", "2026-11-20T11:00:00.000Z", "Paris is back.", [("c-paris", "Paris", "operational")]),
        _update("u2", "identified", "2026-11-20T10:00:00.000Z", "A router failed; Paris is down.",
                [("c-paris", "Paris", "major_outage")]),
        _update("u1", "investigating", "2026-11-20T09:00:00.000Z", "Paris is slow.",
                [("c-paris", "Paris", "degraded_performance")]),
        _update("u0", "escalated", "2026-11-20T09:30:00.000Z", "A status Statuspage never had.", []),
    ]}
MAINTENANCE = {
    "id": "m1", "name": "London database upgrade", "status": "scheduled", "impact": "maintenance",
    "created_at": "2026-12-01T10:00:00.000Z", "updated_at": "2026-12-01T10:00:00.000Z",
    "monitoring_at": None, "resolved_at": None, "started_at": "2026-12-01T10:00:00.000Z",
    "shortlink": "https://stspg.io/def", "page_id": "p1",
    "scheduled_for": "2026-12-10T02:00:00.000Z", "scheduled_until": "2026-12-10T04:00:00.000Z",
    "components": [_component("c-london", "London", 2, "g-eu")],
    "incident_updates": [_update("mu1", "scheduled", "2026-12-01T10:00:00.000Z", "We upgrade the London database.",
                                 [("c-london", "London", "under_maintenance")])]}


def _served_page(root: Path) -> Path:
    """A small Statuspage page's api/v2 as Statuspage writes it: a group of two, one incident, one window."""
    folder = root / "api" / "v2"
    folder.mkdir(parents=True)
    components = [_component("g-eu", "Europe", 1, group=True, members=["c-paris", "c-london"]),
                  _component("c-paris", "Paris", 1, "g-eu"), _component("c-london", "London", 2, "g-eu"),
                  _component("c-api", "API", 3)]
    components[3]["only_show_if_degraded"] = True
    documents = {"summary.json": {"page": PAGE, "components": components, "incidents": [],
                                  "scheduled_maintenances": [MAINTENANCE],
                                  "status": {"indicator": "none", "description": "All Systems Operational"}},
                 "incidents.json": {"page": PAGE, "incidents": [INCIDENT]},
                 "scheduled-maintenances.json": {"page": PAGE, "scheduled_maintenances": [MAINTENANCE]}}
    for name, document in documents.items():
        (folder / name).write_text(json.dumps(document, indent=2))
    return root


def _import(location: str | Path, into: Path):
    ran = invoke("import", "statuspage", str(location), "--into", str(into))
    assert ran.code == 0 and "Traceback" not in ran.stderr, ran.stdout + ran.stderr
    return ran


def _build(site: Path) -> Path:
    ran = invoke("--site", str(site), "build", "--now", NOW)
    assert ran.code == 0, ran.stdout + ran.stderr
    return site / "build"


def test_a_page_by_url_keeps_groups_updates_effects_and_its_maintenance_window(tmp_path):
    with static_server(_served_page(tmp_path / "served")) as url:
        ran = _import(url, tmp_path / "site")
    build = _build(tmp_path / "site")
    summary = json.loads((build / "api" / "v2" / "summary.json").read_text())
    groups = {c["name"]: c for c in summary["components"] if c["group"]}
    members = {c["id"]: c["name"] for c in summary["components"] if not c["group"]}
    assert sorted(members[m] for m in groups["Europe"]["components"]) == ["London", "Paris"]
    assert summary["page"]["name"] == "Acme Status" and summary["page"]["url"].startswith("https://status.acme.example")

    incidents = json.loads((build / "api" / "v2" / "incidents.json").read_text())["incidents"]
    (outage,) = [i for i in incidents if i["name"] == INCIDENT["name"]]
    assert [u["status"] for u in outage["incident_updates"]] == ["resolved", "identified", "investigating"]
    assert [u["body"] for u in outage["incident_updates"]] == ["Paris is back.", "A router failed; Paris is down.",
                                                               "Paris is slow."]
    # The worst effect any update gave Paris, not the first or the last.
    (incident_file,) = (tmp_path / "site" / "incidents").glob("*paris*.md")
    assert "paris: major_outage" in incident_file.read_text()

    maintenances = json.loads((build / "api" / "v2" / "scheduled-maintenances.json").read_text())
    (window,) = maintenances["scheduled_maintenances"]
    assert (window["name"], window["status"]) == ("London database upgrade", "scheduled")
    assert window["scheduled_for"].startswith("2026-12-10T02:00") and window["scheduled_until"].startswith(
        "2026-12-10T04:00")
    assert [c["name"] for c in window["components"]] == ["London"]

    # What a Heliograph site cannot hold is said, with the file and where in it.
    assert "summary.json: not carried over: /components/3/only_show_if_degraded: component 'API'" in ran.stdout
    assert ("incidents.json: not carried over: /incidents/0/incident_updates/3: incident "
            f"{INCIDENT['name']!r}: an update with status 'escalated'") in ran.stdout


def test_cloudflares_saved_page_names_what_it_drops_by_json_pointer(tmp_path):
    ran = _import(PEERS / "statuspage" / "gwen-cli-cloudflare", tmp_path / "site")
    assert "cloudflare-summary.json: not carried over: /components/1/status: component 'Arica, Chile - (ARI)'" \
        in ran.stdout
    assert "cloudflare-incidents.json: not carried over: /incidents/0/incident_updates: incident " in ran.stdout
    (analytics,) = (tmp_path / "site" / "incidents").glob("*web-analytics*.md")
    assert "web-analytics: degraded_performance" in analytics.read_text()
    build = _build(tmp_path / "site")
    page = next((build / "incidents").glob("*web-analytics*/index.html")).read_text()
    assert "Web Analytics Configuration issues" in page and "Web Analytics" in page


def test_a_page_that_answers_with_html_is_refused_by_its_address_and_nothing_is_written(tmp_path):
    folder = tmp_path / "served" / "api" / "v2"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text("<html>\n<body>Sign in</body>\n</html>\n")
    with static_server(tmp_path / "served") as url:
        ran = invoke("import", "statuspage", url, "--into", str(tmp_path / "site"))
    assert ran.code == 1 and "Traceback" not in ran.stderr
    assert "/api/v2/summary.json:1:1: error: not JSON" in ran.stderr
    assert not (tmp_path / "site" / "site.yaml").exists()
