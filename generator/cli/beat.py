"""`heliograph beat`: a job that cannot be probed says it ran."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from generator.cli import Context, command_now, main, report_problems
from generator.site.problems import Problem
from generator import history
from generator.site.problems import did_you_mean
from generator.ops.gitsync import Git, GitError, current_branch, push_with_retry


@main.command()
@click.argument("component", required=False)
@click.option("--status", type=click.Choice(["up", "down"]), default="up", show_default=True,
              help="down: the job ran and failed.")
@click.option("-m", "--message", default="", help="A short note shown on the page, e.g. '42 GB backed up'.")
@click.option("--dispatch", is_flag=True,
              help="Send the beat to GitHub as a repository_dispatch event (check.yml records it) instead of "
                   "pushing it from a clone. Needs GITHUB_REPOSITORY=OWNER/REPO and HELIOGRAPH_TOKEN or GITHUB_TOKEN.")
@click.option("--no-push", is_flag=True, help="Append the beat to the history without committing and pushing it.")
@click.option("--record-from-event", "event_path", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path),
              help="Record the beat a heartbeat repository_dispatch event carries ($GITHUB_EVENT_PATH in check.yml); "
                   "any other event records nothing.")
@click.pass_obj
def beat(obj: Context, component: str | None, status: str, message: str, dispatch: bool, no_push: bool,
         event_path: Path | None) -> None:
    """Record that COMPONENT's job ran: a heartbeat for a component with `check: {type: heartbeat}`.

    In a clone of the site it appends the beat to the history, commits and pushes (retrying
    like `heliograph push`). Elsewhere it sends a repository_dispatch event that check.yml
    records: with --dispatch, or by itself where there is no site but GITHUB_REPOSITORY and a
    token (HELIOGRAPH_TOKEN or GITHUB_TOKEN) are set. The token is never printed.

    \b
    Example:
      backup.sh && heliograph beat backup -m "nightly backup done"
      heliograph beat backup --status down -m "disk full"
      GITHUB_REPOSITORY=acme/status HELIOGRAPH_TOKEN=... heliograph beat backup --dispatch
    """
    now = command_now(None)
    if event_path is not None:
        if component is not None:
            raise click.UsageError("--record-from-event takes the component from the event; give no COMPONENT")
        _record_event(obj, event_path, now)
        return
    if component is None:
        raise click.UsageError("which component beat? e.g. heliograph beat backup")
    if dispatch or _dispatch_by_default(obj):
        _dispatch(obj, component, status, message, now)
        return
    site = obj.site()
    _heartbeat_component(site, component)
    from generator.checks.heartbeat import beat_result  # not at the top: 23 ms of imports, paid only here

    result = beat_result(component, status=status, message=message, time=now)
    history.append_results(site.history_dir, [result])
    obj.say(f"{component}: beat recorded ({status}) at {result.time.strftime('%Y-%m-%d %H:%M:%S UTC')}")
    if not no_push:
        _push(obj, site.root, site.history_dir, f"Heartbeat from {component}: {status}")


def _dispatch_by_default(obj: Context) -> bool:
    """No clone of the site here, but what a dispatch needs is: send the beat to GitHub."""
    from generator.ops.heartbeat import token_from  # not at the top: 51 ms of imports, paid only here
    from generator.site.config import find_site_root  # not at the top: 21 ms of imports, paid only here

    if obj.site_option or find_site_root(Path.cwd()) is not None:
        return False
    return bool(os.environ.get("GITHUB_REPOSITORY")) and token_from(os.environ) is not None


def _dispatch(obj: Context, component: str, status: str, message: str, now) -> None:
    from generator.ops.heartbeat import TOKEN_VARIABLES, DispatchError, dispatch_request, send_dispatch, token_from  # not at the top: 51 ms of imports, paid only here

    repository = os.environ.get("GITHUB_REPOSITORY", "")
    token = token_from(os.environ)
    if not repository or token is None:
        missing = [name for name, there in (("GITHUB_REPOSITORY (OWNER/REPO)", repository),
                                            (" or ".join(TOKEN_VARIABLES), token)) if not there]
        raise click.ClickException(f"--dispatch needs {' and '.join(missing)} in the environment")
    try:
        request = dispatch_request(repository, component, status=status, message=message, time=now,
                                   api_url=os.environ.get("GITHUB_API_URL") or None)
        send_dispatch(request, token)
    except DispatchError as error:
        raise click.ClickException(f"the beat was not sent: {error}") from None
    obj.say(f"{component}: beat sent ({status}) to {repository}; check.yml records it")


def _heartbeat_component(site, component: str) -> None:

    beating = [c.id for c in site.components if getattr(c.check, "type", None) == "heartbeat"]
    if component not in beating:
        known = {c.id for c in site.components}
        what = "has no heartbeat check in site.yaml" if component in known else \
            f"is not in site.yaml{did_you_mean(component, beating or known)}"
        raise click.ClickException(f"component {component!r} {what}; give it check: {{type: heartbeat, every: 1h}}"
                                   f" (heartbeat components: {', '.join(beating) or 'none'})")


def _record_event(obj: Context, event_path: Path, now) -> None:
    from generator.checks.heartbeat import beat_from_event  # not at the top: 23 ms of imports, paid only here

    site = obj.site()
    try:
        event = json.loads(event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        report_problems([Problem(str(event_path), getattr(error, "lineno", None), getattr(error, "colno", None),
                                 f"cannot read the event: {getattr(error, 'strerror', None) or error}")])
        raise click.ClickException("no beat recorded") from None
    beating = [c.id for c in site.components if getattr(c.check, "type", None) == "heartbeat"]
    found = beat_from_event(event, beating, now)
    if found.problem:
        report_problems([Problem(str(event_path), None, None, f"heartbeat event: {found.problem}")])
        raise click.ClickException("no beat recorded")
    if found.result is None:
        obj.say("not a heartbeat event; nothing to record")
        return
    history.append_results(site.history_dir, [found.result])
    obj.say(f"{found.result.component}: beat recorded ({found.result.status}) from the event, "
            f"at {found.result.time.strftime('%Y-%m-%d %H:%M:%S UTC')}")


def _push(obj: Context, root: Path, history_dir: Path, message: str) -> None:

    try:
        git = Git.of_repository(root)
        path = os.path.relpath(history_dir.resolve(), git.cwd)
        report = push_with_retry(git, paths=[path], message=message, log=lambda line: click.echo(line, err=True))
        obj.say(report.describe("origin", current_branch(git)))
    except GitError as error:
        raise click.ClickException(f"the beat is in {history_dir} but was not pushed: {error}\n"
                                   "`heliograph push` pushes it later") from None
