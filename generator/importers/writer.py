"""An `ImportedSite` written out as a Heliograph site: site.yaml, incidents/ and history/.

A new site gets everything `heliograph init` writes (workflows, the pinned requirement, the
schema for editors), with site.yaml's page settings and components replaced by the imported
ones. Into an existing site, only what it lacks is added: components whose id is new (at the
end of its `components:` list), incident files whose name is free, history days it has no
figures for. Nothing that is there is overwritten; each thing left out is reported.

Incident files are written by `generator.site.authoring`, the code behind `heliograph incident
new/update`, and each is parsed by the build's own parser before anything is written: an
import either writes a site that builds, or stops with the first file it could not write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from generator.history.aggregate import SeriesDay
from generator.history.codec import day_start
from generator.history.store import daily_path, ensure_gitattributes, read_daily_file, write_atomically
from generator.importers.model import ImportedComponent, ImportedDay, ImportedIncident, ImportedSite
from generator.site.authoring import (AffectedSpec, NewIncident, UpdateRequest, add_update, new_incident_text, slugify,
                                      yaml_scalar)
from generator.site.config import CONFIG_FILE
from generator.site.incidents import parse_incident
from generator.site.config import load_site
import yaml
from generator import __version__
from generator.ops.theme import starter_files
from generator.site.problems import InvalidInput

IMPORT_LOCATION = "imported"  # the location the imported daily figures are kept under in history/


@dataclass
class WriteReport:
    """What `write_site` did, for the command to print: the files written, and what was left out
    because the site had it already."""

    written: list[str] = field(default_factory=list)  # paths relative to the site
    skipped: list[str] = field(default_factory=list)  # what was there already, one line each


def write_site(imported: ImportedSite, into: Path, *, now: datetime) -> WriteReport:
    """Write `imported` into the folder `into`: a new site there, or added to the one there.
    Every incident is checked by the build's parser first: ImportFailed, and nothing written,
    if one would not build."""
    into = Path(into)
    report = WriteReport()
    merging = (into / CONFIG_FILE).is_file()
    ids = {c.id for c in imported.components}
    if merging:

        ids |= {c.id for c in load_site(into).components}
    incident_files = _incident_files(imported.incidents, into / "incidents", sorted(ids), report)
    if merging:
        _merge_components(into / CONFIG_FILE, imported.components, report)
    else:
        _new_site(imported, into, now, report)
    for name, text in incident_files.items():
        path = into / "incidents" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        report.written.append(f"incidents/{name}")
    _write_history(imported.history, into / "history", report)
    return report


# --- site.yaml -------------------------------------------------------------------------------


def components_yaml(components: list[ImportedComponent]) -> str:
    """The `components:` entries, in the order given, as site.yaml lists them."""
    lines = []
    for component in components:
        lines.append(f"  - id: {component.id}")
        lines.append(f"    name: {yaml_scalar(component.name)}")
        if component.description:
            lines.append(f"    description: {yaml_scalar(_one_line(component.description))}")
        if component.group:
            lines.append(f"    group: {yaml_scalar(component.group)}")
        if component.check:
            lines.append("    check:")
            lines += [f"      {key}: {_flow(value)}" for key, value in component.check.items()]
        lines.append("")
    return "\n".join(lines)


def _flow(value: object) -> str:
    """A YAML value on one line: a scalar, or a flow list or mapping."""

    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 20).removesuffix(
        "\n").removesuffix("\n...").strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _new_site(imported: ImportedSite, into: Path, now: datetime, report: WriteReport) -> None:
    from generator.ops import scaffold  # not at the top: 12 ms of imports, paid only here

    title = imported.title or "Status"
    base_url = imported.base_url or "https://status.example.com/"
    files = scaffold.site_files(title=title, base_url=base_url, now=now)
    files = {name: content for name, content in files.items() if not name.startswith("incidents/")}
    files.update(starter_files())
    files.update(scaffold.site_workflows(scaffold.WORKFLOWS_DIR, __version__))
    files.update(scaffold.pinned_requirements(__version__))
    text = files[CONFIG_FILE].decode()
    if imported.description:
        text = text.replace("  description: Live and past status of our services.",
                            f"  description: {yaml_scalar(_one_line(imported.description))}", 1)
    if imported.timezone:
        text = re.sub(r"(?m)^  timezone: UTC( +#.*)?$", lambda m: f"  timezone: {imported.timezone}{m.group(1) or ''}",
                      text, count=1)
    logo = imported.logo if imported.logo and imported.logo.startswith("https://") else None
    text = re.sub(r"(?m)^  logo: .*$", f"  logo: {yaml_scalar(logo)}" if logo else "  # logo: assets/logo.svg",
                  text, count=1)
    start = text.index("\ncomponents:\n") + len("\ncomponents:\n")
    text = text[:start] + components_yaml(imported.components)
    files[CONFIG_FILE] = text.encode()
    plan = scaffold.plan_init(into, files)
    into.mkdir(parents=True, exist_ok=True)
    report.written += scaffold.write_plan(into, plan)
    (into / "incidents").mkdir(exist_ok=True)


def _merge_components(config: Path, components: list[ImportedComponent], report: WriteReport) -> None:
    """Add the components site.yaml lacks at the end of its `components:` list."""

    site = load_site(config.parent)
    have = {c.id for c in site.components}
    new = [c for c in components if c.id not in have]
    for component in components:
        if component.id in have:
            report.skipped.append(f"{CONFIG_FILE}: component {component.id!r} is there already; kept as it is")
    if new:
        text = config.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if re.match(r"components\s*:", line))
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t", "-", "#")):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        addition = components_yaml(new)
        if lines[end - 1:end] and not lines[end - 1].endswith("\n"):
            lines[end - 1] += "\n"
        lines.insert(end, addition)
        config.write_text("".join(lines), encoding="utf-8", newline="")
        report.written.append(f"{CONFIG_FILE} ({len(new)} component{'s' if len(new) != 1 else ''} added)")


# --- incidents -------------------------------------------------------------------------------


def incident_text(incident: ImportedIncident) -> str:
    """The incident's file: its oldest update opens it, each later one is added on top."""
    oldest, *later = sorted(incident.updates, key=lambda update: update.time)
    spec = NewIncident(title=incident.title, time=oldest.time, status=oldest.status, message=oldest.message,
                       impact=incident.impact if not incident.maintenance or incident.impact != "maintenance" else "none",
                       components=tuple(AffectedSpec(cid, effect) for cid, effect in incident.components.items()),
                       maintenance=incident.maintenance, scheduled_for=incident.scheduled_for,
                       scheduled_until=incident.scheduled_until)
    text = new_incident_text(spec)
    if incident.postmortem:
        head, _, rest = text.partition("\n---\n")
        text = f"{head}\n{_postmortem_yaml(incident.postmortem)}---\n{rest}"
    for update in later:
        text = add_update(text, UpdateRequest(time=update.time, status=update.status, message=update.message))
    return text


def _postmortem_yaml(postmortem: str) -> str:
    text = postmortem.strip()
    if "\n" not in text:
        return f"postmortem: {yaml_scalar(text)}\n"
    return "postmortem: |\n" + "".join(f"  {line}\n" if line.strip() else "\n" for line in text.splitlines())


def _incident_files(incidents: list[ImportedIncident], folder: Path, component_ids: list[str],
                    report: WriteReport) -> dict[str, str]:
    """name -> text of each incident to write; those whose name is taken are reported instead."""

    files: dict[str, str] = {}
    for incident in incidents:
        first = min(update.time for update in incident.updates)
        day = (incident.scheduled_for or first) if incident.maintenance else first
        stem = incident.id_hint or slugify(incident.title) or "incident"
        name = stem if re.match(r"\d{4}-\d{2}-\d{2}-", stem) else f"{day:%Y-%m-%d}-{stem}"
        if (folder / f"{name}.md").exists():
            report.skipped.append(f"incidents/{name}.md exists; the imported incident {incident.title!r} was left out")
            continue
        number = 2
        unique = name
        while f"{unique}.md" in files:
            unique, number = f"{name}-{number}", number + 1
        text = incident_text(incident)
        try:
            parse_incident(text, incident_id=unique, file=f"incidents/{unique}.md", component_ids=tuple(component_ids),
                           now=datetime.now(timezone.utc) + timedelta(days=3650))
        except InvalidInput as error:
            raise ImportFailed(f"{incident.source or incident.title}: the incident would not build: "
                               + "; ".join(problem.message for problem in error.problems)) from None
        files[f"{unique}.md"] = text
    return files


class ImportFailed(Exception):
    """The source holds something the importer cannot write as a valid site; nothing was written."""


# --- history ---------------------------------------------------------------------------------


def series_day(day: ImportedDay) -> SeriesDay:
    """A day's figures as the history's daily aggregate: `checks` results (a minute each when the
    source does not say), of which the up fraction were up, covering the whole day."""
    checks = day.checks or 1440
    up = round(checks * max(0.0, min(1.0, day.up_fraction)))
    start = day_start(day.day)
    latency = day.mean_response_ms
    return SeriesDay(
        component=day.component, location=IMPORT_LOCATION, day=day.day, checks=checks, up=up, degraded=0,
        down=checks - up, maintenance=0, covered_seconds=86400.0,
        downtime_seconds=round(86400.0 * (checks - up) / checks, 3),
        latency_count=up if latency is not None else 0, latency_sum=latency * up if latency is not None else 0.0,
        latency_min=latency, latency_max=latency, histogram=(), first_time=start, last_time=start + 86399.0,
        last_status="up" if up == checks else "down", hold_until=start + 86400.0)


def _write_history(days: list[ImportedDay], history_dir: Path, report: WriteReport) -> None:
    by_month: dict[tuple[int, int], list[ImportedDay]] = {}
    for day in days:
        by_month.setdefault((day.day.year, day.day.month), []).append(day)
    for (year, month), month_days in sorted(by_month.items()):
        path = daily_path(history_dir, year, month)
        existing = read_daily_file(path, []) if path.exists() else {}
        have = {(component, day) for component, _, day in existing}
        added = {}
        for day in month_days:
            if (day.component, day.day) in have:
                report.skipped.append(f"history: {day.component} on {day.day} has figures already; kept")
                continue
            aggregate = series_day(day)
            added[aggregate.key] = aggregate
        if not added:
            continue
        every = {**existing, **added}
        ensure_gitattributes(history_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, b"".join(every[key].to_line() for key in sorted(every, key=lambda k: (k[2], k[0], k[1]))))
        report.written.append(f"{path.relative_to(history_dir.parent).as_posix()} ({len(added)} days)")


