"""`heliograph init --here`: a repository created from Heliograph's template becomes a blank site of one's own.

The template carries the Northwind Pay demo (its incidents, history and README) and Heliograph's own
development files (tests, benchmarks, CI script, the PyPI release workflow). A site keeps the package
(generator/, pyproject.toml, templates/) and the workflows that check, deploy and validate it, and
loses the rest; site.yaml and README.md are written afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from generator.ops.scaffold import DEPENDABOT_PATH, DEPENDABOT_YAML, RELEASE_WORKFLOW

# How the demo is recognised: only the demo's own site.yaml allows removing incidents and history,
# so a second run (or a run in a site someone already made their own) can never delete real incidents.
DEMO_TITLE = "Northwind Pay Status"
DEMO_CONTENT = ("incidents", "history")
DEVELOPMENT_ONLY = ("tests", "benchmarks", ".ci", f".github/workflows/{RELEASE_WORKFLOW}")
KEPT_IN_DEMO_CONTENT = frozenset({"history/.gitattributes"})  # how git merges the history: still wanted
TEST_WORKFLOW = ".github/workflows/test.yml"

SITE_README = """\
# {title}

The status page served at {base_url}, built with Heliograph from this repository.

| Path | What it is |
|---|---|
| `site.yaml` | the page: components, checks, alerts (`heliograph validate` checks it) |
| `incidents/` | one Markdown file per incident (`heliograph incident new "Title" --component ID`) |
| `history/` | check results the Check workflow appends; do not edit by hand |
| `templates/` | the theme |
| `generator/`, `pyproject.toml` | Heliograph itself, the version this page is built with |
| `.github/` | the workflows that check, deploy and validate the page, and Dependabot |

Preview while editing: `pip install -e . && heliograph serve`, then open http://127.0.0.1:8000/.
"""


class NotTheTemplate(Exception):
    """--here was asked for somewhere that is not an untouched copy of Heliograph's repository."""


@dataclass(frozen=True)
class HerePlan:
    """What `init --here` does to the template: the demo and development files it removes, and the
    site's files it writes."""

    removals: tuple[str, ...]  # files relative to the repository, removed
    files: dict[str, bytes]  # files relative to the repository, written (replacing any there)


def plan_here(target: Path, site_files: dict[str, bytes], *, title: str, base_url: str) -> HerePlan:
    """What turning the template at `target` into a blank site writes and removes; raises NotTheTemplate."""
    if not (target / "generator" / "__init__.py").is_file() or not (target / "pyproject.toml").is_file():
        raise NotTheTemplate(f"{target} is not a copy of Heliograph's repository (no generator/ and "
                             "pyproject.toml): --here turns that template into your site; "
                             "use `heliograph init DIRECTORY` for a new site elsewhere")
    shown = _demo_title(target / "site.yaml")
    if shown != DEMO_TITLE:
        raise NotTheTemplate(f"site.yaml is not the demo's (its title is {shown!r}, not {DEMO_TITLE!r}): "
                             "this repository already is a site of its own, and --here will not overwrite its "
                             "site.yaml and README.md or remove its incidents and history; nothing was changed")
    removals = sorted(name for folder in (*DEMO_CONTENT, *DEVELOPMENT_ONLY)
                      for name in _files_under(target, folder) if name not in KEPT_IN_DEMO_CONTENT)
    files = dict(site_files)
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    files["README.md"] = SITE_README.format(title=title, base_url=base_url).encode()
    files[DEPENDABOT_PATH] = DEPENDABOT_YAML.encode()
    test_workflow = target / TEST_WORKFLOW
    if test_workflow.is_file():
        files[TEST_WORKFLOW] = validate_only(test_workflow.read_text(encoding="utf-8")).encode()
    return HerePlan(removals=tuple(name for name in removals if name not in files), files=files)


def validate_only(test_workflow: str) -> str:
    """test.yml without its jobs that run Heliograph's own suite (tests/ is removed): validate stays."""
    if "\n  test:\n" not in test_workflow:
        return test_workflow
    kept = test_workflow[:test_workflow.index("\n  test:\n") + 1]
    return kept.replace("Pull requests (and pushes) run the test suite, and `heliograph validate`",
                        "Pull requests (and pushes) run `heliograph validate`")


def apply_here(target: Path, plan: HerePlan) -> None:
    """Write first, then remove: an interrupted run leaves a site that still has a site.yaml."""
    for name, content in plan.files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for name in plan.removals:
        (target / name).unlink(missing_ok=True)
    for folder in (*DEMO_CONTENT, *DEVELOPMENT_ONLY):
        _remove_empty_folders(target / folder)


def _demo_title(site_yaml: Path) -> str | None:
    try:
        data = yaml.safe_load(site_yaml.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    site = data.get("site") if isinstance(data, dict) else None
    return site.get("title") if isinstance(site, dict) else None


def _files_under(target: Path, relative: str) -> list[str]:
    path = target / relative
    if path.is_file():
        return [relative]
    if not path.is_dir():
        return []
    return [found.relative_to(target).as_posix() for found in path.rglob("*") if found.is_file()]


def _remove_empty_folders(folder: Path) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), key=lambda found: len(found.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()
