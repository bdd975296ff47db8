"""`heliograph build` and `heliograph check` as a user runs them: a real subprocess, real servers."""

import http.server
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from clirun import invoke
from conftest import REPO, write_site
from servers import http_server


def heliograph(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, timeout=120)


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        healthy = self.path.split("?")[0] == "/health"
        body = b"ok" if healthy else b"nope"
        self.send_response(200 if healthy else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def health_server():
    return http_server(_Health)


def checked_site(root: Path, base: str) -> Path:
    return write_site(root, f"""\
site: {{title: Local, base_url: "https://status.local.example/"}}
components:
  - id: api
    name: API
    check: {{type: http, url: "{base}/health?token=${{API_TOKEN}}", timeout: 2s}}
  - id: web
    name: Web
    check: {{type: http, url: "{base}/broken", timeout: 2s, retries: 0}}
  - id: manual
    name: Manual
""")


def test_check_appends_results_and_build_shows_them(tmp_path):
    with health_server() as base:
        root = checked_site(tmp_path / "site", base)
        result = heliograph("check", "--location", "test-runner", cwd=root / "incidents",
                            env={"API_TOKEN": "s3cr3t-value"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["api", "up"]
    assert lines[1].split()[:2] == ["web", "down"] and "status_503" in lines[1]
    assert lines[-1].startswith("2 checks in") and "1 up, 1 down" in lines[-1]
    records = [json.loads(line) for path in (root / "history" / "raw").rglob("*.jsonl") for line in path.read_text().splitlines()]
    assert sorted((r["c"], r["s"], r["loc"]) for r in records) == [("api", "up", "test-runner"), ("web", "down", "test-runner")]
    assert "s3cr3t-value" not in result.stdout + result.stderr
    assert not any("s3cr3t-value" in p.read_text() for p in (root / "history").rglob("*") if p.is_file())

    built = heliograph("build", cwd=root)
    assert built.returncode == 0, built.stderr
    index = (root / "build" / "index.html").read_text()
    assert "Major outage" in index  # web's failing check
    assert not any("s3cr3t-value" in p.read_text(errors="ignore") for p in (root / "build").rglob("*") if p.is_file())


def test_check_only_named_components_and_clear_errors(tmp_path):
    with health_server() as base:
        root = checked_site(tmp_path / "site", base)
        runner = CliRunner()
        ok = runner.invoke(main, ["--site", str(root), "check", "web", "--no-write"])
        assert ok.exit_code == 0 and ok.output.startswith("web ")
        assert not (root / "history").exists()
        unknown = runner.invoke(main, ["--site", str(root), "check", "wbe"])
        assert unknown.exit_code == 1 and "unknown component 'wbe' (did you mean \"web\"?)" in unknown.output
        manual = runner.invoke(main, ["--site", str(root), "check", "manual"])
        assert manual.exit_code == 1 and "has no check" in manual.output


def test_missing_secret_is_recorded_not_crashed(tmp_path):
    with health_server() as base:
        root = checked_site(tmp_path / "site", base)
        env = {k: v for k, v in os.environ.items() if k != "API_TOKEN"}
        result = subprocess.run([sys.executable, "-m", "generator.cli", "check", "api", "--no-write"], cwd=root,
                                capture_output=True, text=True, env={**env, "PYTHONPATH": str(REPO)}, timeout=60)
    assert result.returncode == 0
    assert "secret_missing" in result.stdout and "API_TOKEN" in result.stdout


def test_build_from_subdirectory_and_outside_a_site(tmp_path):
    root = write_site(tmp_path / "site")
    ok = heliograph("build", "--now", "2026-11-20T10:00:00Z", cwd=root / "incidents")
    assert ok.returncode == 0, ok.stderr
    assert "Built " in ok.stdout and (root / "build" / "index.html").is_file()
    outside = heliograph("build", cwd=tmp_path)
    assert outside.returncode == 1
    assert "no site.yaml in this directory or any parent" in outside.stderr


def test_build_options_output_base_url_and_bad_now(tmp_path):
    root = write_site(tmp_path / "site")
    out = tmp_path / "preview"
    ok = heliograph("build", "--output", str(out), "--base-url", "https://preview.example.com/pr-7", cwd=root)
    assert ok.returncode == 0, ok.stderr
    assert '<link rel="canonical" href="https://preview.example.com/pr-7/">' in (out / "index.html").read_text()
    bad = heliograph("build", "--now", "yesterday", cwd=root)
    assert bad.returncode == 2 and "--now" in bad.stderr


def test_invalid_site_yaml_lists_every_problem_on_stderr(tmp_path):
    root = write_site(tmp_path / "site", "site: {title: T, base_url: nope, timezone: Nowhere}\ncomponents: []\n")
    result = heliograph("build", cwd=root)
    assert result.returncode == 1
    assert "site.yaml:1:28: error: base_url must be an absolute http(s) URL" in result.stderr
    assert "site.yaml:1:44: error: unknown time zone 'Nowhere'" in result.stderr
    assert result.stdout == ""


def test_no_colour_when_not_a_tty_or_no_color(tmp_path):
    root = write_site(tmp_path / "site", "site: {title: T, base_url: nope}\ncomponents: []\n")
    result = heliograph("build", cwd=root, env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.stderr


def test_check_and_compact_refuse_a_broken_site_yaml_with_its_problems(tmp_path):
    root = write_site(tmp_path / "site", "site: {title: T, base_url: nope}\ncomponents: []\n")
    for command in ("check", "compact"):
        result = heliograph(command, cwd=root)
        assert result.returncode == 1, command
        assert "site.yaml:1:28: error: base_url must be an absolute http(s) URL" in result.stderr
        assert "site.yaml has errors; fix them first" in result.stderr
        assert "Traceback" not in result.stderr


COMPACTING_SITE = """\
site: {title: T, base_url: "https://status.example/"}
history: {dir: history, raw_days: 7}
components:
  - id: api
    name: API
    check: {type: http, url: "https://api.example/"}
"""
MAINTENANCE = """\
---
title: Database upgrade
type: maintenance
components: [api]
scheduled_for: 2026-11-18 02:00 UTC
scheduled_until: 2026-11-18 03:00 UTC
---

## 2026-11-17 09:00 UTC · Scheduled
We will upgrade the database.
"""


def _history_with_a_planned_outage(root: Path) -> Path:
    """2026-11-18: a result every 10 minutes, down from 02:00 to 03:00, the maintenance window."""
    from datetime import datetime, timedelta, timezone

    from generator.checks.result import CheckResult
    from generator.history import append_results, raw_shard_path

    start = datetime(2026, 11, 18, tzinfo=timezone.utc)
    times = [start + timedelta(minutes=10 * n) for n in range(144)]
    append_results(root / "history", [
        CheckResult("api", t, "down" if 2 <= t.hour < 3 else "up", "timeout" if 2 <= t.hour < 3 else "ok", "",
                    None if 2 <= t.hour < 3 else 80.0, "ci") for t in times])
    return raw_shard_path(root / "history", start.date())


def test_compact_applies_maintenance_windows_so_a_planned_outage_stays_out_of_uptime(tmp_path):
    root = write_site(tmp_path / "site", COMPACTING_SITE, incidents={"2026-11-18-db.md": MAINTENANCE})
    shard = _history_with_a_planned_outage(root)
    ran = invoke("compact", "--now", "2026-11-26T12:00:00Z", cwd=root)
    assert ran.code == 0 and "compacted 1 day" in ran.stdout and not shard.exists()
    assert invoke("build", "--now", "2026-11-26T12:00:00Z", cwd=root).code == 0
    row = next(line for line in (root / "build" / "api" / "history.csv").read_text().splitlines()
               if line.startswith("2026-11-18,api,"))
    # uptime 100%: 138 checks counted, all up; the 6 down ones were in maintenance
    assert row.split(",")[3:9] == ["100.000", "138", "138", "0", "0", "6"]


def test_compact_leaves_history_raw_while_an_incident_file_is_broken(tmp_path):
    root = write_site(tmp_path / "site", COMPACTING_SITE,
                      incidents={"2026-11-18-db.md": MAINTENANCE.replace("type: maintenance", "type: maintenence")})
    shard = _history_with_a_planned_outage(root)
    ran = invoke("compact", "--now", "2026-11-26T12:00:00Z", cwd=root)
    assert ran.code == 0 and shard.exists()
    assert "2026-11-18-db.md" in ran.stderr and "Not compacting: fix the incident files above first" in ran.stderr


def test_compact_with_nothing_due_reads_no_incident(tmp_path):
    """It runs after every check run; a day falls due once a day. A broken incident file does
    not matter until then."""
    root = write_site(tmp_path / "site", COMPACTING_SITE,
                      incidents={"2026-11-18-db.md": MAINTENANCE.replace("type: maintenance", "type: maintenence")})
    _history_with_a_planned_outage(root)
    ran = invoke("compact", "--now", "2026-11-25T12:00:00Z", cwd=root)
    assert ran.code == 0 and ran.stdout == "nothing to compact\n" and ran.stderr == ""
