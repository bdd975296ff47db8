"""`auto_incident`: the incident file a crossed failure threshold opens, and the Resolved update
recovery appends, as pure text functions. Not wired into `heliograph alert send` yet.

Both go through `generator.site.authoring` (the code behind `heliograph incident new/update`),
so an automatic file is exactly what a person's command would have written, and passes the
build's own parser. The resolve only ever adds an update above the timeline: whatever a person
wrote (title, updates, status) stays byte for byte.
"""

from __future__ import annotations

import re
from datetime import datetime

from generator.alerts.rules import Transition
from generator.site.authoring import AffectedSpec, NewIncident, UpdateRequest, add_update, new_incident_text

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
