"""`heliograph schema`: JSON Schema for site.yaml (or incident front matter), for editors."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli import main


@main.command()
@click.option("--incident", is_flag=True, help="The schema of an incident file's front matter instead of site.yaml's.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write it to this file (its folder is made if missing) instead of printing it.")
def schema(incident: bool, output: Path | None) -> None:
    """Print JSON Schema (draft 2020-12) for site.yaml, made from the declarations `heliograph validate`
    checks against, so an editor completes and checks keys as you type.

    `heliograph init` sets this up; refresh the file after upgrading Heliograph. site.yaml's
    first line names it: # yaml-language-server: $schema=.heliograph/site.schema.json

    \b
    Example:
      heliograph schema -o .heliograph/site.schema.json
    """
    from generator.schema import incident_schema, schema_text, site_schema  # not at the top: 67 ms of imports, paid only here

    text = schema_text(incident_schema() if incident else site_schema())
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise click.ClickException(f"could not write {output}: {exc.strerror or exc}") from None
