"""`heliograph announce`: telling readers of each new incident update, once, after a publish.

It reads the incidents of this checkout (what was just published), works out which updates
nobody announced yet (`generator.alerts.announce`), claims them in `history/announced.jsonl`,
pushes that claim, and only once the push has landed sends them. A channel that fails is a
warning; the exit code stays 0, since the page is already published.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from generator.cli import Context, _note, command_now, main, seconds
from generator.cli.alert import _deliver, _warn
from generator.alerts import announce as ledger
from generator.alerts.announce import announcement
from generator.ops.gitsync import Git, GitError, RetryPolicy, current_branch, push_with_retry
from generator.alerts.announce import ledger_path


@main.command()
@click.option("--no-push", is_flag=True, help="Record the claims in history/announced.jsonl without git (local use).")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", help="Branch to push the claims to (default: the current branch).")
@click.option("--format", "output_format", type=click.Choice(["text", "github"]), default="text",
              help="github also prints a GitHub Actions warning for each channel that failed.")
@click.option("--now", "now_text", metavar="TIME", help="Decide as of this time (tests).")
@click.option("--attempts", type=click.IntRange(1, 100), default=10, show_default=True, help="Pushes in all before giving up.")
@click.option("--base-delay", default="1s", show_default=True, callback=seconds, help="Wait before the first retry.")
@click.pass_obj
def announce(obj: Context, no_push: bool, remote: str, branch: str | None, output_format: str,
             now_text: str | None, attempts: int, base_delay: float) -> None:
    """Announce each new incident update to site.yaml's `announce:` channels (run after a publish).

    Each update of an incident or maintenance notice is sent once: it is claimed in
    history/announced.jsonl, committed and pushed before sending, so a re-run sends nothing
    twice. The first run only records the switch-on time: older updates are not news.

    \b
    Example:
      heliograph build && <publish build/> && heliograph announce --branch main
    """
    from generator.site.incident_loading import load_incidents  # not at the top: 19 ms of imports, paid only here

    site = obj.site()
    settings = site.announce
    if settings is None or not settings.channels:
        obj.say("No announce channels in site.yaml (announce.channels); nothing to send.")
        return
    now = command_now(now_text)
    git = None if no_push else _git(site.root)
    remote_text = None
    if git is not None:
        # A re-run checks out the commit it ran for, older than the claims since pushed: read the
        # branch's own ledger too. The incidents stay this checkout's: those are what was published.
        remote_text = _remote_ledger(git, site, remote, branch)
    before = ledger.parse_ledger(ledger.merged(ledger.read_ledger_text(site.history_dir), remote_text))
    incidents = load_incidents(site.incidents_dir, site.component_ids, now=now, relative_to=site.root)
    if any(p.severity == "error" for p in incidents.problems):
        _warn("an incident file has errors (`heliograph validate` lists them); its updates are not announced "
              "until it is fixed", output_format)
    claimer = ledger.new_claimer()
    if before.since is None:
        records = [ledger.Record(ledger.SINCE, now, claimer)]
        ledger.append_records(site.history_dir, records)
        obj.say(f"Announcements switched on: updates after {now:%Y-%m-%d %H:%M} UTC will be announced.")
        if git is not None:
            _push(obj, git, site, remote, branch, attempts, base_delay, "Announcements switched on [skip ci]",
                  output_format)
        return
    due = ledger.due(ledger.updates_of(incidents.incidents), before, now)
    if not due:
        obj.say("No announcements due.")
        return
    mine = ledger.claims_for(due, claimer, now)
    ledger.append_records(site.history_dir, mine)
    if git is not None:
        titles = ", ".join(f"{u.incident_id} {u.status}" for u in due)
        if not _push(obj, git, site, remote, branch, attempts, base_delay, f"Announced: {titles} [skip ci]",
                     output_format):
            return
    after = ledger.parse_ledger(ledger.read_ledger_text(site.history_dir))
    taken = ledger.taken_by_others(mine, after)
    for update in due:
        if update.key in taken:
            obj.say(f"{update.incident_id}: {update.status} already announced by another run; not sent")
    to_send = [u for u in due if u.key not in taken]
    _deliver(obj, _batches(site, settings, to_send), settings.timeout, output_format)


def _batches(site, settings, updates):
    from generator.render.urls import incident_url  # not at the top: 20 ms of imports, paid only here

    names = {c.id: c.name for c in site.components}
    batches = []
    for channel in settings.channels:
        wanted = [u for u in updates
                  if channel.components is None or set(u.components) & set(channel.components)]
        batches.append((channel, [announcement(u, page_url=incident_url(site.info, u.incident_id),
                                               component_names=names) for u in wanted]))
    return batches


def _git(root: Path):

    try:
        return Git.of_repository(root)
    except (GitError, OSError) as error:
        raise click.ClickException(f"announce needs the site's git repository to record what it sent "
                                   f"(or --no-push for local use): {error}")


def _remote_ledger(git, site, remote: str, branch: str | None) -> str | None:

    try:
        branch = branch or current_branch(git)
    except GitError as error:
        raise click.ClickException(str(error))
    if not git.run("fetch", "--quiet", remote, branch, check=False).ok:
        return None  # the push below fails loudly if the remote cannot be reached
    relative = Path(os.path.relpath(ledger_path(site.history_dir).resolve(), git.cwd)).as_posix()
    shown = git.run("show", f"FETCH_HEAD:{relative}", check=False)
    return shown.stdout if shown.ok else None


def _push(obj: Context, git, site, remote: str, branch: str | None, attempts: int, base_delay: float,
          message: str, output_format: str) -> bool:

    path = ledger_path(site.history_dir)
    relative = [os.path.relpath(file.resolve(), git.cwd) for file in (path, path.parent / ".gitattributes")]
    try:
        push_with_retry(git, remote=remote, branch=branch, paths=tuple(relative), message=message,
                        policy=RetryPolicy(attempts, base_delay, 60.0), log=lambda line: _note(obj, line))
    except GitError as error:
        _warn(f"the announcement claims could not be pushed, so nothing was sent (a re-run must not send twice); "
              f"the next deploy tries again: {error}", output_format)
        return False
    return True

