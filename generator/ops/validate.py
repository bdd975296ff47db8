"""`heliograph validate`: every problem in site.yaml, the incidents and the history, in one pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from generator.site.config import load_site
from generator.site.incident_loading import load_incidents
from generator.site.problems import InvalidInput, Problem, relative_file
from generator.site.paths import links_outside


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
        from generator.alerts.send import url_problem
        problems.extend(Problem("site.yaml", channel.line, channel.column,
                                message.replace("alert channel", "announce channel", 1))
                        for channel in site.announce.channels if (message := url_problem(channel)))
    refused = links_outside(site.history_dir, root)
    if refused:  # not read at all
        return problems + refused
    if site.history_dir.is_dir():
        from generator.history.store import validate
        history_problems: list[Problem] = []
        notices: list[Problem] = []  # results left out on purpose: a removed component's, say
        validate(site.history_dir, problems=history_problems, component_ids=site.component_ids, notices=notices)
        # A corrupt history line is skipped by builds; here it is an error so CI catches it.
        problems.extend(replace(p, severity="error", file=relative_file(p.file, root)) for p in history_problems)
        problems.extend(replace(p, file=relative_file(p.file, root)) for p in notices)
    return problems
