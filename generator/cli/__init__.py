"""The `heliograph` command line: the `main` group and what every command shares."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from generator.site.config import Site

from generator import __version__
from generator.site.problems import InvalidInput, Problem
from generator.site.times import parse_time
from generator.site.times import BadClock, CLOCK_VARIABLE, clock_now


class Context:
    def __init__(self, site: Path | None, quiet: bool, verbose: bool):
        self.site_option = site
        self.quiet = quiet
        self.verbose = verbose

    def root(self) -> Path:
        if self.site_option:
            return self.site_option.resolve()
        from generator.site.config import CONFIG_FILE, find_site_root  # not at the top: 21 ms of imports, paid only here
        found = find_site_root(Path.cwd())
        if found is None:
            raise click.ClickException(f"no {CONFIG_FILE} in this directory or any parent; run it inside a "
                                       "status site, pass --site PATH, or create one with `heliograph init`")
        return found

    def site(self) -> "Site":
        """The site, or a clear exit listing every problem in site.yaml."""
        from generator.engine.site_cache import load_site_kept  # not at the top: 34 ms of imports, paid only here
        root = self.root()
        try:
            return load_site_kept(root)
        except InvalidInput as exc:
            report_problems(exc.problems, root=root)
            raise click.ClickException("site.yaml has errors; fix them first (`heliograph validate` lists them)")

    def say(self, message: str, **style) -> None:
        if not self.quiet:
            click.echo(_style(message, **style))


def _colour_enabled(stream=None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _style(message: str, err: bool = False, **style) -> str:
    return click.style(message, **style) if style and _colour_enabled(sys.stderr if err else None) else message


def report_problems(problems: list[Problem] | tuple[Problem, ...], output_format: str = "text",
                    root: Path | None = None) -> None:
    """Each problem on its own line; with `root`, file names are made clickable from where we run."""
    for problem in problems:
        if root is not None:
            problem = replace(problem, file=shown_problem_file(problem.file, root, output_format))
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


def shown_problem_file(file: str, root: Path, output_format: str = "text") -> str:
    """A site-relative file name, relative to the working directory instead when that is where the
    reader is: inside the site (`../site.yaml`), or above it (`status/incidents/x.md`). GitHub
    annotations need the path from the repository root, which is GITHUB_WORKSPACE when set.
    """
    path = root / file
    if not file or not path.exists():
        return file  # e.g. "--base-url": not a file
    base = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()) if output_format == "github" else Path.cwd()
    # The file's own name is kept: a symlink refused for leading out of the site must be named as it is.
    base, path, root = base.resolve(), path.parent.resolve() / path.name, root.resolve()
    if path.is_relative_to(base) or base.is_relative_to(root):
        return Path(os.path.relpath(path, base)).as_posix()
    return file


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = parse_time(value)
    if parsed is None:
        raise click.BadParameter(f"{value!r} is not a time with a zone, e.g. 2026-11-20T14:00:00Z", param_hint="--now")
    return parsed


def seconds(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """A click callback: a duration option (`60s`, `2m`, `500ms`) as seconds."""
    from generator.checks.spec import parse_duration  # not at the top: 23 ms of imports, paid only here
    try:
        return parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def command_now(value: str | None) -> datetime:
    """The time a command runs as: `--now`, else the clock (HELIOGRAPH_NOW, else the real one).
    A HELIOGRAPH_NOW that is not a time is said like any bad input, before the command does anything."""
    given = parse_now(value)
    if given is not None:
        return given
    try:
        return clock_now()
    except BadClock as error:
        report_problems([Problem(CLOCK_VARIABLE, None, None, str(error))])
        raise click.ClickException(f"unset {CLOCK_VARIABLE} or set it to a time with a zone") from None


class _CommandsOnDemand(click.Group):
    """Imports the module of a command when it is asked for: `build`, run every few minutes in
    CI, need not load what `incident` and `serve` are made of."""

    MODULES = {"build": "pipeline", "validate": "pipeline", "check": "pipeline", "compact": "pipeline",
               "push": "pipeline", "init": "site", "theme": "site", "demo": "site", "incident": "incident", "serve": "site",
               "alert": "alert", "beat": "beat", "announce": "announce", "schema": "schema",
               "import": "import_site"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        for module in set(self.MODULES.values()):
            importlib.import_module(f"{__name__}.{module}")
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.MODULES:
            importlib.import_module(f"{__name__}.{self.MODULES[name]}")  # registers its commands on `main`
        return super().get_command(ctx, name)


@click.group(cls=_CommandsOnDemand, context_settings={"help_option_names": ["-h", "--help"]})
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


_IN_OWN_PROCESS = False  # set by `run`, the program's entry point; not when a test invokes `main`


def run() -> None:
    """The `heliograph` program: `main`, in a process of its own."""
    global _IN_OWN_PROCESS
    _IN_OWN_PROCESS = True
    main()


def ends_process() -> bool:
    """Whether this command's process ends when it does: `heliograph` itself, not a test's `main`."""
    return _IN_OWN_PROCESS


def exit_now() -> None:
    """End the process without tearing the interpreter down: after a build of a large site,
    freeing its objects and modules one by one took 50 ms of a one-second rebuild, to give the
    memory back to a process that is ending anyway. Only where nothing is left to do: output
    flushed, every file closed, no thread or child running."""
    if _IN_OWN_PROCESS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _shown(path: Path) -> str:
    """A path as the person typing should see it: relative to where they are, when that is shorter."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") or len(relative) < len(str(path)) else str(path)


def _note(obj: Context, message: str, **style) -> None:
    """Progress and hints go to stderr, so stdout is only the answer (a path, a table) for scripts."""
    if not obj.quiet:
        click.echo(_style(message, err=True, **style), err=True)
