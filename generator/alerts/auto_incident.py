"""`auto_incident`: the incident file a crossed failure threshold opens, and the Resolved update
recovery appends: pure text functions, and `apply`, which `heliograph alert send` calls with the
transitions it won the claim for (so each is acted on exactly once, by one runner).

Both go through `generator.site.authoring` (the code behind `heliograph incident new/update`),
so an automatic file is exactly what a person's command would have written, and passes the
build's own parser. The resolve only ever adds an update above the timeline: whatever a person
wrote (title, updates, status) stays byte for byte. One incident per outage: while a component
has an open automatic incident, a new episode (flapping) or a worsening reuses it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Collection, Sequence

import yaml

from generator.alerts.rules import DEGRADED, DOWN, RESOLVED, Transition
from generator.site.authoring import (AffectedSpec, NewIncident, UpdateRequest, add_update, first_update_heading_index,
                                      new_incident_text)
from generator.site.incidents import HEADING_PARTS, UPDATE_HEADING

AUTO_MARK = "auto: true"
_UNSAFE = re.compile(r"[^a-z0-9]+")


def auto_incident_id(transition: Transition) -> str:
    """`<date>-<component>-<reason>`; the reason in URL-safe form (`status_503` -> `status-503`)."""
    reason = _UNSAFE.sub("-", str(getattr(transition.result, "reason", "") or "failure").lower()).strip("-")
    return f"{transition.since:%Y-%m-%d}-{transition.component}-{reason or 'failure'}"


def opening_text(transition: Transition, component_name: str) -> str:
    """The new file: Investigating, the failure as title and body, `auto: true` in the front matter."""
    degraded = transition.kind == "degraded"
    state = "degraded" if degraded else "down"
    result = transition.result
    quoted = str(getattr(result, "message", "") or getattr(result, "reason", "") or state)
    title = f"{component_name} is {state}: {quoted} from {transition.bad_locations} of {transition.locations} locations"
    spec = NewIncident(title=title, time=transition.time, status="investigating",
                       message=f"{title}. Opened automatically by the status checks.",
                       impact="minor" if degraded else "critical",
                       components=(AffectedSpec(transition.component,
                                                "degraded_performance" if degraded else "major_outage"),))
    text = new_incident_text(spec)
    # The mark goes last in the front matter, before its closing `---`.
    head, _, rest = text.partition("\n---\n")
    return f"{head}\n{AUTO_MARK}\n---\n{rest}"


def recovered_text(current: str, last_status: str, opened: datetime, recovered: datetime) -> str | None:
    """`current` with a Resolved update on top, or None when a person already resolved it.

    `current` and `last_status` must be read just before writing, so a person's edit survives.
    """
    if last_status.lower() == "resolved":
        return None
    minutes = max(1, round((recovered - opened).total_seconds() / 60))
    return add_update(current, UpdateRequest(time=recovered, status="resolved",
                                             message=f"Recovered after {minutes} min."))


def worsened_text(current: str, last_status: str, transition: Transition, component_name: str) -> str | None:
    """`current` (an open automatic incident that says the component is degraded) with an update
    saying it is down now, and its effect and impact raised to a major outage where they are still
    as the opening wrote them; None when the incident already says it is down. A person's own
    words, effect or impact stay as they are."""
    lines = current.splitlines(keepends=True)
    ours = f"  {transition.component}: degraded_performance"
    effect = next((i for i, line in enumerate(lines) if line.rstrip("\r\n") == ours), None)
    if effect is None:
        return None  # opened as down, or a person set the effect: nothing of ours to raise
    lines[effect] = lines[effect].replace("degraded_performance", "major_outage")
    impact = next((i for i, line in enumerate(lines[:effect]) if line.rstrip("\r\n") == "impact: minor"), None)
    if impact is not None:
        lines[impact] = lines[impact].replace("minor", "critical")
    result = transition.result
    quoted = str(getattr(result, "message", "") or getattr(result, "reason", "") or "down")
    return add_update("".join(lines), UpdateRequest(
        time=transition.time, status=last_status,
        message=f"Worse: {component_name} is down now: {quoted} from {transition.bad_locations} of "
                f"{transition.locations} locations."))


# --- reading what is on disk now, and writing -------------------------------------------------


@dataclass(frozen=True)
class Written:
    path: Path
    component: str
    action: str  # "opened", "worsened" or "resolved"
    opening: datetime  # the id of the transition that opened the incident's outage


def latest_status(text: str) -> str | None:
    """The status of the newest update (the first `## time · status` heading), lower case."""
    lines = text.splitlines()
    index = first_update_heading_index(lines)
    if index is None:
        return None
    heading = UPDATE_HEADING.match(lines[index])
    parts = HEADING_PARTS.match(heading.group("rest")) if heading else None
    return parts.group("status").strip().lower() if parts else None


def _front_matter(text: str) -> dict:
    match = re.match(r"\ufeff?---\r?\n(.*?)\r?\n(?:---|\.\.\.)\s*(?:\r?\n|$)", text, re.S)
    if not match:
        return {}
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _names_component(meta: dict, component: str) -> bool:
    affected = meta.get("components")
    if isinstance(affected, dict):
        return component in affected
    if isinstance(affected, list):
        return component in affected
    return affected == component


def open_auto_incident(incidents_dir: Path, component: str) -> Path | None:
    """The newest automatic incident about `component` not resolved yet (by a person or by us)."""
    found = []
    for path in sorted(Path(incidents_dir).rglob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # `heliograph validate` reports it; it cannot be ours to resolve
        if AUTO_MARK not in text:
            continue
        meta = _front_matter(text)
        if meta.get("auto") is True and _names_component(meta, component) and latest_status(text) not in (None, "resolved"):
            found.append(path)
    return found[-1] if found else None  # names start with the date: the last is the newest


def apply(transitions: Sequence[Transition], *, incidents_dir: Path, components: Collection[str],
          names: dict[str, str], on: Collection[str]) -> list[Written]:
    """Open or resolve the automatic incidents of `transitions` (oldest first) for the opted-in
    `components`. Each file is re-read just before it is written, so a person's edit is kept."""
    written: list[Written] = []
    for transition in transitions:
        if transition.component not in components or (max(transition.state_level, transition.peak_level) == 1
                                                        and DEGRADED not in on):
            continue
        current = open_auto_incident(incidents_dir, transition.component)
        if transition.kind in (DOWN, DEGRADED):
            if current is not None:
                if transition.kind == DOWN:  # degraded worsening to down, or down again after easing
                    text = current.read_text(encoding="utf-8")
                    worse = worsened_text(text, latest_status(text) or "investigating", transition,
                                          names.get(transition.component, transition.component))
                    if worse is not None:
                        _replace(current, worse)
                        written.append(Written(current, transition.component, "worsened", transition.time))
                continue  # flapping: the open incident already says so
            path = Path(incidents_dir) / f"{auto_incident_id(transition)}.md"
            if _create(path, opening_text(transition, names.get(transition.component, transition.component))):
                written.append(Written(path, transition.component, "opened", transition.time))
        elif transition.kind == RESOLVED and current is not None:
            text = current.read_text(encoding="utf-8")
            resolved = recovered_text(text, latest_status(text) or "", transition.since, transition.time)
            if resolved is not None:
                _replace(current, resolved)
                written.append(Written(current, transition.component, "resolved", transition.time))
    return written


def _create(path: Path, text: str) -> bool:
    """Write a new file; False (and nothing written) when one of that name exists already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="") as out:
            out.write(text)
    except FileExistsError:
        return False
    return True


def _replace(path: Path, text: str) -> None:
    """All or nothing: a build reading the file meanwhile sees the old text or the new, never half."""
    temporary = path.with_name(f".{path.name}.auto-incident")
    with open(temporary, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    os.replace(temporary, path)
