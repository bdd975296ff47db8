"""`heliograph import`: another status page's settings, components, incidents and history, as a
Heliograph site."""

from __future__ import annotations

import importlib
from datetime import datetime, timezone
from pathlib import Path

import click

from generator.cli import Context, _note, _shown, main
from generator.importers.model import SourceError
from generator.cli import report_problems
from generator.site.problems import InvalidInput

SOURCES = {"cstate": "cState (a Hugo site: config.yml and content/issues/)",
           "upptime": "Upptime (a repository: .upptimerc.yml, history/, and issues exported by the gh CLI)",
           "statuspage": "Atlassian Statuspage, or any page with its API: a URL, or a folder of api/v2/*.json",
           "statusfy": "Statusfy (config.js or .statusfyrc.yml, and content/*.md)"}


@main.command("import")
@click.argument("source", type=click.Choice(sorted(SOURCES)), metavar="SOURCE")
@click.argument("location", metavar="PATH_OR_URL")
@click.option("--into", "into", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="The site to write: a new site in an empty or new folder, or added to the site there.")
@click.option("--issues", type=click.Path(dir_okay=False, path_type=Path),
              help="upptime: the JSON of `gh issue list --state all --json number,title,body,labels,createdAt,"
                   "closedAt,comments` (default: issues.json in the repository, if there).")
@click.pass_obj
def import_site(obj: Context, source: str, location: str, into: Path, issues: Path | None) -> None:
    """Make a Heliograph site of another status page: SOURCE is cstate, upptime, statuspage or
    statusfy. Prints each thing it could not carry over, with the source file and line.

    Into a folder with a site.yaml, it adds only what the site lacks (new components, incident
    files whose name is free, history days without figures) and overwrites nothing.

    \b
    Example:
      heliograph import statuspage https://www.githubstatus.com --into status
      heliograph import cstate ../old-status-page --into .
      heliograph import upptime ../upptime-repo --issues issues.json --into status
    """
    from generator.importers.writer import ImportFailed, write_site  # not at the top: 108 ms of imports, paid only here

    reader = importlib.import_module(f"generator.importers.{source}")
    target = into.resolve()
    if not (target / "site.yaml").is_file() and target.is_dir() and any(
            not entry.name.startswith(".") for entry in target.iterdir()):
        raise click.ClickException(f"{_shown(target)} is neither empty nor a Heliograph site (no site.yaml); "
                                   "nothing was written. Pass --into with a new or empty folder, or a site's folder.")
    try:
        imported = reader.read(location, issues=issues) if source == "upptime" else reader.read(location)
        report = write_site(imported, target, now=datetime.now(timezone.utc))
    except SourceError as error:
        click.echo(f"{error.where}: error: {error.message}", err=True)
        raise click.ClickException("nothing was imported; the file above cannot be read") from None
    except InvalidInput as error:  # a link leading out of the source, or the site being merged into
        report_problems(error.problems)
        raise click.ClickException("nothing was imported") from None
    except ImportFailed as error:
        raise click.ClickException(f"{error}; nothing was written") from None
    merged = any(line.startswith("site.yaml (") for line in report.written) or report.skipped
    _note(obj, f"Imported {len(imported.components)} components and {len(imported.incidents)} incidents"
               f"{f' and {len(imported.history)} days of history' if imported.history else ''} "
               f"from {source} into {_shown(target)}.", fg="green")
    for line in report.skipped:
        click.echo(f"kept: {line}")
    for note in imported.not_carried:
        click.echo(str(note))
    if imported.secrets:
        _note(obj, "The checks need these secrets in the environment (GitHub: Settings > Secrets > Actions): "
                   + ", ".join(f"${{{name}}}" for name in imported.secrets))
    step = "" if target == Path.cwd().resolve() else f"cd {_shown(target)} && "
    _note(obj, f"Next: {step}heliograph build" + ("" if merged else "   # then read site.yaml and adjust"))
