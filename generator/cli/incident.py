"""`heliograph incident`: open, update, resolve and list incidents without hand-writing Markdown."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

from generator.engine.atomic import write_atomically
from generator.site.paths import NotARegularFile, check_inside, read_regular_file
from generator.site.problems import InvalidInput
from generator.cli import Context, main, report_problems, _colour_enabled, _note, _shown

if TYPE_CHECKING:
    from generator.site.config import Site


def _incident_ids(incidents_dir: Path) -> list[str]:
    return sorted(p.stem for p in incidents_dir.glob("*.md") if p.name.lower() != "readme.md")


@contextmanager
def _authoring_errors():
    """A refused request becomes an error on stderr and exit code 1, without a traceback."""
    from generator.site.authoring import AuthoringError  # not at the top: 37 ms of imports, paid only here
    try:
        yield
    except AuthoringError as exc:
        raise click.ClickException(str(exc)) from None


def _refuse_invalid(problems, root: Path, what: str) -> None:
    report_problems(problems, root=root)
    raise click.ClickException(f"{what}: the build would fail on the problem(s) above, so nothing was written")


@main.group()
def incident() -> None:
    """Open, update, resolve and list incidents without hand-writing Markdown.

    Every file written is checked with the build's own parser first, so these commands
    never leave a file that breaks the build. Commit and push it to publish.

    \b
    Example:
      heliograph incident new "API errors" --component api --impact major
      heliograph incident update api-errors --status identified -m "A bad deploy; rolling back."
      heliograph incident resolve api-errors
    """


def _time_option(help_text: str):
    return click.option("--time", "time_text", metavar="TIME",
                        help=help_text + " A time with a zone: `14:05 UTC`, `2026-11-20 14:05 Europe/Berlin`, ISO 8601.")


@incident.command("new")
@click.argument("title")
@click.option("-c", "--component", "components", multiple=True, metavar="ID[:EFFECT]",
              help="An affected component (repeat, or separate with commas); EFFECT is degraded_performance, "
                   "partial_outage or major_outage (default: from the impact).")
@click.option("-i", "--impact", type=click.Choice(["none", "minor", "major", "critical"], case_sensitive=False),
              help="How bad it is (default: minor; none for maintenance).")
@click.option("-s", "--status", help="The first status (default: investigating; scheduled for maintenance).")
@click.option("-m", "--message", "messages", multiple=True, help="What readers should know (repeat for paragraphs).")
@_time_option("When the first update happened (default: now).")
@click.option("--maintenance", is_flag=True, help="A planned maintenance instead of an incident.")
@click.option("--from", "from_text", metavar="TIME", help="Maintenance window start (implies --maintenance).")
@click.option("--until", "until_text", metavar="TIME", help="Maintenance window end.")
@click.option("-e", "--edit", is_flag=True, help="Open the new file in $EDITOR (checked again when you save).")
@click.pass_obj
def incident_new(obj: Context, title: str, components: tuple[str, ...], impact: str | None, status: str | None,
                 messages: tuple[str, ...], time_text: str | None, maintenance: bool, from_text: str | None,
                 until_text: str | None, edit: bool) -> None:
    """Open an incident: writes incidents/<date>-<slug>.md and prints its path.

    \b
    Example:
      heliograph incident new "API errors" -c api --impact major -m "We are investigating 5xx errors."
      heliograph incident new "Slow webhooks" -c webhooks:degraded_performance --edit
      heliograph incident new "Database upgrade" -c api,dashboard --maintenance \\
          --from "2026-12-08 02:00 UTC" --until "2026-12-08 03:00 UTC"
    """
    from generator.site.authoring import DEFAULT_MESSAGES, NewIncident, check_status, new_incident_id, new_incident_text, parse_component_option, parse_when, to_minute  # not at the top: 37 ms of imports, paid only here
    from generator.site.incidents import parse_incident  # not at the top: 18 ms of imports, paid only here

    site = obj.site()
    now = datetime.now(timezone.utc)
    maintenance = maintenance or bool(from_text or until_text)
    with _authoring_errors():
        affected = tuple(parse_component_option(part, site.component_ids)
                         for value in components for part in value.split(",") if part.strip())
        status = check_status(status or ("scheduled" if maintenance else "investigating"), maintenance)
        spec = NewIncident(
            title=title, time=to_minute(parse_when(time_text, now) if time_text else now), status=status,
            message="\n\n".join(m.strip() for m in messages if m.strip()) or DEFAULT_MESSAGES[status],
            impact=(impact or ("none" if maintenance else "minor")).lower(), components=affected,
            maintenance=maintenance,
            scheduled_for=to_minute(parse_when(from_text, now)) if from_text else None,
            scheduled_until=to_minute(parse_when(until_text, now)) if until_text else None,
        )
        text = new_incident_text(spec)
    site.incidents_dir.mkdir(parents=True, exist_ok=True)
    while True:
        incident_id = new_incident_id(spec, _incident_ids(site.incidents_dir))
        relative = f"incidents/{incident_id}.md"
        try:
            parse_incident(text, incident_id=incident_id, file=relative, component_ids=site.component_ids, now=now)
        except InvalidInput as exc:
            _refuse_invalid(exc.problems, site.root, f"{relative} not written")
        path = site.root / relative
        try:
            with path.open("x", encoding="utf-8", newline="") as handle:  # "x": never overwrite
                handle.write(text)
            break
        except FileExistsError:
            continue  # someone wrote that name just now; take the next suffix
    if edit and not _edit_incident(obj, path, relative, incident_id, site):
        return
    click.echo(_shown(path))
    kind = "maintenance" if maintenance else "incident"
    _note(obj, f"Opened {kind} {incident_id} ({status}). Commit and push it to publish; "
               f"update it with `heliograph incident update {incident_id} ...`", fg="green")


def _edit_incident(obj: Context, path: Path, relative: str, incident_id: str, site: Site) -> bool:
    """Open $EDITOR on the file; keep the edit only if it still builds. False when the user emptied it."""
    from generator.site.incidents import parse_incident  # not at the top: 18 ms of imports, paid only here

    text = path.read_text(encoding="utf-8")
    while True:
        edited = click.edit(text, extension=".md", require_save=False)
        if edited is None or edited == text:
            return True
        if not edited.strip():
            path.unlink()
            _note(obj, f"The file was emptied: {relative} removed, nothing opened.")
            return False
        try:
            parse_incident(edited, incident_id=incident_id, file=relative, component_ids=site.component_ids,
                           now=datetime.now(timezone.utc))
        except InvalidInput as exc:
            report_problems(exc.problems, root=site.root)
            if sys.stdin.isatty() and click.confirm("The build would fail on this. Edit again?", default=True,
                                                    err=True):
                text = edited
                continue
            draft = path.with_name(path.name + ".draft")
            draft.write_text(edited, encoding="utf-8")
            raise click.ClickException(f"your edit would break the build, so {_shown(path)} keeps the version "
                                       f"before it; the edit is saved in {_shown(draft)}")
        write_atomically(path, edited.encode("utf-8"))
        return True


def _add_update(obj: Context, query: str, plan) -> None:
    """The shared half of update/resolve: find the file, plan the update, check the result, write it."""
    from generator.site.authoring import add_update, find_incident_id, update_heading  # not at the top: 37 ms of imports, paid only here
    from generator.site.incidents import parse_incident  # not at the top: 18 ms of imports, paid only here

    site = obj.site()
    now = datetime.now(timezone.utc)
    with _authoring_errors():
        incident_id = find_incident_id(query, _incident_ids(site.incidents_dir))
    relative = f"incidents/{incident_id}.md"
    path = site.root / relative
    try:
        # A link out of the site is neither read nor written through: its target is not the site's.
        check_inside(path, site.root)
        # Bytes, not read_text: universal newlines would turn a CRLF file into LF on the way back.
        original = read_regular_file(path).decode("utf-8")
    except InvalidInput as exc:
        _refuse_invalid(exc.problems, site.root, f"{relative} not read")
    except NotARegularFile:
        raise click.ClickException(f"{relative} is a pipe, device or socket, not a file; it is not read")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{relative} is not UTF-8 text ({exc.reason}); save it as UTF-8 first")
    try:
        current, _ = parse_incident(original, incident_id=incident_id, file=relative,
                                    component_ids=site.component_ids, now=now)
    except InvalidInput as exc:
        report_problems(exc.problems, root=site.root)
        raise click.ClickException(f"{relative} has errors already; fix them first, then run this again")
    with _authoring_errors():
        request = plan(current, now)
        updated = add_update(original, request)
    try:
        parse_incident(updated, incident_id=incident_id, file=relative, component_ids=site.component_ids, now=now)
    except InvalidInput as exc:
        _refuse_invalid(exc.problems, site.root, f"{relative} not changed")
    write_atomically(path, updated.encode("utf-8"))
    click.echo(_shown(path))
    was = current.latest.status.replace("_", " ")
    _note(obj, f"{incident_id}: {request.status.replace('_', ' ')} (was {was}). Commit and push it to publish.",
          fg="green")
    if obj.verbose:
        _note(obj, f"{update_heading(request.time, request.status)}\n{request.message}")


@incident.command("update")
@click.argument("incident_query", metavar="ID")
@click.option("-s", "--status", help="The new status (default: unchanged, for a progress note).")
@click.option("-m", "--message", "messages", multiple=True, help="What changed (repeat for paragraphs).")
@_time_option("When it happened (default: now).")
@click.pass_obj
def incident_update(obj: Context, incident_query: str, status: str | None, messages: tuple[str, ...],
                    time_text: str | None) -> None:
    """Add an update at the top of an incident's timeline; the rest of the file stays as it is.

    ID is the file name without .md, or any unique part of it.

    \b
    Example:
      heliograph incident update api-errors --status identified -m "A bad deploy; rolling back."
      heliograph incident update 2026-11-20-api -m "Still working on it." --time "14:30 UTC"
    """
    from generator.site.authoring import parse_when, plan_update  # not at the top: 37 ms of imports, paid only here

    if not status and not any(m.strip() for m in messages):
        raise click.UsageError("say what changed: --status, -m MESSAGE, or both")
    message = "\n\n".join(m.strip() for m in messages if m.strip())

    def plan(current, now):
        when = parse_when(time_text, now) if time_text else now
        return plan_update(current, status=status, message=message, time=when)

    _add_update(obj, incident_query, plan)


@click.command("resolve")
@click.argument("incident_query", metavar="ID")
@click.option("-m", "--message", "messages", multiple=True,
              help='What readers should know (default: "This incident has been resolved.").')
@_time_option("When it was resolved (default: now).")
@click.pass_obj
def incident_resolve(obj: Context, incident_query: str, messages: tuple[str, ...], time_text: str | None) -> None:
    """Resolve an incident, or complete a maintenance.

    \b
    Example:
      heliograph incident resolve api-errors
      heliograph incident resolve api-errors -m "Error rates are back to normal." --time "14:52 UTC"
      heliograph incident complete database-upgrade
    """
    from generator.site.authoring import parse_when, plan_resolution  # not at the top: 37 ms of imports, paid only here

    message = "\n\n".join(m.strip() for m in messages if m.strip())

    def plan(current, now):
        when = parse_when(time_text, now) if time_text else now
        return plan_resolution(current, message=message, time=when)

    _add_update(obj, incident_query, plan)


incident.add_command(incident_resolve, "resolve")
incident.add_command(incident_resolve, "complete")

INCIDENT_STATUS_COLOURS = {"investigating": "red", "identified": "red", "monitoring": "yellow",
                           "resolved": "green", "scheduled": "blue", "in_progress": "yellow",
                           "verifying": "yellow", "completed": "green"}


@incident.command("list")
@click.option("--open", "only_open", is_flag=True, help="Only incidents and maintenance not yet over.")
@click.pass_obj
def incident_list(obj: Context, only_open: bool) -> None:
    """A table of incidents and maintenance, newest first.

    \b
    Example:
      heliograph incident list --open
    """
    from generator.site.incident_loading import load_incidents  # not at the top: 18 ms of imports, paid only here

    site = obj.site()
    now = datetime.now(timezone.utc)
    loaded = load_incidents(site.incidents_dir, site.component_ids, now=now, relative_to=site.root)
    rows = [i for i in loaded.incidents if i.is_open(now) or not only_open]
    report_problems([p for p in loaded.problems if p.severity == "error"], root=site.root)
    if not rows:
        obj.say("No open incidents." if only_open else "No incidents yet.")
    else:
        for line in format_incident_table(rows, now, colour=_colour_enabled()):
            click.echo(line)
    if any(p.severity == "error" for p in loaded.problems):
        raise click.ClickException("some incident files have errors and are missing from this list")


def format_incident_table(incidents, now: datetime, *, colour: bool) -> list[str]:
    """Aligned columns: id, status, impact, start (UTC), title."""
    table = [("ID", "STATUS", "IMPACT", "STARTED (UTC)", "TITLE")]
    for item in incidents:
        start = item.scheduled_for if item.is_maintenance and item.scheduled_for else item.started_at
        table.append((item.id, item.status_at(now).replace("_", " "), item.impact, f"{start:%Y-%m-%d %H:%M}",
                      item.title))
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = []
    for number, row in enumerate(table):
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        if colour and number:
            cells[1] = click.style(cells[1], fg=INCIDENT_STATUS_COLOURS.get(row[1].replace(" ", "_")))
        elif colour:
            cells = [click.style(cell, bold=True) for cell in cells]
        lines.append("  ".join(cells + [row[4]]).rstrip())
    return lines
