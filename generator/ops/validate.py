"""`heliograph validate`: every problem in site.yaml, the incidents and the history, in one pass."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from generator.site.config import load_site
from generator.site.incident_loading import load_incidents
from generator.site.problems import InvalidInput, Problem, relative_file
from generator.site.paths import links_outside
from generator.engine.fingerprint import default_theme_dir


def validate_site(root: Path, *, now: datetime) -> list[Problem]:
    try:
        site = load_site(root)
    except InvalidInput as exc:
        return exc.problems  # incidents can't be checked against components we could not read
    problems = list(load_incidents(site.incidents_dir, site.component_ids, now=now, relative_to=root).problems)
    if site.alerts is not None and site.alerts.channels:
        from generator.alerts.send import url_problem  # imports Apprise: only for sites that alert
        problems.extend(Problem("site.yaml", channel.line, channel.column, message)
                        for channel in site.alerts.channels if (message := url_problem(channel)))
    if site.announce is not None and site.announce.channels:
        from generator.alerts.send import url_problem  # not at the top: 31 ms of imports, paid only here
        problems.extend(Problem("site.yaml", channel.line, channel.column,
                                message.replace("alert channel", "announce channel", 1))
                        for channel in site.announce.channels if (message := url_problem(channel)))
    problems.extend(schedule_warnings(root, site))
    problems.extend(language_warnings(root, site))
    refused = links_outside(site.history_dir, root)
    if refused:  # not read at all
        return problems + refused
    if site.history_dir.is_dir():
        from generator.history.store import validate  # not at the top: 30 ms of imports, paid only here
        history_problems: list[Problem] = []
        notices: list[Problem] = []  # results left out on purpose: a removed component's, say
        validate(site.history_dir, problems=history_problems, component_ids=site.component_ids, notices=notices)
        # A corrupt history line is skipped by builds; here it is an error so CI catches it.
        problems.extend(replace(p, severity="error", file=relative_file(p.file, root)) for p in history_problems)
        problems.extend(replace(p, file=relative_file(p.file, root)) for p in notices)
    return problems


CHECK_WORKFLOW = ".github/workflows/check.yml"


def language_warnings(root: Path, site) -> list[Problem]:
    """A language no catalog translates (neither the theme's nor the site's templates/locale/):
    its pages get CLDR's dates and numbers, but the theme's words stay English."""
    from generator.render.i18n import LOCALE_FOLDER, SOURCE_LANGUAGE, catalog_names  # not at the top: 14 ms of imports, paid only here

    folders = [default_theme_dir() / LOCALE_FOLDER, site.templates_dir / LOCALE_FOLDER]
    try:
        lines = (root / "site.yaml").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    warnings = []
    for tag in site.info.page_languages:
        names = catalog_names(tag)
        if tag.split("-")[0].lower() == SOURCE_LANGUAGE or any((folder / f"{name}.po").is_file() for folder in folders for name in names):
            continue
        line = column = None
        for number, text in enumerate(lines, start=1):
            found = re.search(rf"\blanguages?\s*:.*?(?<![\w-])({re.escape(tag)})(?![\w-])", text)
            if found:
                line, column = number, found.start(1) + 1
                break
        warnings.append(Problem(
            "site.yaml", line, column,
            f"no catalog translates {tag!r}: its pages show dates and numbers as {tag!r} writes them, but the theme's "
            f"words in English; add templates/locale/{names[0]}.po (`heliograph theme locale/de.po` copies one to "
            "start from); README, \"The page in your language\"", severity="warning"))
    return warnings


def schedule_warnings(root: Path, site) -> list[Problem]:
    """A warning for each checked component whose interval is shorter than check.yml's schedule
    can deliver: GitHub runs a schedule at most every 5 minutes, and often later."""

    import yaml  # not at the top: 13 ms of imports, paid only here

    from generator.checks.schedule import BadSchedule, parse_schedule  # not at the top: 23 ms of imports, paid only here

    path = root / CHECK_WORKFLOW
    try:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # no workflow, or one `validate` is not the judge of (actionlint is)
    triggers = workflow.get("on", workflow.get(True)) if isinstance(workflow, dict) else None
    crons = [entry.get("cron") for entry in (triggers or {}).get("schedule") or []
             if isinstance(triggers, dict) and isinstance(entry, dict)] if isinstance(triggers, dict) else []
    shortest = None
    for cron in crons:
        try:
            gap = parse_schedule(str(cron)).shortest_gap()
        except BadSchedule as error:
            return [Problem(CHECK_WORKFLOW, None, None, f"schedule {cron!r}: {error}", severity="warning")]
        shortest = gap if shortest is None else min(shortest, gap)
    if shortest is None:
        return []
    lines = (root / "site.yaml").read_text(encoding="utf-8").splitlines()
    warnings = []
    for component in site.components:
        check = component.check
        if check is None or check.type == "heartbeat" or check.interval >= shortest.total_seconds():
            continue
        start = next((n for n, line in enumerate(lines) if re.match(rf"\s*-?\s*id\s*:\s*['\"]?{re.escape(component.id)}['\"]?\s*(#.*)?$", line)), None)
        line = column = None
        if start is not None:
            end = next((n for n in range(start + 1, len(lines)) if re.match(r"\s*-\s*id\s*:", lines[n])), len(lines))
            found = next((n for n in range(start, end) if re.match(r"\s*interval\s*:", lines[n])), None)
            line = (found if found is not None else start) + 1
            column = len(lines[line - 1]) - len(lines[line - 1].lstrip()) + 1
        warnings.append(Problem(
            "site.yaml", line, column,
            f"{component.id}: interval {_minutes(check.interval)} is shorter than check.yml's schedule can deliver "
            f"(every {_minutes(shortest.total_seconds())} at best, and GitHub often starts scheduled runs later): "
            "results will come less often. Repeat rounds within a run (HELIOGRAPH_REPEAT, HELIOGRAPH_EVERY) or run "
            "`heliograph check` on a machine of your own; README, \"Schedule, resolution and Actions minutes\"",
            severity="warning"))
    return warnings


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
