"""`heliograph init` and `serve`: starting a status site and previewing it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from generator import __version__
from generator.cli import Context, main, report_problems, _style, _note, _shown
from generator.ops.theme import starter_files
from generator.cli import command_now
from generator.ops.theme import ThemeError, copy_from_theme, theme_files


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--title", default="Status", show_default=True, help="The page title.")
@click.option("--base-url", default="https://status.example.com/", show_default=True,
              help="Where the site will be served.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option("--here", is_flag=True,
              help="In a repository created from Heliograph's template: remove the demo's incidents, history "
                   "and Heliograph's own tests, and write your site.yaml and README.md (needs --force).")
@click.pass_obj
def init(obj: Context, directory: Path, title: str, base_url: str, force: bool, here: bool) -> None:
    """Create a new status site in DIRECTORY (default: here) that builds at once.

    Writes site.yaml (every key commented), an example incident, one template to start
    restyling from (templates/_site_footer.html; `heliograph theme` copies in any other), the
    GitHub workflows when this installation has them, and a .gitignore.
    Existing files are never overwritten without --force.

    \b
    Example:
      heliograph init status --title "Acme Status" --base-url https://status.acme.example/
      cd status && heliograph serve
    """
    from generator.site.config import _is_absolute_url  # not at the top: 20 ms of imports, paid only here
    from generator.ops import scaffold  # not at the top: 87 ms of imports, paid only here
    from generator.ops.scaffold import pinned_requirements, plan_init, site_files, site_workflows, write_plan  # not at the top: 87 ms of imports, paid only here

    if not _is_absolute_url(base_url):
        raise click.BadParameter(f"{base_url!r} is not an absolute http(s) URL", param_hint="--base-url")
    files = site_files(title=title, base_url=base_url, now=datetime.now(timezone.utc))
    if here:
        _make_it_yours(obj, directory.resolve(), files, title=title, base_url=base_url, force=force)
        return
    files.update(starter_files())
    workflows = site_workflows(scaffold.WORKFLOWS_DIR, __version__)
    files.update(workflows)
    files.update(pinned_requirements(__version__))
    target = directory.resolve()
    plan = plan_init(target, files)
    if plan.overwrites and not force:
        listed = "\n".join(f"  {name}" for name in plan.overwrites)
        raise click.ClickException(f"these files exist in {_shown(target)} and would be overwritten:\n{listed}\n"
                                   "nothing was written; pass --force to overwrite them")
    target.mkdir(parents=True, exist_ok=True)
    written = write_plan(target, plan)
    if obj.verbose:
        for name in written:
            _note(obj, f"  wrote {name}")
    if not workflows:
        _note(obj, "No GitHub workflows ship with this installation; add your own in .github/workflows/.")
    where = _shown(target)
    if written:
        _note(obj, f"Created a status site in {where} ({len(written)} files). Next:", fg="green")
    else:
        _note(obj, f"Everything is already in place in {where}. Next:")
    step = "" if target == Path.cwd().resolve() else f"cd {where} && "
    _note(obj, f"  {step}heliograph serve          # preview at http://127.0.0.1:8000/, reloads as you edit\n"
               "  edit site.yaml: your components; delete incidents/*-example-incident.md when you like")


def _make_it_yours(obj: Context, target: Path, files: dict[str, bytes], *, title: str, base_url: str,
                   force: bool) -> None:
    from generator.ops.make_it_yours import NotTheTemplate, apply_here, plan_here  # not at the top: 86 ms of imports, paid only here

    try:
        plan = plan_here(target, files, title=title, base_url=base_url)
    except NotTheTemplate as error:
        raise click.ClickException(str(error)) from None
    if not force:
        removed = "\n".join(f"  remove    {name}" for name in plan.removals)
        written = "\n".join(f"  write     {name}" for name in sorted(plan.files))
        raise click.ClickException(f"init --here would replace the demo in {_shown(target)}:\n{written}\n{removed}\n"
                                   "nothing was changed; pass --force to do it (git shows and can undo every change)")
    apply_here(target, plan)
    if obj.verbose:
        for name in sorted(plan.files):
            _note(obj, f"  wrote {name}")
        for name in plan.removals:
            _note(obj, f"  removed {name}")
    _note(obj, f"{_shown(target)} is now your own site: wrote {len(plan.files)} files, removed the demo's "
               f"{len(plan.removals)}. Next:", fg="green")
    _note(obj, "  edit site.yaml: your components; `heliograph validate`, then `heliograph serve` to preview\n"
               "  git add -A && git commit -m \"my status page\" && git push")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default="demo")
@click.option("--now", "now_text", metavar="TIME", help="End the demo at this time instead of now.")
@click.pass_obj
def demo(obj: Context, directory: Path, now_text: str | None) -> None:
    """Write the demo site into DIRECTORY (default: demo/), moved in time to end now, and build it.

    The same incidents, outages and figures as the repository's demo (site.yaml, incidents/,
    history/), every date moved forward by whole days, so that the page looks as it would in
    use today. Runs from a clone of Heliograph's repository.

    \b
    Example:
      heliograph demo && open demo/build/index.html
    """
    from generator.engine.build import build  # not at the top: 138 ms of imports, paid only here
    from generator.ops.demo import NoDemo, demo_source, replaceable, write_demo  # not at the top: 16 ms of imports, paid only here

    now = command_now(now_text)
    try:
        source = demo_source()
    except NoDemo as error:
        raise click.ClickException(str(error)) from None
    target = directory.resolve()
    if not replaceable(target):
        raise click.ClickException(f"{_shown(target)} is not empty and not an earlier demo; remove it, "
                                   "or name another folder")
    shift = write_demo(source, target, now)
    report = build(target, now=now)
    report_problems(report.problems, root=target)
    _note(obj, f"Wrote the demo into {_shown(target)}, its dates moved {shift.days} days forward so that its "
               f"history ends {shift.filled_until:%Y-%m-%d %H:%M} UTC, and built it: "
               f"open {_shown(target / 'build' / 'index.html')}", fg="green")


@main.command()
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Replace the site's own copy of a template with the release's.")
@click.pass_obj
def theme(obj: Context, names: tuple[str, ...], force: bool) -> None:
    """List the theme's templates, or copy NAMES into templates/ to change them.

    A template in the site's templates/ replaces the release's file of the same name; every
    other one comes from the Heliograph release you run, so theme fixes reach the site when
    you upgrade. Keep only what you change.

    \b
    Example:
      heliograph theme                    # every file of the theme, and which ones you replace
      heliograph theme incident.html      # copy it into templates/ to edit
    """

    templates = obj.root() / "templates"
    if not names:
        for file in theme_files(templates):
            mark = ""
            if file.overridden:
                mark = ("yours, the same as the release's (it will not follow upgrades)" if file.same_as_theme
                        else f"yours: templates/{file.name}")
            click.echo(f"{file.name:<28} {mark}".rstrip())
        return
    try:
        copied = copy_from_theme(list(names), templates, force=force)
    except ThemeError as error:
        raise click.ClickException(str(error)) from None
    for name in copied:
        _note(obj, f"copied the release's {name} to templates/{name}")


@main.command()
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port; 0 picks a free one.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0 shows the preview to your network).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in your web browser.")
@click.pass_obj
def serve(obj: Context, port: int, host: str, open_browser: bool) -> None:
    """Preview the site: build, serve, rebuild on every save and reload open tabs.

    Watches site.yaml, incidents/, templates/ and the history. A mistake shows in the page and
    here, with file:line:col, and the server keeps running until you fix it. The preview is
    built in a temporary directory; build/ is left alone. Ctrl-C stops it.

    \b
    Example:
      heliograph serve --open
      heliograph serve --port 0     # any free port
    """
    from generator.ops.serve import ListenError, ServeOptions, serve as run_serve  # not at the top: 158 ms of imports, paid only here

    root = obj.root()
    healthy = [True]

    def on_build(outcome) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        cause = f" ({', '.join(outcome.changed[:3])}{', ...' if len(outcome.changed) > 3 else ''})" \
            if outcome.changed else ""
        if outcome.ok:
            report_problems(outcome.problems, root=root)
            label = "Fixed: built" if not healthy[0] else "Built"
            obj.say(f"[{stamp}] {label} in {outcome.seconds:.2f} s{cause}", fg="green" if not healthy[0] else None)
        else:
            report_problems(outcome.problems, root=root)
            if obj.verbose and outcome.detail:
                click.echo(outcome.detail, err=True)
            count = len(outcome.errors) or len(outcome.problems)
            click.echo(_style(f"[{stamp}] Build failed{cause}: {count} problem(s); the page shows them until "
                              "you fix them", err=True, fg="red"), err=True)
        healthy[0] = outcome.ok

    def on_ready(url: str) -> None:
        obj.say(f"Serving {root.name or root} at {url} (Ctrl-C to stop)", bold=True)

    try:
        run_serve(root, ServeOptions(host=host, port=port, open_browser=open_browser, log_requests=obj.verbose),
                  on_build=on_build, on_ready=on_ready)
    except ListenError as exc:
        raise click.ClickException(f"{exc}; pick another port with --port (0 picks a free one)")
    obj.say("Stopped.")


