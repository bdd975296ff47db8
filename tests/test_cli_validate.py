"""`heliograph validate` on known-bad sites: every problem, at its exact file:line:col."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clirun import RUNNERS, invoke, run

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
NOW = ["--now", "2026-11-23T12:00:00Z"]

BAD_INCIDENTS = [
    ("incidents/2026-11-20-headings.md", 4, 19, 'unknown component "wbe" (did you mean "web"?); '
                                                "components in site.yaml: api, web"),
    ("incidents/2026-11-20-headings.md", 7, 27, "unknown status 'Resovled' (did you mean \"resolved\"?); "
                                                "use one of investigating, identified, monitoring, resolved"),
    ("incidents/2026-11-20-headings.md", 10, 4, "unparseable time 'yesterday afternoon'; write e.g. "
                                                "`2026-11-20 14:02 UTC` or an ISO 8601 time with a zone such as "
                                                "`2026-11-20T14:02:00+01:00`"),
    ("incidents/2026-11-20-headings.md", 13, 3, "update heading must be `## <time> · <status>`, e.g. "
                                                "`## 2026-11-20 14:02 UTC · Investigating` (separator ·, -, — or |)"),
    ("incidents/2026-11-21-front-matter.md", 3, 9, "\"impact\" must be one of none, minor, major, critical, "
                                                   "not 'severe'"),
    ("incidents/2026-11-21-front-matter.md", 4, 1, 'unknown front matter key "sevrity"; allowed: title, type, '
                                                   "impact, components, scheduled_for, scheduled_until, postmortem, "
                                                   "started, auto"),
    ("incidents/2026-11-22-yaml.md", 3, 7, "YAML syntax error: did not find expected ',' or ']'"),
]

BAD_CONFIG = [
    ("site.yaml", 3, 13, 'base_url must be an absolute http(s) URL such as "https://status.example.com/" or '
                         "\"https://you.github.io/repo/\", not 'status.example.com'"),
    ("site.yaml", 4, 13, "unknown time zone 'Europe/Berln' (did you mean \"Europe/Berlin\"?); use an IANA name "
                         'such as "Europe/Berlin" or "UTC"'),
    ("site.yaml", 8, 5, 'unknown key "colour" in component #1; allowed keys: id, name, description, group, '
                        "check, show_uptime, alerts, auto_incident"),
    ("site.yaml", 9, 9, "component id 'API Gateway' must be a slug of lowercase letters, digits and dashes (it "
                        "appears in URLs and must never change); try 'api-gateway'"),
]


@pytest.fixture
def bad(tmp_path):
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target
    return copy


@pytest.fixture(params=sorted(RUNNERS))
def cli(request):
    return RUNNERS[request.param]


@pytest.mark.parametrize("fixture, expected", [("bad-incidents", BAD_INCIDENTS), ("bad-config", BAD_CONFIG)])
def test_every_problem_at_its_position(cli, bad, fixture, expected):
    ran = cli("validate", *NOW, cwd=bad(fixture))
    assert ran.code == 1
    assert ran.stdout == ""
    assert ran.stderr.splitlines() == [f"{f}:{line}:{col}: error: {message}" for f, line, col, message in expected] \
        + [f"Error: {len(expected)} error(s), 0 warning(s)"]


def test_github_annotations(cli, bad):
    ran = cli("validate", *NOW, "--format", "github", cwd=bad("bad-incidents"), env={"GITHUB_WORKSPACE": ""})
    assert ran.code == 1
    assert ran.stdout.splitlines() == [f"::error file={f},line={line},col={col}::{message}"
                                       for f, line, col, message in BAD_INCIDENTS]


def test_paths_are_relative_to_where_you_are(bad, tmp_path):
    site = bad("bad-config")
    # From a directory above the site (a repository with the site in a folder): clickable from there.
    above = invoke("validate", cwd=tmp_path)
    assert above.code == 1 and "no site.yaml" in above.stderr
    ran = invoke("--site", "bad-config", "validate", cwd=tmp_path)
    assert ran.stderr.splitlines()[0].startswith("bad-config/site.yaml:3:13: error:")
    # From inside the site.
    (site / "incidents").mkdir()
    inside = run("validate", cwd=site / "incidents")
    assert inside.stderr.splitlines()[0].startswith("../site.yaml:3:13: error:")
    # GitHub annotations name the file from the repository root, even when run from elsewhere.
    github = invoke("validate", "--format", "github", cwd=site / "incidents", env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert github.stdout.splitlines()[0].startswith("::error file=bad-config/site.yaml,line=3,col=13::")


def test_annotation_messages_are_escaped(site_root):
    (site_root / "incidents/2026-11-20-x.md").write_text("---\ntitle: x\n---\n\n## 50% · Investigating\nx\n")
    ran = invoke("validate", "--format", "github", cwd=site_root)
    assert ran.stdout.splitlines() == [
        "::error file=incidents/2026-11-20-x.md,line=5,col=4::unparseable time '50%25'; write e.g. "
        "`2026-11-20 14:02 UTC` or an ISO 8601 time with a zone such as `2026-11-20T14:02:00+01:00`"]


def test_warnings_pass_unless_strict(site_root):
    (site_root / "incidents/2026-11-20-x.md").write_text(
        "---\ntitle: x\n---\nA stray line.\n\n## 2026-11-20 14:00 UTC · Resolved\nDone.\n")
    ran = invoke("validate", cwd=site_root)
    assert ran.code == 0
    assert ran.stderr.splitlines() == ["incidents/2026-11-20-x.md:4:1: warning: text before the first update heading "
                                       "is not shown; move it under a `## <time> · <status>` heading"]
    assert ran.stdout == "site.yaml, incidents and history are valid\n"
    strict = invoke("validate", "--strict", cwd=site_root)
    assert strict.code == 1
    assert strict.stderr.splitlines()[-1] == "Error: 0 error(s), 1 warning(s) (--strict fails on warnings)"


def test_valid_site_passes_quietly(demo_copy):
    ran = invoke("-q", "validate", *NOW, cwd=demo_copy)
    assert (ran.code, ran.stdout, ran.stderr) == (0, "", "")


def test_a_language_no_catalog_translates_is_a_warning_at_its_tag_until_the_site_adds_one(tmp_path):
    (tmp_path / "incidents").mkdir()
    (tmp_path / "site.yaml").write_text("site:\n  title: T\n  base_url: https://s.example/\n"
                                        "  languages: [en, pt, sw]\ncomponents: [{id: a, name: A}]\n")
    ran = invoke("validate", *NOW, cwd=tmp_path)
    assert ran.code == 0  # pt finds the theme's pt_BR catalog; sw has none
    assert ran.stderr.splitlines() == [
        "site.yaml:4:23: warning: no catalog translates 'sw': its pages show dates and numbers as 'sw' writes them, "
        "but the theme's words in English; add templates/locale/sw.po (`heliograph theme locale/de.po` copies one "
        "to start from); README, \"The page in your language\""]
    (tmp_path / "templates" / "locale").mkdir(parents=True)
    (tmp_path / "templates" / "locale" / "sw.po").write_text('msgid "History"\nmsgstr "Historia"\n', encoding="utf-8")
    assert invoke("validate", *NOW, cwd=tmp_path).stderr == ""
