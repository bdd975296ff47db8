"""Step 1 of the GitHub Pages guide, as a new user follows it: a repository created from this one runs
`heliograph init --here --force` and is a blank site of its own that validates and builds, with the
workflows and the package kept and the Northwind demo gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO

DEMO_INCIDENTS = ("2026-11-12-sepa-maintenance.md", "2026-11-18-api-errors.md", "2026-11-23-webhook-delays.md",
                  "2026-12-08-database-upgrade.md")


def template_copy(tmp_path: Path) -> Path:
    """What "Use this template" gives: the repository's files, as git tracks them (and new ones not ignored)."""
    copy = tmp_path / "my-status"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            (copy / name).write_bytes((REPO / name).read_bytes())
    return copy


def heliograph(copy: Path, *args: str) -> subprocess.CompletedProcess:
    """The copy's own package, as after `pip install -e .` in the new repository."""
    return subprocess.run([sys.executable, "-m", "generator.cli", *args], cwd=copy, capture_output=True, text=True,
                          timeout=120)


def tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_init_here_makes_a_blank_site_that_validates_and_builds_without_the_demo(tmp_path):
    copy = template_copy(tmp_path)
    package_before = {name: content for name, content in tree(copy).items()
                      if name.startswith(("generator/", "templates/")) or name == "pyproject.toml"}
    made = heliograph(copy, "init", "--here", "--force", "--title", "Acme Status",
                      "--base-url", "https://status.acme.example/")
    assert made.returncode == 0, made.stderr
    assert "is now your own site" in made.stderr + made.stdout

    validated = heliograph(copy, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    built = heliograph(copy, "build")
    assert built.returncode == 0, built.stderr
    index = (copy / "build" / "index.html").read_text(encoding="utf-8")
    assert "<title>Acme Status</title>" in index and "Northwind" not in index

    after = tree(copy)
    incidents = sorted(name for name in after if name.startswith("incidents/"))
    assert len(incidents) == 1 and incidents[0].endswith("-example-incident.md")
    assert not set(DEMO_INCIDENTS) & {Path(name).name for name in incidents}
    assert not [name for name in after if name.startswith("history/") and name.endswith(".jsonl")]
    site_own = [name for name in after if name.split("/")[0] in ("site.yaml", "README.md", "incidents", "history")]
    assert not [name for name in site_own if b"Northwind" in after[name]]
    assert "# Acme Status" in after["README.md"].decode()

    # The package and theme the page is built with stay as they were, and so do the workflows.
    assert {name: after.get(name) for name in package_before} == package_before
    workflows = sorted(Path(name).name for name in after if name.startswith(".github/workflows/"))
    assert workflows == ["check.yml", "deploy.yml", "test.yml"]  # release.yml publishes Heliograph, not a site
    assert after[".github/workflows/check.yml"] == (REPO / ".github/workflows/check.yml").read_bytes()
    test_workflow = yaml.safe_load(after[".github/workflows/test.yml"])
    assert list(test_workflow["jobs"]) == ["validate"]  # Heliograph's own suite went with tests/
    assert not (copy / "tests").exists() and not (copy / ".ci").exists()
    dependabot = yaml.safe_load(after[".github/dependabot.yml"])
    assert {update["package-ecosystem"] for update in dependabot["updates"]} == {"pip", "github-actions"}


def test_without_force_it_lists_what_it_would_do_and_changes_nothing(tmp_path):
    copy = template_copy(tmp_path)
    before = tree(copy)
    refused = heliograph(copy, "init", "--here")
    assert refused.returncode == 1
    assert "pass --force" in refused.stderr
    assert "remove    incidents/2026-11-18-api-errors.md" in refused.stderr
    assert "write     site.yaml" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert tree(copy) == before


def test_a_second_run_refuses_and_keeps_the_sites_own_incidents(tmp_path):
    copy = template_copy(tmp_path)
    assert heliograph(copy, "init", "--here", "--force", "--title", "Acme Status").returncode == 0
    own = copy / "incidents" / "2026-12-01-our-outage.md"
    own.write_text("---\ntitle: Our outage\nimpact: minor\ncomponents: [api]\n---\n\n"
                   "## 2026-12-01 10:00 UTC · Resolved\nFixed.\n", encoding="utf-8")
    before = tree(copy)
    for args in (("init", "--here"), ("init", "--here", "--force")):
        refused = heliograph(copy, *args)
        assert refused.returncode == 1, refused.stdout
        assert "already is a site of its own" in refused.stderr and "will not overwrite" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert tree(copy) == before


def test_here_outside_the_template_writes_nothing_and_says_what_to_use(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = subprocess.run([sys.executable, "-m", "generator.cli", "init", "--here", "--force"], cwd=elsewhere,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert "not a copy of Heliograph's repository" in refused.stderr and "heliograph init DIRECTORY" in refused.stderr
    assert list(elsewhere.iterdir()) == []
