"""The `heliograph` command line."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click

from . import __version__
from .problems import InvalidInput, Problem


class Context:
    def __init__(self, site: Path | None, quiet: bool, verbose: bool):
        self.site_option = site
        self.quiet = quiet
        self.verbose = verbose

    def root(self) -> Path:
        from .config import CONFIG_FILE, find_site_root
        if self.site_option:
            return self.site_option.resolve()
        found = find_site_root(Path.cwd())
        if found is None:
            raise click.ClickException(f"no {CONFIG_FILE} in this directory or any parent; run it inside a "
                                       "status site, pass --site PATH, or create one with `heliograph init`")
        return found

    def say(self, message: str, **style) -> None:
        if not self.quiet:
            click.echo(_style(message, **style))


def _colour_enabled(stream=None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _style(message: str, err: bool = False, **style) -> str:
    return click.style(message, **style) if style and _colour_enabled(sys.stderr if err else None) else message


def report_problems(problems: list[Problem] | tuple[Problem, ...], output_format: str = "text") -> None:
    for problem in problems:
        if output_format == "github":
            # GitHub Actions workflow commands: the mistake shows on the pull request's diff.
            parts = [f"file={problem.file}"]
            if problem.line:
                parts.append(f"line={problem.line}")
            if problem.column:
                parts.append(f"col={problem.column}")
            message = problem.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            click.echo(f"::{problem.severity} {','.join(parts)}::{message}")
        else:
            colour = "red" if problem.severity == "error" else "yellow"
            click.echo(_style(str(problem), err=True, fg=colour), err=True)


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    from .incidents import parse_time
    parsed = parse_time(value)
    if parsed is None:
        raise click.BadParameter(f"{value!r} is not a time with a zone, e.g. 2026-11-20T14:00:00Z", param_hint="--now")
    return parsed


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heliograph")
@click.option("--site", type=click.Path(file_okay=False, path_type=Path), envvar="HELIOGRAPH_SITE",
              help="The site directory (holding site.yaml). Default: found upwards from here.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", is_flag=True, help="Print more detail.")
@click.pass_context
def main(ctx: click.Context, site: Path | None, quiet: bool, verbose: bool) -> None:
    """Heliograph: a static status page generated from a git repository.

    \b
    Example:
      heliograph build            # render the site into build/
      heliograph validate         # check site.yaml, incidents and history
    """
    ctx.obj = Context(site, quiet, verbose)


@main.command()
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), help="Where to write (default: build/).")
@click.option("--base-url", help="Override site.base_url, e.g. for a preview deploy.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--now", "now_text", metavar="TIME", help="Render as of this time (reproducible builds and tests).")
@click.pass_obj
def build(obj: Context, output: Path | None, base_url: str | None, strict: bool, now_text: str | None) -> None:
    """Render the status page into build/.

    \b
    Example:
      heliograph build --base-url https://preview.example.com/ --output /tmp/preview
    """
    from .build import build as run_build
    started = time.perf_counter()
    root = obj.root()
    try:
        report = run_build(root, output, now=parse_now(now_text), base_url=base_url, strict=strict)
    except InvalidInput as exc:
        report_problems(exc.problems)
        errors = sum(p.severity == "error" for p in exc.problems) or len(exc.problems)
        raise click.ClickException(f"build failed: {errors} problem(s); fix them and build again "
                                   "(the last good build/ is untouched)")
    report_problems(report.problems)
    elapsed = time.perf_counter() - started
    where = os.path.relpath(report.output) if report.output.is_absolute() else report.output
    obj.say(f"Built {report.files} files into {where}/ in {elapsed:.2f} s "
            f"({report.written} written, {report.unchanged} unchanged, {report.removed} removed)", fg="green")


@main.command()
@click.option("--format", "output_format", type=click.Choice(["text", "github"]), default="text",
              help="github prints GitHub Actions annotations.")
@click.option("--now", "now_text", metavar="TIME", help="Validate as of this time.")
@click.pass_obj
def validate(obj: Context, output_format: str, now_text: str | None) -> None:
    """Check site.yaml, every incident and the history; print each problem as file:line:col.

    \b
    Example:
      heliograph validate --format github
    """
    from .validate import validate_site
    problems = validate_site(obj.root(), now=parse_now(now_text) or datetime.now(timezone.utc))
    report_problems(problems, output_format)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise click.ClickException(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    obj.say("site.yaml, incidents and history are valid", fg="green")


if __name__ == "__main__":  # pragma: no cover
    main()
