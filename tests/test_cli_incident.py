"""`heliograph incident new|update|resolve|list`, in process and as a real subprocess."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from clirun import RUNNERS, invoke, process_env, run
from conftest import write_site
from generator.site.incidents import parse_incident

COMPONENTS = ("api", "web", "db")
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
T0 = NOW - timedelta(hours=3)  # times in the recent past: the build refuses incident updates in the future


def stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def load(path: Path):
    incident, _ = parse_incident(path.read_bytes().decode(), incident_id=path.stem, file=path.name,
                                 component_ids=COMPONENTS, now=datetime.now(timezone.utc))
    return incident


def timeline(path: Path) -> list[tuple[datetime, str, str]]:
    return [(u.time, u.status, u.body_markdown) for u in load(path).updates]


@pytest.fixture(params=sorted(RUNNERS))
def cli(request):
    return RUNNERS[request.param]


def test_new_update_resolve_round_trip(cli, site_root):
    opened = cli("incident", "new", "API errors", "--component", "api", "--component", "web", "--impact", "major",
                 "-m", "We are investigating.", "--time", stamp(T0), cwd=site_root)
    assert opened.code == 0, opened.stderr
    path = site_root / f"incidents/{T0:%Y-%m-%d}-api-errors.md"
    assert opened.stdout == f"incidents/{path.name}\n"
    assert "Opened incident" in opened.stderr
    first = path.read_bytes()
    assert first.decode() == (
        "---\ntitle: API errors\nimpact: major\ncomponents: [api, web]\n---\n\n"
        f"## {stamp(T0)} · Investigating\nWe are investigating.\n")

    updated = cli("incident", "update", "api-errors", "--status", "identified", "-m", "A bad deploy.",
                  "-m", "We are rolling back.", "--time", stamp(T0 + timedelta(minutes=10)), cwd=site_root)
    assert updated.code == 0, updated.stderr
    second = path.read_bytes()
    front_matter_end = first.index(b"## ")
    # Everything that was there is still there, byte for byte; the update sits between.
    assert second.startswith(first[:front_matter_end]) and second.endswith(first[front_matter_end:])

    resolved = cli("incident", "resolve", str(path), "--time", stamp(T0 + timedelta(minutes=40)), cwd=site_root)
    assert resolved.code == 0, resolved.stderr
    third = path.read_bytes()
    assert third.startswith(first[:front_matter_end]) and third.endswith(second[front_matter_end:])
    assert timeline(path) == [
        (T0 + timedelta(minutes=40), "resolved", "This incident has been resolved."),
        (T0 + timedelta(minutes=10), "identified", "A bad deploy.\n\nWe are rolling back."),
        (T0, "investigating", "We are investigating."),
    ]
    assert cli("validate", cwd=site_root).code == 0
    assert cli("build", cwd=site_root).code == 0


def test_update_keeps_a_hand_written_crlf_file_byte_for_byte(cli, site_root):
    original = ("\ufeff---\r\ntitle: 'Slow: web'   # typed by hand\r\ncomponents:\r\n  web: degraded_performance\r\n"
                "---\r\n\r\n"
                f"## {T0:%Y-%m-%dT%H:%M:%S}Z — investigating\r\nPages are slow.\r\n\r\n"
                "## Notes\r\n")  # not a valid heading... so the file is invalid: see below
    path = site_root / "incidents/2026-01-01-slow-web.md"
    valid = original.replace("\r\n## Notes\r\n", "")  # the same, valid, without a trailing newline
    path.write_bytes(valid.encode())
    ran = cli("incident", "update", "slow", "-s", "monitoring", "-m", "Fixed, watching.",
              "--time", stamp(T0 + timedelta(minutes=5)), cwd=site_root)
    assert ran.code == 0, ran.stderr
    heading = f"## {stamp(T0 + timedelta(minutes=5))} · Monitoring\r\nFixed, watching.\r\n\r\n"
    at = valid.index("## ")
    assert path.read_bytes() == (valid[:at] + heading + valid[at:]).encode()

    path.write_bytes(original.encode())  # a broken file is not touched
    ran = cli("incident", "update", "slow", "-m", "x", cwd=site_root)
    assert ran.code == 1
    assert "incidents/2026-01-01-slow-web.md:10:3: error: update heading must be" in ran.stderr
    assert "has errors already; fix them first" in ran.stderr
    assert path.read_bytes() == original.encode()


def test_new_picks_a_free_name_and_never_overwrites(site_root):
    for _ in range(3):
        assert invoke("incident", "new", "API errors", "--time", stamp(T0), cwd=site_root).code == 0
    assert sorted(p.name for p in (site_root / "incidents").iterdir()) == [
        f"{T0:%Y-%m-%d}-api-errors-2.md", f"{T0:%Y-%m-%d}-api-errors-3.md", f"{T0:%Y-%m-%d}-api-errors.md"]


def test_new_stamps_now_rounded_to_the_minute(site_root):
    before = datetime.now(timezone.utc)
    ran = invoke("incident", "new", "Login fails", "-c", "web:major_outage", "-c", "api", cwd=site_root)
    after = datetime.now(timezone.utc)
    incident = load(site_root / ran.stdout.strip())
    assert incident.latest.time.second == 0
    assert before - timedelta(seconds=31) <= incident.latest.time <= after + timedelta(seconds=30)
    assert incident.latest.status == "investigating"
    assert incident.latest.body_markdown == "We are investigating this issue."
    # A mix of explicit and implied effects is spelled out in full.
    assert [(a.id, a.effect) for a in incident.affected] == [("web", "major_outage"), ("api", "degraded_performance")]
    assert "  api: degraded_performance\n" in (site_root / ran.stdout.strip()).read_text()


def test_unknown_component_suggests_and_writes_nothing(cli, site_root):
    ran = cli("incident", "new", "API errors", "--component", "apii", cwd=site_root)
    assert ran.code == 1
    assert ran.stdout == ""
    assert "unknown component 'apii' (did you mean \"api\"?); components in site.yaml: api, web, db" in ran.stderr
    assert list((site_root / "incidents").iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--time", stamp(NOW + timedelta(hours=2))], "is in the future"),
    (["-m", "Line one.\n## Not an update"], "update heading must be"),
    (["--status", "fixed"], "unknown status 'fixed'"),
    (["--time", "14:00"], "not a time with a zone"),
    (["--until", "2030-01-01 10:00 UTC"], "maintenance needs --from and --until"),
])
def test_new_refuses_what_would_break_the_build(site_root, args, message):
    ran = invoke("incident", "new", "API errors", *args, cwd=site_root)
    assert ran.code == 1 and message in ran.stderr
    assert list((site_root / "incidents").iterdir()) == []


def test_maintenance_from_until_and_complete(cli, site_root):
    start = NOW + timedelta(days=3)
    ran = cli("incident", "new", "Database upgrade", "-c", "db", "--maintenance", "--from", stamp(start),
              "--until", stamp(start + timedelta(hours=1)), cwd=site_root)
    assert ran.code == 0, ran.stderr
    path = site_root / ran.stdout.strip()
    assert path.name == f"{start:%Y-%m-%d}-database-upgrade.md"
    incident = load(path)
    assert (incident.is_maintenance, incident.latest.status, incident.impact) == (True, "scheduled", "none")
    assert cli("incident", "update", "database", "-s", "in progress", cwd=site_root).code == 0
    assert load(path).latest.status == "in_progress"
    done = cli("incident", "complete", "database", cwd=site_root)
    assert done.code == 0, done.stderr
    assert load(path).latest.status == "completed"
    assert load(path).latest.body_markdown == "This maintenance has been completed."
    again = cli("incident", "resolve", "database", cwd=site_root)
    assert again.code == 1 and "already completed" in again.stderr


def test_a_resolved_incident_is_not_reopened(cli, site_root):
    write_site(site_root, incidents={"2026-01-05-api-errors.md": f"""\
        ---
        title: API errors
        components: [api]
        ---

        ## {stamp(T0 + timedelta(minutes=30))} · Resolved
        Fixed.

        ## {stamp(T0)} · Investigating
        Looking.
        """})
    path = site_root / "incidents/2026-01-05-api-errors.md"
    before = path.read_bytes()
    ran = cli("incident", "update", "api-errors", "--status", "investigating", "-m", "It is back.", cwd=site_root)
    assert ran.code == 1
    assert "cannot go back to 'investigating'; open a new incident instead" in ran.stderr
    assert "heliograph incident new 'API errors' --component api:degraded_performance --impact minor" in ran.stderr
    assert path.read_bytes() == before
    noted = cli("incident", "update", "api", "-m", "The postmortem is out.", cwd=site_root)
    assert noted.code == 0, noted.stderr
    assert [u.status for u in load(path).updates] == ["resolved", "resolved", "investigating"]


def test_an_update_older_than_the_latest_is_refused(site_root):
    invoke("incident", "new", "API errors", "--time", stamp(T0), cwd=site_root)
    ran = invoke("incident", "update", "api", "-m", "x", "--time", stamp(T0 - timedelta(minutes=1)), cwd=site_root)
    assert ran.code == 1 and "before the latest update" in ran.stderr


def test_ids_by_unique_part_and_ambiguity(site_root):
    invoke("incident", "new", "API errors", "--time", stamp(T0), cwd=site_root)
    invoke("incident", "new", "API latency", "--time", stamp(T0), cwd=site_root)
    ran = invoke("incident", "update", "api", "-m", "x", cwd=site_root)
    assert ran.code == 1
    assert ran.stderr == (f"Error: 'api' matches 2 incidents; give more of the id:\n"
                          f"  {T0:%Y-%m-%d}-api-errors\n  {T0:%Y-%m-%d}-api-latency\n")
    assert invoke("incident", "update", "latency", "-m", "x", cwd=site_root).code == 0
    missing = invoke("incident", "resolve", "nothing-like-it", cwd=site_root)
    assert missing.code == 1 and "no incident matches 'nothing-like-it'" in missing.stderr
    assert invoke("incident", "update", "latency", cwd=site_root).code == 2  # neither --status nor -m: usage


def test_works_from_a_subdirectory_and_with_site_option(cli, site_root, tmp_path):
    nested = site_root / "incidents"
    ran = cli("incident", "new", "API errors", "--time", stamp(T0), cwd=nested)
    assert ran.code == 0, ran.stderr
    assert ran.stdout == f"{T0:%Y-%m-%d}-api-errors.md\n"  # relative to where it ran
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ran = cli("--site", str(site_root), "incident", "resolve", "api-errors", cwd=elsewhere)
    assert ran.code == 0, ran.stderr
    assert (elsewhere / ran.stdout.strip()).resolve() == (nested / f"{T0:%Y-%m-%d}-api-errors.md").resolve()
    lost = cli("incident", "list", cwd=elsewhere)
    assert lost.code == 1 and "no site.yaml in this directory or any parent" in lost.stderr


def test_list_newest_first_and_open_only(cli, site_root):
    invoke("incident", "new", "Old trouble", "-c", "db", "--time", stamp(T0 - timedelta(days=1)), cwd=site_root)
    invoke("incident", "resolve", "old", cwd=site_root)
    invoke("incident", "new", "API errors", "-i", "major", "--time", stamp(T0), cwd=site_root)
    ran = cli("incident", "list", cwd=site_root)
    assert ran.code == 0, ran.stderr
    day0, day1 = f"{T0 - timedelta(days=1):%Y-%m-%d}", f"{T0:%Y-%m-%d}"
    assert ran.stdout.splitlines() == [
        "ID                      STATUS         IMPACT  STARTED (UTC)     TITLE",
        f"{day1}-api-errors   investigating  major   {T0:%Y-%m-%d %H:%M}  API errors",
        f"{day0}-old-trouble  resolved       minor   {T0 - timedelta(days=1):%Y-%m-%d %H:%M}  Old trouble",
    ]
    only_open = cli("incident", "list", "--open", cwd=site_root)
    assert [line.split()[0] for line in only_open.stdout.splitlines()] == ["ID", f"{day1}-api-errors"]


def test_list_reports_broken_files(site_root):
    (site_root / "incidents/2026-01-01-broken.md").write_text("---\ntitle: x\n---\n\n## soon · Investigating\n")
    ran = invoke("incident", "list", cwd=site_root)
    assert ran.code == 1
    assert "incidents/2026-01-01-broken.md:5:4: error: unparseable time 'soon'" in ran.stderr
    assert "missing from this list" in ran.stderr


def test_quiet_prints_only_the_path(site_root):
    ran = invoke("-q", "incident", "new", "API errors", cwd=site_root)
    assert ran.code == 0 and ran.stderr == "" and ran.stdout.endswith("-api-errors.md\n")


def test_verbose_shows_the_update(site_root):
    invoke("incident", "new", "API errors", "--time", stamp(T0), cwd=site_root)
    ran = invoke("-v", "incident", "update", "api", "-s", "identified", "-m", "Found it.", cwd=site_root)
    assert "· Identified\nFound it." in ran.stderr


@pytest.fixture
def editor(tmp_path):
    """$EDITOR: a script that replaces the default message with the text in EDIT_WITH (or empties the file)."""
    script = tmp_path / "fake_editor.py"
    script.write_text(
        "import os, sys\n"
        "path = sys.argv[1]\n"
        "text = open(path, encoding='utf-8').read()\n"
        "replacement = os.environ['EDIT_WITH']\n"
        "text = '' if replacement == 'EMPTY' else text.replace('We are investigating this issue.', replacement)\n"
        "open(path, 'w', encoding='utf-8').write(text)\n")
    return f"{shutil.which('python3') or sys.executable} {script}"


def test_edit_opens_editor_and_keeps_a_valid_edit(cli, site_root, editor):
    ran = cli("incident", "new", "API errors", "--edit", cwd=site_root,
              env={"EDITOR": editor, "VISUAL": "", "EDIT_WITH": "Payments fail for **some** cards."})
    assert ran.code == 0, ran.stderr
    assert load(site_root / ran.stdout.strip()).latest.body_markdown == "Payments fail for **some** cards."


def test_edit_that_breaks_the_file_is_kept_aside(site_root, editor):
    ran = run("incident", "new", "API errors", "--edit", cwd=site_root,
              env={"EDITOR": editor, "VISUAL": "", "EDIT_WITH": "ok\n## When · Whatever"})
    assert ran.code == 1
    assert ":8:4: error: unparseable time 'When'" in ran.stderr
    written = sorted((site_root / "incidents").iterdir())
    assert [p.suffix for p in written] == [".md", ".draft"]
    assert load(written[0]).latest.body_markdown == "We are investigating this issue."  # the valid version
    assert "## When · Whatever" in written[1].read_text()


def test_edit_to_empty_aborts(site_root, editor):
    ran = invoke("incident", "new", "API errors", "--edit", cwd=site_root,
                 env={"EDITOR": editor, "VISUAL": "", "EDIT_WITH": "EMPTY"})
    assert ran.code == 0 and ran.stdout == "" and "removed, nothing opened" in ran.stderr
    assert list((site_root / "incidents").iterdir()) == []


def test_heliograph_script_round_trip(site_root):
    import subprocess
    script = shutil.which("heliograph")
    if script is None:
        pytest.skip("the heliograph script is not installed (pip install -e .)")
    done = subprocess.run([script, "incident", "new", "Script test", "-c", "api"], cwd=site_root,
                          capture_output=True, text=True, env=process_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert load(site_root / done.stdout.strip()).title == "Script test"
