"""`heliograph import upptime`: an Upptime repository's sites become checks that really run (against
servers on 127.0.0.1, with Upptime's `$SECRET`s read from the environment as `${SECRET}`), a broken
`.upptimerc.yml` is located, and what history/summary.json holds beyond daily uptime is named by
its JSON pointer. The CLI as a real process, then a real check and build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from checkservers import closed_port, serving
from clirun import invoke

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _import(repo: Path, into: Path, *extra: str):
    ran = invoke("import", "upptime", str(repo), "--into", str(into), *extra)
    assert ran.code == 0 and "Traceback" not in ran.stderr, ran.stdout + ran.stderr
    return ran


def test_imported_sites_are_checked_with_their_secrets_expected_codes_and_tcp_ping(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    with serving() as server:
        gone = closed_port()
        (repo / ".upptimerc.yml").write_text(
            "owner: example-org\n"
            "repo: status\n"
            "sites:\n"
            "  - name: Teapot API\n"
            "    url: $TEAPOT_URL\n"
            "    headers:\n"
            "      - \"Authorization: Bearer $TEAPOT_TOKEN\"\n"
            "    expectedStatusCodes:\n"
            "      - 418\n"
            "    maxResponseTime: 30000\n"
            "  - name: Database\n"
            "    check: tcp-ping\n"
            "    url: 127.0.0.1\n"
            f"    port: {server.port}\n"
            "  - name: Old site\n"
            f"    url: http://127.0.0.1:{gone}/\n"
            "status-website:\n"
            "  name: Example Status\n"
            "  baseUrl: https://example-org.github.io/status\n")
        ran = _import(repo, tmp_path / "site")
        site = tmp_path / "site"
        config = (site / "site.yaml").read_text()
        assert "${TEAPOT_URL}" in config and "Bearer ${TEAPOT_TOKEN}" in config and "$TEAPOT_TOKEN\n" not in config
        assert "${TEAPOT_TOKEN}, ${TEAPOT_URL}" in ran.stderr  # the secrets the user must provide, named once
        assert "base_url: https://example-org.github.io/status/" in config

        env = {"TEAPOT_URL": server.url("/status/418"), "TEAPOT_TOKEN": "s3cret"}
        checked = invoke("--site", str(site), "-q", "check", env=env)
        assert checked.code == 0, checked.stdout + checked.stderr
    built = invoke("--site", str(site), "build", env=env)
    assert built.code == 0, built.stdout + built.stderr
    summary = json.loads((site / "build" / "api" / "v2" / "summary.json").read_text())
    status = {c["name"]: c["status"] for c in summary["components"] if not c["group"]}
    # 418 is what Upptime was told to expect, so the teapot is up; the closed port is not.
    assert status["Teapot API"] == "operational" and status["Database"] == "operational", status
    assert status["Old site"] != "operational", status
    assert summary["page"]["name"] == "Example Status"


def test_a_broken_upptimerc_is_located_and_nothing_is_written(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".upptimerc.yml").write_text("owner: example-org\nsites:\n  - name: Website\n    url: [https://x\n")
    ran = invoke("import", "upptime", str(repo), "--into", str(tmp_path / "site"))
    assert ran.code == 1 and "Traceback" not in ran.stderr
    assert ".upptimerc.yml:5:1: error: not valid YAML" in ran.stderr, ran.stderr
    assert not (tmp_path / "site" / "site.yaml").exists()


def test_history_beyond_daily_uptime_is_named_by_json_pointer_and_lines_for_the_config(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "upptime", repo)
    summary = json.loads((repo / "history" / "summary.json").read_text())
    summary.append({"name": "Retired", "slug": "retired", "dailyMinutesDown": {"2026-11-01": 10}})
    (repo / "history" / "summary.json").write_text(json.dumps(summary, indent=2))
    ran = _import(repo, tmp_path / "site")
    assert "history/summary.json: not carried over: /0: website: response times" in ran.stdout
    assert "history/summary.json: not carried over: /2: 'retired': not a site in .upptimerc.yml" in ran.stdout
    # A site's key Heliograph has no place for is reported at its site's line in .upptimerc.yml.
    assert ".upptimerc.yml:22: not carried over: site 'Private dashboard': icon" in ran.stdout
    # The maintenance issue's window and the outage issue's comments arrive as incident updates.
    (outage,) = (tmp_path / "site" / "incidents").glob("*website-is-down*.md")
    text = outage.read_text()
    assert "## 2026-11-03 10:12 UTC · Investigating" in text and "## 2026-11-03 11:24 UTC · Resolved" in text, text
