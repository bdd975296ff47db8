"""`heliograph init`: a new status site that builds at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from generator.schema import schema_text, site_schema
from generator.site.authoring import to_minute, update_heading, yaml_scalar

# The workflows Heliograph runs in CI, which `init` adapts for a site: in a checkout, its
# .github/workflows; in a wheel, the same files shipped as generator/workflows (see pyproject.toml).
SOURCE_TREE = Path(__file__).resolve().parent.parent.parent
_CHECKOUT_WORKFLOWS = SOURCE_TREE / ".github" / "workflows"
WORKFLOWS_DIR = _CHECKOUT_WORKFLOWS if _CHECKOUT_WORKFLOWS.is_dir() else Path(__file__).resolve().parent.parent / "workflows"
GITIGNORE_LINE = "build/"
# A path relative to site.yaml works offline and matches the installed Heliograph; refreshed by
# `heliograph schema -o .heliograph/site.schema.json` after an upgrade.
SCHEMA_FILE = ".heliograph/site.schema.json"
RELEASE_WORKFLOW = "release.yml"

SITE_YAML = """\
# yaml-language-server: $schema={schema_file}
# Heliograph site configuration. `heliograph validate` checks this file and names the line of any mistake.
# Times in incident files are always written with a zone; stored and compared as UTC.

site:                              # the page itself
  # The page heading and browser tab title, and a sentence for search engines and link previews.
  title: {title}
  description: Live and past status of our services.
  # The address build/ is served from. A sub-path works too, e.g. https://you.github.io/status/
  base_url: {base_url}
  logo: assets/logo.svg            # a file in templates/assets/ or an https:// URL; remove for none
  timezone: UTC                    # how times are shown to readers, an IANA name such as Europe/Berlin
  language: en                     # the page's language tag, e.g. en, de, pt-BR
  # languages: [en, de, fr]        # instead of language: every page in each, the others under /de/, /fr/
  theme: auto                      # auto (follows the reader's system), light or dark
  links:                           # shown in the header: label -> absolute URL (or mailto:)
    support: mailto:support@example.com
    home: https://example.com/

display:                           # what the pages show
  recent_incident_days: 14         # how far back the front page lists past incidents
  uptime_days: 90                  # how many daily bars each component shows (1-365)
  uptime_mode: results             # results: share of good checks; duration: share of time not down
  history_page_size: 25            # incidents per page of the history

history:                           # stored check results
  dir: history                     # where `heliograph check` appends check results (JSON Lines)
  raw_days: 14                     # `heliograph compact` rolls older raw results into daily aggregates

checks:                            # how `heliograph check` runs
  concurrency: 50                  # how many checks run at once
  location: default                # this probe's name in the history (override: --location)

badges:                            # the SVG status badges
  style: flat                      # flat, flat-square or for-the-badge

# Alerts to the team when a check changes state (`heliograph check --alert`, as check.yml runs it).
# Each channel is an Apprise URL: Slack, Discord, Teams, Telegram, ntfy, PagerDuty, email and
# 100+ more (https://github.com/caronc/apprise/wiki). ${{NAME}} reads a secret from the
# environment. Try a channel with `heliograph alert test`.
# alerts:
#   channels:
#     team-email: "mailtos://alerts:${{SMTP_PASSWORD}}@example.com?to=oncall@example.com"
#     discord: {{url: "discord://${{DISCORD_WEBHOOK_ID}}/${{DISCORD_TOKEN}}", components: [website]}}
#   failure_threshold: 3           # failed rounds in a row before the alert
#   success_threshold: 2           # good rounds in a row before the resolved message
#   send_on_resolved: true
#   remind_every: off              # e.g. 2h: remind while it stays down
#   on: [down]                     # [down, degraded] alerts on degraded too
#   timeout: 10s                   # per channel
#   auto_incident: false           # true: an outage opens an incident on the page, recovery resolves it
# A component's `alerts: [discord]` sends its alerts to those channels only (`[]`: none);
# its own `auto_incident: true` (or false) opts it in (or out) whatever alerts: says.

# Components, in display order. The id appears in URLs and incident files: never change it.
# `group` gathers components under a collapsible heading. A component without `check` is manual:
# its status comes from incidents only.
components:
  - id: website                    # lowercase letters, digits and dashes
    name: Website                  # what readers see
    description: Our public website   # optional, shown under the name
    group: Web                     # optional
    check:                         # http, tcp, dns, tls or heartbeat; run by `heliograph check`
      type: http
      url: https://example.com/
      timeout: 10s                 # no answer within this is "down"
      degraded_after: 2s           # a slower answer is "degraded"
      expect: {{status: [200]}}      # accepted status codes; also body_contains, body_regex, json

  - id: api
    name: API
    description: Our public API
    group: Web

  - id: support
    name: Support
    show_uptime: false             # no daily bars: there is nothing to measure

  # A job nothing can probe reports itself, e.g. `backup.sh && heliograph beat backup`:
  # - id: backup
  #   name: Nightly backup
  #   check: {{type: heartbeat, every: 1d, grace: 2h}}   # down when no beat for 1d + 2h
"""

EXAMPLE_INCIDENT = """\
---
# An example: delete this file once you have written a real incident.
# `heliograph incident new "Title" --component api --impact minor` writes one for you.
title: Example incident
impact: minor                      # none, minor, major or critical
components:                        # a list of ids, or id: effect
  api: degraded_performance        # degraded_performance, partial_outage or major_outage
---

{resolved}
The API answers at normal speed again. This incident is resolved.

{investigating}
Some API requests are slower than usual. We are investigating.
"""


DEPENDABOT_PATH = ".github/dependabot.yml"
DEPENDABOT_YAML = """\
# Weekly pull requests for a new Heliograph release (requirements.txt pins it exactly) and for
# new versions of the actions the workflows use. Each runs the validate workflow before merging.
version: 2
updates:
  - package-ecosystem: pip
    directory: /
    schedule:
      interval: weekly
  - package-ecosystem: github-actions
    directory: /
    schedule:
      interval: weekly
"""


@dataclass(frozen=True)
class InitPlan:
    """What `heliograph init` writes: every file, those already there with other content (refused
    without --force), and the new .gitignore unless the old one ignores build/ already."""

    files: dict[str, bytes]  # path relative to the site -> content
    overwrites: tuple[str, ...]  # existing files that differ and would be replaced
    gitignore: bytes | None  # the new .gitignore, or None when it already ignores build/


def site_files(*, title: str, base_url: str, now: datetime) -> dict[str, bytes]:
    """site.yaml, the schema its first line names for editors, and the example incident, from the arguments alone."""
    resolved_at = to_minute(now)
    started_at = resolved_at - timedelta(minutes=25)
    incident = EXAMPLE_INCIDENT.format(resolved=update_heading(resolved_at, "resolved"),
                                       investigating=update_heading(started_at, "investigating"))
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    return {
        "site.yaml": SITE_YAML.format(title=yaml_scalar(title), base_url=yaml_scalar(base_url),
                                      schema_file=SCHEMA_FILE).encode(),
        SCHEMA_FILE: schema_text(site_schema()).encode(),
        f"incidents/{started_at:%Y-%m-%d}-example-incident.md": incident.encode(),
    }


def copied_files(source: Path, prefix: str, pattern: str = "**/*") -> dict[str, bytes]:
    """Every file under `source` (none if it is missing), keyed `prefix/relative/path`."""
    if not source.is_dir():
        return {}
    files = {}
    for path in sorted(source.glob(pattern)):
        relative = path.relative_to(source)
        if path.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            files[f"{prefix}/{relative.as_posix()}"] = path.read_bytes()
    return files


def site_workflows(source: Path, version: str) -> dict[str, bytes]:
    """The project's workflows, adapted to a site that installs Heliograph rather than building it.

    This repository's workflows run `pip install .` because they sit next to pyproject.toml; a
    site made by `init` has no package to install, so it names Heliograph in requirements.txt.
    Its pull-request workflow keeps only the validate job: the test job runs Heliograph's own suite.
    """
    workflows = copied_files(source, ".github/workflows", "*.yml")
    if not workflows:
        return {}
    adapted: dict[str, bytes] = {}
    for name, content in workflows.items():
        if name.endswith(f"/{RELEASE_WORKFLOW}"):
            continue  # publishes Heliograph itself to PyPI; a site has nothing to release
        text = content.decode("utf-8")
        text = text.replace("run: pip install .\n", "run: pip install -r requirements.txt\n")
        text = text.replace("cache-dependency-path: pyproject.toml", "cache-dependency-path: requirements.txt")
        if name.endswith("/test.yml"):
            if "\n  test:\n" not in text:
                continue
            text = text[:text.index("\n  test:\n") + 1]
            text = text.replace("Pull requests (and pushes) run the test suite, and `heliograph validate`",
                                "Pull requests (and pushes) run `heliograph validate`")
        adapted[name] = text.encode("utf-8")
    adapted[DEPENDABOT_PATH] = DEPENDABOT_YAML.encode()
    return adapted


def pinned_requirements(version: str) -> dict[str, bytes]:
    """requirements.txt naming exactly the release `init` came from: a site builds the same page
    until someone upgrades it on purpose (Dependabot proposes each new release as a pull request),
    and a loose bound could install whatever someone else published under the name."""
    return {"requirements.txt": (
        "# The Heliograph release this site is built with: `pip install -r requirements.txt`.\n"
        "# Dependabot (.github/dependabot.yml) opens a pull request for each new release.\n"
        f"heliograph=={version}\n").encode()}


def plan_init(target: Path, files: dict[str, bytes]) -> InitPlan:
    overwrites = tuple(sorted(name for name, content in files.items()
                              if (target / name).exists() and _content(target / name) != content))
    return InitPlan(files=files, overwrites=overwrites, gitignore=with_build_ignored(_content(target / ".gitignore")))


def with_build_ignored(existing: bytes | None) -> bytes | None:
    """The .gitignore with build/ added; an existing one is extended, never replaced."""
    if existing is None:
        return f"{GITIGNORE_LINE}\n".encode()
    lines = existing.decode("utf-8", "replace").splitlines()
    if any(line.strip().strip("/") == "build" for line in lines):
        return None
    separator = b"" if not existing or existing.endswith(b"\n") else b"\n"
    return existing + separator + f"{GITIGNORE_LINE}\n".encode()


def write_plan(target: Path, plan: InitPlan) -> list[str]:
    """Write the files; returns what was written, relative to `target`."""
    written = []
    for name, content in plan.files.items():
        path = target / name
        if path.is_file() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(name)
    if plan.gitignore is not None:
        (target / ".gitignore").write_bytes(plan.gitignore)
        written.append(".gitignore")
    return written


def _content(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None

