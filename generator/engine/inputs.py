"""The build's inputs: the site's settings, its incidents and their history, and what the
outputs need of them, read at the I/O edge (`read_inputs`) for the pure rendering step."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from generator import history
from generator.history.runs import Lateness, last_day, lateness, read_runs
from generator.engine.fingerprint import code_fingerprint
from generator.engine.reuse import incident_facts, output_key
from generator.engine.site_cache import CACHE_DIR, load_site_kept
from generator.site.config import Site, base_url_problem
from generator.site.incident_loading import load_incidents
from generator.site.incidents import Incident, IncidentSet
from generator.site.paths import links_outside
from generator.site.problems import InvalidInput, Problem, relative_file
from generator.status.model import PageStatus, affected_ids, incidents_by_component, incidents_by_day, page_status



class IncidentIndex:
    """What the outputs need of the incidents alone, each worked out once for all of them."""

    def __init__(self, incidents: tuple[Incident, ...], site: Site, now: datetime):
        self.incidents, self.site, self.now = incidents, site, now

    @cached_property
    def by_component(self) -> dict[str, list[Incident]]:
        """Each component's incidents, newest first."""
        return incidents_by_component(self.incidents, self.site.component_ids)

    @cached_property
    def facts_in_order(self) -> list[str | None]:
        """reuse.incident_facts of every incident, in the incidents' order: what the keys of
        outputs listing them use."""
        now = self.now
        return [incident_facts(incident, now) for incident in self.incidents]

    @cached_property
    def facts(self) -> dict[str, str | None]:
        """The same, by incident id."""
        return dict(zip([incident.id for incident in self.incidents], self.facts_in_order))

    @cached_property
    def day_notes(self) -> dict[str, dict]:
        """status.model.incidents_by_day for each checked component: what its uptime bars note."""
        site = self.site
        checked = [c.id for c in site.components if c.check is not None]
        return incidents_by_day(self.incidents, site.component_ids, self.now, site.display.uptime_days,
                                with_history=checked)


@dataclass(frozen=True)
class BuildInputs:
    """Everything a build renders from, read once: the site, its incidents, their status and the history."""

    site: Site
    incidents: IncidentSet
    status: PageStatus
    now: datetime
    histories: dict[str, Any] = field(default_factory=dict)  # component id -> history.ComponentHistory
    index: IncidentIndex | None = field(default=None, compare=False, repr=False)  # of `incidents`, if made
    # How late the scheduled check runs of the 24 hours before `now` started (history/runs.jsonl).
    lateness: Lateness = Lateness(0, None, None)

    @cached_property
    def _index(self) -> IncidentIndex:
        return self.index or IncidentIndex(self.incidents.incidents, self.site, self.now)

    @property
    def incidents_by_component(self) -> dict[str, list[Incident]]:
        """Each component's incidents, newest first; worked out once for all the outputs that list them."""
        return self._index.by_component

    @property
    def incident_facts(self) -> dict[str, str | None]:
        """reuse.incident_facts of every incident, by id: worked out once for all the keys that use them."""
        return self._index.facts

    @property
    def incident_facts_in_order(self) -> list[str | None]:
        """The same, in the order of `incidents`."""
        return self._index.facts_in_order

    @cached_property
    def day_notes(self) -> dict[str, dict]:
        """For each component's uptime bars: the incidents and maintenance of each day shown."""
        return {cid: notes for cid, notes in self._index.day_notes.items() if cid in self.histories}

    @cached_property
    def fingerprint(self) -> str:
        """What every output is made of besides its own data: the code and the site's settings."""
        site = self.site
        return output_key(code_fingerprint(), site.info, site.components, site.display)


def read_inputs(root: Path, *, now: datetime | None = None, base_url: str | None = None) -> BuildInputs:
    """The I/O edge: everything the pure rendering step needs."""
    now = now or datetime.now(timezone.utc)
    site = load_site_kept(root)
    if base_url:
        if base_url_problem(base_url) is not None:
            raise InvalidInput([Problem("--base-url", None, None, f"{base_url!r} is not an absolute http(s) URL "
                                        "(with characters such as quotes, < and spaces percent-encoded)")])
        site = replace(site, info=replace(site.info, base_url=base_url.rstrip("/") + "/"))
    incidents = load_incidents(site.incidents_dir, site.component_ids, now=now, relative_to=root,
                               cache_dir=root / CACHE_DIR)
    index = IncidentIndex(incidents.incidents, site, now)
    histories, history_problems = _load_histories(site, incidents.incidents, now)
    latest = {cid: h.latest for cid, h in histories.items() if h.latest is not None}
    status = page_status(site.components, incidents.incidents, now, latest)
    if history_problems:
        incidents = IncidentSet(incidents.incidents, incidents.problems + tuple(history_problems))
    runs = read_runs(site.history_dir, since=now - timedelta(days=1))
    return BuildInputs(site=site, incidents=incidents, status=status, now=now, histories=histories, index=index,
                       lateness=lateness(runs, *last_day(now)))


def _load_histories(site: Site, incidents: tuple[Incident, ...], now: datetime) -> tuple[dict, list[Problem]]:
    """Each checked component's history; of the incidents, only the maintenance notices count."""
    checked = [c.id for c in site.components if c.check is not None]
    if not checked or not site.history_dir.is_dir():
        return {}, []
    refused = links_outside(site.history_dir, site.root)
    if refused:  # an error, unlike other history problems: such a file is never read
        return {}, refused
    problems: list[Problem] = []
    windows = maintenance_windows(incidents, site.component_ids, now)
    histories = history.summarize(site.history_dir, checked, now=now, days=site.display.uptime_days,
                                  mode=site.display.uptime_mode, maintenance=windows, problems=problems,
                                  cache_dir=site.root / CACHE_DIR, intervals=check_intervals(site))
    # A corrupt history line is skipped and reported; only validate and --strict fail on it.
    return histories, [replace(p, severity="warning", file=relative_file(p.file, site.root)) for p in problems]


def check_intervals(site: Site) -> dict[str, float]:
    """Each checked component's configured check interval: a result holds at most three."""
    return {c.id: c.check.interval for c in site.components if c.check is not None}


def maintenance_windows(incidents: tuple[Incident, ...], all_ids: tuple[str, ...], now: datetime) -> dict[str, list]:
    """Per component, the (start, end) spans of maintenance: expected downtime, not counted against uptime."""
    windows: dict[str, list] = {}
    for incident in incidents:
        if not incident.is_maintenance or not incident.scheduled_for:
            continue
        end = incident.ended_at(now) or max(incident.scheduled_until or now, now)
        for component_id in affected_ids(incident, all_ids):
            windows.setdefault(component_id, []).append((incident.scheduled_for, end))
    return windows
