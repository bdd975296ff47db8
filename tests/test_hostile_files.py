"""Hostile files and paths in a site: what Heliograph withstands (issue #16, part 2).

- A symlink anywhere the site is read from (site.yaml, templates and their assets, incidents,
  the history folder and its shards) whose real path leaves the site is refused with
  `file: error: ... (a symlink to outside the site)`, exit 1, the last good build/ kept; a
  symlink that stays inside the site still works. So is a history.dir outside the site.
- A YAML alias bomb ("billion laughs") in site.yaml or in an incident's front matter, and
  nesting thousands of levels deep, is a located error at once, not gigabytes of memory.
- site.yaml with bytes that are not UTF-8, or a NUL, is a located error, not a traceback; so
  is a YAML value PyYAML cannot read (`!!python/object`, 2026-02-30) or a merge key (`<<`).
- An incident whose lists nest thousands of levels deep is a located error, not a
  RecursionError; an oversized front matter is refused with the limit named.
- A folder where a history shard belongs is left out with a warning (an error in validate),
  not a traceback, in build, validate and compact.
- A duplicate key (a second `components:` would drop every component) is an error naming
  both lines, in site.yaml and in front matter.
- An incident file name ending in a newline is refused.
- `validate` warns about history lines for a component site.yaml does not have (with
  did-you-mean), and about shards named for no real day.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from clirun import run
from conftest import write_site

NOW = "2026-11-21T12:00:00Z"

CHECKED_SITE = """\
site:
  title: Test Status
  base_url: https://status.test.example/
components:
  - id: api
    name: API
    check:
      type: http
      url: http://127.0.0.1:9/
  - id: web
    name: Website
"""

INCIDENT = """\
---
title: API errors
impact: minor
components: [api]
---

## 2026-11-20 14:40 UTC · Resolved
All good again.

## 2026-11-20 14:02 UTC · Investigating
Some requests fail.
"""

RESULT_LINE = '{"v":1,"c":"%s","t":"2026-11-20T12:00:00Z","s":"up","r":"ok","loc":"ci","ms":12.0}\n'

needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")


def _site(tmp_path: Path, site_yaml: str = CHECKED_SITE) -> Path:
    root = write_site(tmp_path / "site", site_yaml, {"2026-11-20-api-errors.md": INCIDENT})
    shard = root / "history" / "raw" / "2026" / "11" / "20.jsonl"
    shard.parent.mkdir(parents=True)
    shard.write_text(RESULT_LINE % "api")
    return root


def _built(root: Path) -> dict[str, bytes]:
    """A good build of the site, and what build/ then holds."""
    done = run("build", "--now", NOW, cwd=root)
    assert done.code == 0, done.stderr
    return _contents(root / "build")


def _contents(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def _fails(root: Path, *args: str) -> str:
    """Run `heliograph ARGS`: it must exit 1 without a traceback; its stderr."""
    done = run(*args, cwd=root)
    assert done.code == 1, (done.code, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr


def _build_fails_keeping(root: Path, before: dict[str, bytes]) -> str:
    stderr = _fails(root, "build", "--now", NOW)
    assert _contents(root / "build") == before, "the last good build/ must be kept"
    return stderr


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"  # beside the site, not in it
    secret.write_text("AWS_SECRET_ACCESS_KEY=hunter2\n")
    return secret


# --- 1. symlinks out of the site -----------------------------------------------------------


@needs_symlinks
def test_an_asset_linked_to_a_file_outside_is_not_published(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "templates" / "assets").mkdir(parents=True)
    (root / "templates" / "assets" / "env.txt").symlink_to(_secret(tmp_path))
    stderr = _build_fails_keeping(root, before)
    assert "templates/assets/env.txt: error:" in stderr and "(a symlink to outside the site)" in stderr
    assert not (root / "build" / "assets" / "env.txt").exists()


@needs_symlinks
@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="no /proc here")
def test_an_asset_linked_to_the_environment_is_not_published(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "templates" / "assets").mkdir(parents=True)
    (root / "templates" / "assets" / "env.txt").symlink_to("/proc/self/environ")
    (root / "templates" / "assets" / "passwd.txt").symlink_to("/etc/passwd")
    stderr = _build_fails_keeping(root, before)
    assert "templates/assets/env.txt: error:" in stderr and "templates/assets/passwd.txt: error:" in stderr


@needs_symlinks
def test_a_template_folder_linked_outside_is_refused(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "index.html").write_text("{{ 1 }}")
    (root / "templates").symlink_to(outside, target_is_directory=True)
    stderr = _build_fails_keeping(root, before)
    assert "templates: error:" in stderr and "outside the site" in stderr


@needs_symlinks
def test_an_incident_linked_from_outside_is_not_published(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    outside = tmp_path / "notes.md"
    outside.write_text(INCIDENT.replace("Some requests fail.", "private notes"))
    (root / "incidents" / "2026-11-20-leak.md").symlink_to(outside)
    stderr = _build_fails_keeping(root, before)
    assert "incidents/2026-11-20-leak.md: error:" in stderr and "(a symlink to outside the site)" in stderr
    assert not any(b"private notes" in data for data in _contents(root / "build").values())
    assert "incidents/2026-11-20-leak.md: error:" in _fails(root, "validate")


@needs_symlinks
def test_site_yaml_linked_outside_is_refused(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    outside = tmp_path / "other.yaml"
    outside.write_text(CHECKED_SITE)
    (root / "site.yaml").unlink()
    (root / "site.yaml").symlink_to(outside)
    assert "(a symlink to outside the site)" in _build_fails_keeping(root, before)
    assert "site.yaml: error:" in _fails(root, "validate")


@needs_symlinks
def test_a_history_shard_linked_outside_is_refused(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "history" / "raw" / "2026" / "11" / "19.jsonl").symlink_to(_secret(tmp_path))
    stderr = _build_fails_keeping(root, before)
    assert "history/raw/2026/11/19.jsonl: error:" in stderr and "(a symlink to outside the site)" in stderr
    stderr = _fails(root, "validate")
    assert "history/raw/2026/11/19.jsonl: error:" in stderr and "hunter2" not in stderr
    assert "history/raw/2026/11/19.jsonl: error:" in _fails(root, "compact", "--now", NOW)


def test_a_history_dir_outside_the_site_is_refused(tmp_path):
    (tmp_path / "elsewhere" / "raw").mkdir(parents=True)
    root = _site(tmp_path, CHECKED_SITE + "history:\n  dir: ../elsewhere\n")
    stderr = _fails(root, "validate")
    assert "error:" in stderr and "outside the site" in stderr
    assert "outside the site" in _fails(root, "build", "--now", NOW)


@needs_symlinks
def test_links_that_stay_inside_the_site_still_work(tmp_path):
    root = _site(tmp_path)
    (root / "shared").mkdir()
    (root / "shared" / "note.txt").write_text("kept inside")
    (root / "templates" / "assets").mkdir(parents=True)
    (root / "templates" / "assets" / "note.txt").symlink_to(root / "shared" / "note.txt")
    (root / "shared" / "2026-11-20-api-errors.md").write_bytes((root / "incidents" / "2026-11-20-api-errors.md").read_bytes())
    (root / "incidents" / "2026-11-20-api-errors.md").unlink()
    (root / "incidents" / "2026-11-20-api-errors.md").symlink_to(root / "shared" / "2026-11-20-api-errors.md")
    built = _built(root)
    assert built["assets/note.txt"] == b"kept inside"
    assert any(b"Some requests fail." in data for name, data in built.items() if name.startswith("incidents/"))


# --- 2. alias bombs and size ------------------------------------------------------------------

BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def test_an_alias_bomb_in_site_yaml_is_a_located_error(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "site.yaml").write_text(CHECKED_SITE + "display:\n" + textwrap.indent(BOMB, "  "))
    for command in (("validate",), ("build", "--now", NOW)):
        stderr = _fails(root, *command)  # run()'s timeout stops it if it expands (it took 294 s, 23.5 GB)
        assert "site.yaml:" in stderr and ": error: aliases" in stderr
    assert _contents(root / "build") == before


def test_an_alias_bomb_in_front_matter_is_a_located_error(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "incidents" / "2026-11-20-bomb.md").write_text(
        "---\ntitle: Bomb\n" + BOMB + "---\n\n## 2026-11-20 14:02 UTC · Investigating\nBoom.\n")
    stderr = _build_fails_keeping(root, before)
    assert "incidents/2026-11-20-bomb.md:" in stderr and ": error: aliases" in stderr
    assert "Memory" not in stderr


def test_site_yaml_nested_thousands_deep_is_a_located_error(tmp_path):
    root = _site(tmp_path)
    (root / "site.yaml").write_text(CHECKED_SITE + "display:\n  x: " + "[" * 5000 + "]" * 5000 + "\n")
    said = _fails(root, "validate")
    # Ours says "nested more than"; PyYAML 6.0.4 and later stop the parser first, at their own limit.
    assert "site.yaml:13:" in said and ("nested more than" in said or "nesting depth" in said), said


def test_a_huge_incident_file_is_refused_without_being_read(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    with open(root / "incidents" / "2026-11-20-huge.md", "wb") as huge:
        huge.truncate(8 * 1024 ** 3)  # 8 GB that take no disk (sparse); reading them would take the memory
    stderr = _build_fails_keeping(root, before)
    assert "incidents/2026-11-20-huge.md:1:1: error: the file is 8,388,608 KB; the limit is 1,024 KB" in stderr


def test_an_oversized_front_matter_is_refused_with_its_limit(tmp_path):
    root = _site(tmp_path)
    padding = "".join(f"# {'x' * 70}\n" for _ in range(1000))
    (root / "incidents" / "2026-11-20-big.md").write_text(
        "---\ntitle: Big\n" + padding + "---\n\n## 2026-11-20 14:02 UTC · Investigating\nBig.\n")
    stderr = _fails(root, "validate")
    assert "incidents/2026-11-20-big.md:2:1: error: the front matter is" in stderr and "the limit is 65,536" in stderr


# --- 7. tracebacks that become located errors -----------------------------------------------


def test_a_yaml_value_that_cannot_be_read_is_a_located_error(tmp_path):
    root = _site(tmp_path, CHECKED_SITE.replace("title: Test Status", "title: !!python/object:os.system x"))
    assert "site.yaml:2:10: error: cannot read this value:" in _fails(root, "validate")
    root = _site(tmp_path / "other")
    (root / "incidents" / "2026-11-20-api-errors.md").write_text(
        INCIDENT.replace("impact: minor\n", "impact: minor\nstarted: 2026-02-30\n"))
    assert "incidents/2026-11-20-api-errors.md:4:10: error: cannot read this value:" in _fails(root, "validate")


def test_a_merge_key_is_a_located_error(tmp_path):
    root = _site(tmp_path, CHECKED_SITE + "display: &d {uptime_days: 30}\nbadges:\n  <<: *d\n")
    assert "site.yaml:14:3: error: merge keys (<<) are not supported" in _fails(root, "validate")


def test_site_yaml_that_is_not_utf8_is_a_located_error(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "site.yaml").write_bytes(CHECKED_SITE.encode().replace(b"Test Status", b"Test \xff Status"))
    for command in (("validate",), ("build", "--now", NOW)):
        assert "site.yaml:2:15: error: not UTF-8 text" in _fails(root, *command)
    assert _contents(root / "build") == before


def test_site_yaml_with_a_nul_byte_is_a_located_error(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "site.yaml").write_bytes(CHECKED_SITE.encode().replace(b"Test Status", b"Test \x00Status"))
    for command in (("validate",), ("build", "--now", NOW)):
        stderr = _fails(root, *command)
        assert "site.yaml:2:" in stderr and ": error:" in stderr
    assert _contents(root / "build") == before


def test_lists_nested_thousands_deep_in_an_incident_are_a_located_error(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "incidents" / "2026-11-20-deep.md").write_text(
        "---\ntitle: Deep\n---\n\n## 2026-11-20 14:02 UTC · Investigating\nIt begins.\n\n" + "- " * 5000 + "x\n")
    stderr = _build_fails_keeping(root, before)
    assert "incidents/2026-11-20-deep.md:8:1: error: lists or quotes nested too deeply" in stderr
    assert "incidents/2026-11-20-deep.md:8:1: error:" in _fails(root, "validate")


def test_a_folder_where_a_history_shard_belongs_is_left_out_not_a_crash(tmp_path):
    root = _site(tmp_path)
    (root / "history" / "raw" / "2026" / "11" / "21.jsonl").mkdir()  # today's, as of NOW
    (root / "history" / "raw" / "2026" / "11" / "19.jsonl").mkdir()
    done = run("build", "--now", NOW, cwd=root)
    assert done.code == 0 and "Traceback" not in done.stderr, done.stderr
    stderr = _fails(root, "validate")
    assert "history/raw/2026/11/19.jsonl:" in stderr and "a folder, not a file" in stderr
    compacted = run("compact", "--now", "2026-12-31T00:00:00Z", cwd=root)
    assert compacted.code == 0 and "Traceback" not in compacted.stderr, compacted.stderr
    assert (root / "history" / "daily" / "2026-11.jsonl").is_file()


# --- 8. duplicate keys ---------------------------------------------------------------------


def test_a_second_components_key_in_site_yaml_is_an_error_naming_both(tmp_path):
    root = _site(tmp_path, CHECKED_SITE + "components: []\n")
    stderr = _fails(root, "validate")
    assert "site.yaml:12:1: error: duplicate key 'components' (first at line 4)" in stderr


def test_a_duplicate_front_matter_key_is_an_error_naming_both(tmp_path):
    root = _site(tmp_path)
    (root / "incidents" / "2026-11-20-api-errors.md").write_text(
        INCIDENT.replace("impact: minor\n", "impact: minor\nimpact: critical\n"))
    stderr = _fails(root, "validate")
    assert "incidents/2026-11-20-api-errors.md:4:1: error: duplicate key 'impact' (first at line 3)" in stderr


# --- 9. names ending in a newline -----------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="Windows allows no newline in a file name")
def test_an_incident_name_ending_in_a_newline_is_refused(tmp_path):
    root = _site(tmp_path)
    before = _built(root)
    (root / "incidents" / "2026-11-20-sneaky\n.md").write_text(INCIDENT)
    stderr = _build_fails_keeping(root, before)
    assert "error: the file name gives the incident id '2026-11-20-sneaky\\n'" in stderr


# --- 10. history left out without a word ------------------------------------------------------


def test_validate_warns_of_history_for_a_component_site_yaml_lacks(tmp_path):
    root = _site(tmp_path)
    with open(root / "history" / "raw" / "2026" / "11" / "20.jsonl", "a") as shard:
        shard.write((RESULT_LINE % "apii").replace("12:00", "12:05"))
    done = run("validate", cwd=root)
    assert done.code == 0, done.stderr
    assert ("history/raw/2026/11/20.jsonl:2: warning: component 'apii' is not in site.yaml "
            '(did you mean "api"?)') in done.stderr


def test_validate_warns_of_shards_named_for_no_real_day(tmp_path):
    root = _site(tmp_path)
    for name in ("2026/11/99.jsonl", "2026/13/01.jsonl"):
        path = root / "history" / "raw" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RESULT_LINE % "api")
    done = run("validate", cwd=root)
    assert done.code == 0, done.stderr
    assert "history/raw/2026/11/99.jsonl: warning: left out: no such day" in done.stderr
    assert "history/raw/2026/13/01.jsonl: warning: left out: no such day" in done.stderr
