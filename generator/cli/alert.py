"""`heliograph alert send` and `heliograph alert test`: telling the team when a check changes state.

`send` runs after the check results were pushed: it works out from `history/` which transitions
nobody was told about yet, claims them in `history/alerts.jsonl`, pushes that claim, and only
once the push has landed sends them. A channel that fails is a warning; the exit code stays 0.
The run that won a claim also opens or resolves the opted-in components' automatic incidents
(`auto_incident`) and pushes them itself, so the deploy after this step shows them.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timezone

import click

from generator.alerts.prepare import Preparation
from generator.alerts.settings import auto_incident_components
from generator.cli import Context, _note, command_now, main, parse_now, seconds
from generator.alerts.settings import AlertSettings
from generator.alerts import ledger
from generator.alerts.reading import results_that_may_alert
from generator.alerts.rules import LOOKBACK, component_transitions
from generator.ops.gitsync import Git, GitError, RetryPolicy, push_with_retry
from generator.alerts.ledger import INCIDENT_WRITTEN
from generator.alerts.rules import DEGRADED, DOWN, IMPROVED, REMINDER, RESOLVED
from generator.alerts.ledger import ledger_path
from generator.alerts.message import DIGEST_AFTER, digest_message, transition_message
from generator.alerts.send import send_all
from generator.alerts.message import test_message
from generator.site.problems import did_you_mean


@main.group()
def alert() -> None:
    """Alerts to the team through the channels in site.yaml's `alerts:` (Apprise URLs).

    \b
    Example:
      heliograph alert test               # a test message to every channel
      heliograph alert send --no-push     # tell about new transitions, without git
    """


def _settings(obj: Context):
    site = obj.site()
    settings = site.alerts or AlertSettings()
    return site, settings


def _warn(message: str, output_format: str) -> None:
    if output_format == "github":
        text = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        click.echo(f"::warning title=Alert not sent::{text}")
    click.echo(f"warning: {message}", err=True)


@alert.command("send")
@click.option("--no-push", is_flag=True, help="Record the claims in history/alerts.jsonl without git (local use).")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", help="Branch to push the claims to (default: the current branch).")
@click.option("--location", envvar="HELIOGRAPH_LOCATION", help="This runner's location, written in the claims.")
@click.option("--format", "output_format", type=click.Choice(["text", "github"]), default="text",
              help="github also prints a GitHub Actions warning for each channel that failed, and appends "
                   "incidents=true to $GITHUB_OUTPUT when an automatic incident was pushed.")
@click.option("--now", "now_text", metavar="TIME", envvar="HELIOGRAPH_NOW", help="Decide as of this time (tests).")
@click.option("--attempts", type=click.IntRange(1, 100), default=10, show_default=True, help="Pushes in all before giving up.")
@click.option("--base-delay", default="1s", show_default=True, callback=seconds, help="Wait before the first retry.")
@click.pass_obj
def send(obj: Context, no_push: bool, remote: str, branch: str | None, location: str | None, output_format: str,
         now_text: str | None, attempts: int, base_delay: float) -> None:
    """Send an alert for each transition nobody was told about yet (run after `heliograph push`).

    Down after alerts.failure_threshold failed rounds, resolved after success_threshold good
    ones, once each: what was sent is claimed in history/alerts.jsonl, committed and pushed
    before sending, so a re-run, or a second runner, sends nothing twice. A channel that fails
    is reported on stderr; the exit code stays 0.

    \b
    Example:
      heliograph check && heliograph push && heliograph alert send
    """
    site, settings = _settings(obj)
    send_alerts(obj, site, settings, no_push=no_push, remote=remote, branch=branch, location=location,
                output_format=output_format, now=parse_now(now_text), attempts=attempts, base_delay=base_delay)


def send_alerts(obj: Context, site, settings, *, no_push: bool, remote: str = "origin", branch: str | None = None,
                location: str | None = None, output_format: str = "text", now: datetime | None = None,
                attempts: int = 10, base_delay: float = 1.0) -> None:
    """The alert step, as `heliograph alert send` runs it and `heliograph check --alert` after its
    results landed."""

    auto_components = auto_incident_components(settings, site.components)
    if not settings.channels and not auto_components:
        obj.say("No alert channels in site.yaml (alerts.channels); nothing to send.")
        return
    now = now or datetime.now(timezone.utc)
    wanted_on = tuple(dict.fromkeys(settings.on + tuple(s for c in settings.channels for s in c.on or ())))
    results = results_that_may_alert(site.history_dir, since=now - LOOKBACK, until=now,
                                     components=[c.id for c in site.components])
    transitions = component_transitions(results, replace(settings, on=wanted_on), {},
                                        _maintenance(obj, site, now, output_format))
    before = ledger.read_claims(site.history_dir)
    due = ledger.due(transitions, before)
    if before is None:  # alerts switched on: from now on every transition counts (committed by the next push)
        ledger.append_claims(site.history_dir, ())
    if auto_components and not no_push and before:
        lost = _lost_openings(site, transitions, before, auto_components)
        if lost:
            _auto_incidents(obj, site, settings, lost, auto_components, no_push, remote, branch, attempts, base_delay,
                            output_format)
    if not due:
        obj.say("No alerts due.")
        return
    claimer = ledger.new_claimer(location or site.checks.location)
    mine = ledger.claims_for(due, claimer, now)
    ledger.append_claims(site.history_dir, mine)
    if not no_push and not _push_claims(obj, site, mine, remote, branch, attempts, base_delay, output_format):
        return
    taken = ledger.taken_by_others(mine, before, ledger.read_claims(site.history_dir))
    for transition in due:
        if (transition.component, transition.time, transition.kind) in taken:
            obj.say(f"{transition.component}: {transition.kind} already claimed by another runner; not sent")
    to_send = [t for t in due if (t.component, t.time, t.kind) not in taken]
    if settings.channels:
        batches = _batches(site, settings, to_send, now)
        _deliver(obj, batches, settings.timeout, output_format)
    if auto_components:
        _auto_incidents(obj, site, settings, to_send, auto_components, no_push, remote, branch, attempts, base_delay,
                        output_format)


class CheckAlerts:
    """`check --alert`: the alert step in this process, with Apprise loaded while git pushes the
    results (see generator.alerts.prepare)."""

    def __init__(self, obj: Context, site, location: str, output_format: str) -> None:
        self.obj, self.site, self.location, self.output_format = obj, site, location, output_format
        self.settings = site.alerts
        wanted = self.settings and (self.settings.channels or auto_incident_components(self.settings, site.components))
        self.preparation = Preparation() if wanted else None
        self.failing = False  # a result not up in this run
        self.steps = 0

    def before_push(self) -> None:
        if self.preparation is not None and self.settings.channels and not self.steps:
            self.preparation.load_apprise_if_needed(self.failing)

    def send(self, *, no_push: bool) -> None:
        if self.settings is None:
            self.obj.say("No alerts: in site.yaml; nothing to send.")
            return
        self.steps += 1
        try:
            send_alerts(self.obj, self.site, self.settings, no_push=no_push, location=self.location,
                        output_format=self.output_format, now=command_now(None))
        except Exception as error:  # the results are in; a failing alert step must not fail the check
            _warn(f"the alert step failed: {type(error).__name__}: {error}", self.output_format)

    def finish(self) -> None:
        if self.preparation is not None:
            self.preparation.finish()


def _auto_incidents(obj: Context, site, settings, transitions, components, no_push: bool, remote: str,
                    branch: str | None, attempts: int, base_delay: float, output_format: str) -> None:
    """Open or resolve the opted-in components' incidents, for the transitions this run claimed,
    and push them so the deploy after this step shows them."""
    from generator.alerts.auto_incident import apply  # not at the top: 34 ms of imports, paid only here

    written = apply(transitions, incidents_dir=site.incidents_dir, components=components,
                    names={c.id: c.name for c in site.components}, on=settings.on)
    for item in written:
        obj.say(f"{item.component}: incident {item.action} automatically in {os.path.relpath(item.path, site.root)}")
    opened = [item for item in written if item.action == "opened"]
    if opened:  # committed with the files: an opening claimed without it lost its file (see _lost_openings)
        now = datetime.now(timezone.utc)
        ledger.append_claims(site.history_dir, [ledger.Claim(item.component, item.opening, ledger.INCIDENT_WRITTEN,
                                                             "auto-incident", now) for item in opened])
    if no_push or not written:
        return
    try:
        git = Git.of_repository(site.root)
        files = [item.path for item in written] + ([ledger.ledger_path(site.history_dir)] if opened else [])
        relative = tuple(dict.fromkeys(os.path.relpath(path.resolve(), git.cwd) for path in files))
        what = ", ".join(f"{item.component} {item.action}" for item in written)
        push_with_retry(git, remote=remote, branch=branch, paths=relative,
                        message=f"Incidents written automatically: {what} [skip ci]",
                        policy=RetryPolicy(attempts, base_delay, 60.0), log=lambda line: _note(obj, line))
    except GitError as error:
        _warn(f"the automatic incident could not be pushed (it is committed here, not on the remote): {error}",
              output_format)
        return
    output_file = os.environ.get("GITHUB_OUTPUT")
    if output_format == "github" and output_file:
        # The third failed run changes no status the check step saw: this tells check.yml to deploy.
        with open(output_file, "a", encoding="utf-8") as out:
            out.write("incidents=true\n")


def _lost_openings(site, transitions, claims, components) -> list:
    """Openings of outages still going on that a runner claimed, whose automatic incident never
    reached the repository: its push failed after the claim's, and the runner's copy went with
    the runner. The ledger's "incident" claim, committed with the file, tells them apart from a
    file a person deleted, which is not written again."""

    claimed = {claim.key for claim in claims}
    opening: dict[str, object] = {}
    for transition in transitions:  # oldest first: each component's open episode, by its opening
        if transition.kind == RESOLVED:
            opening.pop(transition.component, None)
        elif transition.kind in (DOWN, DEGRADED) and transition.component not in opening:
            opening[transition.component] = transition
    return [transition for component, transition in opening.items()
            if component in components and (component, transition.time, transition.kind) in claimed
            and (component, transition.time, INCIDENT_WRITTEN) not in claimed]


def _maintenance(obj: Context, site, now: datetime, output_format: str) -> dict:
    from generator.site.incident_loading import load_incidents  # not at the top: 17 ms of imports, paid only here
    from generator.engine.inputs import CACHE_DIR, maintenance_windows  # not at the top: 42 ms of imports, paid only here

    incidents = load_incidents(site.incidents_dir, site.component_ids, now=now, relative_to=site.root,
                               cache_dir=site.root / CACHE_DIR)
    if any(p.severity == "error" for p in incidents.problems):
        _warn("an incident file has errors (`heliograph validate` lists them); maintenance windows in it "
              "cannot silence alerts", output_format)
    return maintenance_windows(incidents.incidents, site.component_ids, now)


def _push_claims(obj: Context, site, mine, remote: str, branch: str | None, attempts: int, base_delay: float,
                 output_format: str) -> bool:

    path = ledger_path(site.history_dir)
    try:
        git = Git.of_repository(site.root)
        # With the union-merge rule, in case this is the ledger's first commit: claims merge line by line.
        relative = [os.path.relpath(file.resolve(), git.cwd) for file in (path, path.parent / ".gitattributes")]
        kinds = ", ".join(f"{c.component} {c.kind}" for c in mine)
        push_with_retry(git, remote=remote, branch=branch, paths=tuple(relative),
                        message=f"Alerts claimed: {kinds} [skip ci]",
                        policy=RetryPolicy(attempts, base_delay, 60.0), log=lambda line: _note(obj, line))
    except GitError as error:
        _warn(f"the alert claims could not be pushed, so nothing was sent (two runners must not both send); "
              f"the next run tries again: {error}", output_format)
        return False
    return True


def _batches(site, settings, transitions, now: datetime):
    from generator.render.urls import component_url  # not at the top: 32 ms of imports, paid only here

    batches = []
    for channel in settings.channels:
        on = channel.on or settings.on
        messages = []
        for transition in transitions:
            component = site.component(transition.component)
            if component is None:
                continue
            chosen = component.alerts if component.alerts is not None else None
            if chosen is not None and channel.name not in chosen:
                continue
            if chosen is None and channel.components is not None and component.id not in channel.components:
                continue
            # A channel that heard "down" hears it resolved, even when it was degraded at the end.
            if max(transition.state_level, transition.peak_level) == 1 and "degraded" not in on:
                continue
            if transition.kind in (IMPROVED, DOWN) and transition.peak_level == 2 and "degraded" not in on:
                continue  # only who follows degraded hears that down eased to it, and that it is down again
            if transition.kind == REMINDER and transition.state_level == 1 and "degraded" not in on:
                continue  # "still degraded" (after down eased) is for who follows degraded
            if transition.kind == RESOLVED and not settings.send_on_resolved:
                continue
            messages.append(transition_message(transition, name=component.name,
                                               page_url=component_url(site.info, component.id), now=now))
        if len(messages) > DIGEST_AFTER:
            messages = [digest_message(messages, site_title=site.info.title, page_url=site.info.base_url)]
        batches.append((channel, messages))
    return batches


def _deliver(obj: Context, batches, timeout: float, output_format: str) -> list:

    deliveries = send_all(batches, timeout=timeout)
    for delivery in deliveries:
        if delivery.ok:
            obj.say(f"sent to {delivery.channel}: {delivery.title}")
        else:
            _warn(f"alert channel {delivery.channel!r} failed: {delivery.error} ({delivery.title})", output_format)
    if not deliveries:
        obj.say("No channel wants these alerts.")
    return deliveries


@alert.command("test")
@click.argument("channel", required=False)
@click.pass_obj
def test(obj: Context, channel: str | None) -> None:
    """Send a test message to CHANNEL (default: every channel in alerts.channels).

    Exits 1 when a channel failed, saying why.

    \b
    Example:
      heliograph alert test team-email
    """

    site, settings = _settings(obj)
    channels = settings.channels
    if channel is not None:
        chosen = settings.channel(channel)
        if chosen is None:
            names = [c.name for c in channels]
            raise click.ClickException(f"no alert channel named {channel!r}{did_you_mean(channel, names)}; "
                                       f"channels: {', '.join(names) or 'none (add alerts.channels to site.yaml)'}")
        channels = (chosen,)
    if not channels:
        raise click.ClickException("no alert channels in site.yaml; add e.g.\n"
                                   "alerts:\n  channels:\n    team-email: \"mailtos://user:${SMTP_PASSWORD}@example.com\"")
    now = datetime.now(timezone.utc)
    batches = [(c, [test_message(site_title=site.info.title, channel=c.name, now=now)]) for c in channels]
    deliveries = _deliver(obj, batches, settings.timeout, "text")
    failed = [d for d in deliveries if not d.ok]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(deliveries)} channel(s) failed")
