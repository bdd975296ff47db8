"""`heliograph build`, `validate`, `check` and `compact`: the site's pipeline from the command line."""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import click

from generator.ops import DEFAULT_MESSAGE
from generator import history
from generator.engine.fingerprint import cache_miss_reason, forget_caches, stamp_cache
from generator.site.paths import links_outside
from generator.site.problems import InvalidInput, did_you_mean
from generator.cli import (Context, command_now, ends_process, exit_now, main, report_problems, seconds,
                           _colour_enabled, _note)


def _say_cache_reads(obj: Context) -> None:
    """Each cache the build read, and what it found there: kept entries, or why they missed."""
    from generator.engine.files import CACHE_READS  # not at the top: 14 ms of imports, paid only here

    outcomes: dict[str, list[str]] = {}
    for (cache, outcome), count in sorted(CACHE_READS.items()):
        outcomes.setdefault(cache, []).append(f"{count} {outcome}")
    for cache, found in outcomes.items():
        obj.say(f"  {cache}: {', '.join(found)}")


@main.command()
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), help="Where to write (default: build/).")
@click.option("--base-url", help="Override site.base_url, e.g. for a preview deploy.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--now", "now_text", metavar="TIME", help="Render as of this time (reproducible builds and tests).")
@click.option("--clean", is_flag=True, help="Ignore .heliograph-cache/ and write every cache anew.")
@click.pass_obj
def build(obj: Context, output: Path | None, base_url: str | None, strict: bool, now_text: str | None,
          clean: bool) -> None:
    """Render the status page into build/.

    \b
    Example:
      heliograph build --base-url https://preview.example.com/ --output /tmp/preview
    """
    from generator.engine.build import build as run_build  # light: Jinja is imported once the build has begun (see there)
    from generator.engine.files import CACHE_READS  # not at the top: 14 ms of imports, paid only here
    from generator.engine.inputs import CACHE_DIR  # not at the top: 83 ms of imports, paid only here
    CACHE_READS.clear()
    started = time.perf_counter()
    root = obj.root()
    cache_dir = root / CACHE_DIR
    if clean:
        try:
            forget_caches(cache_dir)
        except OSError as exc:
            raise click.ClickException(f"--clean could not remove {cache_dir}: {exc.strerror or exc}") from None
    if obj.verbose:
        reason = cache_miss_reason(cache_dir)
        obj.say("caches: " + {None: "kept from the last build where their inputs are unchanged",
                              "absent": "none yet (a first build, or --clean): every one is written",
                              "fingerprint": "other code or library versions wrote them: every one misses",
                              "corrupt": "unreadable: every one is written again"}[reason])
    try:
        report = run_build(root, output, now=command_now(now_text), base_url=base_url, strict=strict,
                           process_ends=ends_process())
    except Exception as exc:
        import jinja2  # not at the top: 29 ms of imports, paid only here

        if not isinstance(exc, (InvalidInput, jinja2.TemplateError)):
            raise
        if isinstance(exc, InvalidInput):
            problems, kept = exc.problems, "the last good build/ is untouched"
        else:  # a mistake in the site's own templates: where it is, not a traceback
            from generator.render.environment import crash_problems  # not at the top: 112 ms of imports, paid only here
            problems, kept = crash_problems(exc, root), "no file build/ held was changed"
        report_problems(problems, root=root)
        errors = sum(p.severity == "error" for p in problems) or len(problems)
        raise click.ClickException(f"build failed: {errors} problem(s); fix them and build again ({kept})")
    report_problems(report.problems, root=root)
    if obj.verbose:
        _say_cache_reads(obj)
    stamp_cache(cache_dir)
    elapsed = time.perf_counter() - started
    where = os.path.relpath(report.output) if report.output.is_absolute() else report.output
    obj.say(f"Built {report.files} files into {where}/ in {elapsed:.2f} s "
            f"({report.written} written, {report.unchanged} unchanged, {report.removed} removed)", fg="green")
    exit_now()


@main.command()
@click.option("--format", "output_format", type=click.Choice(["text", "github"]), default="text",
              help="github prints GitHub Actions annotations.")
@click.option("--now", "now_text", metavar="TIME", help="Validate as of this time.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_obj
def validate(obj: Context, output_format: str, now_text: str | None, strict: bool) -> None:
    """Check site.yaml, every incident and the history; print each problem as file:line:col.

    Exits with 1 when there is any error (or, with --strict, any warning).

    \b
    Example:
      heliograph validate
      heliograph validate --format github     # annotations on the pull request's diff
    """
    from generator.ops.validate import validate_site  # not at the top: 47 ms of imports, paid only here
    root = obj.root()
    problems = validate_site(root, now=command_now(now_text))
    report_problems(problems, output_format, root=root)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors or (strict and warnings):
        raise click.ClickException(f"{errors} error(s), {warnings} warning(s)"
                                   + (" (--strict fails on warnings)" if not errors else ""))
    obj.say("site.yaml, incidents and history are valid", fg="green")


@main.command()
@click.argument("component_ids", nargs=-1, metavar="[COMPONENT]...")
@click.option("--location", envvar="HELIOGRAPH_LOCATION",
              help="Name of this probe's location (env HELIOGRAPH_LOCATION; default: checks.location in site.yaml).")
@click.option("--concurrency", type=click.IntRange(1, 10000), help="How many checks run at once.")
@click.option("--no-write", is_flag=True, help="Print the results without appending them to the history.")
@click.option("--repeat", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Check this many rounds, appending each round's results (one CI job, one commit).")
@click.option("--every", default="60s", show_default=True, metavar="DURATION", callback=seconds,
              help="Time from one round's start to the next, e.g. 60s or 2m; without --repeat, check until stopped.")
@click.option("--github-output", is_flag=True,
              help="Append changed=true|false (did any status change since the history's latest) to $GITHUB_OUTPUT, "
                   "and with --push, pushed=true|false (did the last push land).")
@click.option("--push", "push_results", is_flag=True,
              help="Keep checking every --every until stopped (SIGTERM, Ctrl-C), committing and pushing the results "
                   "every --push-every; with --repeat N, stop after N rounds.")
@click.option("--push-every", default="5m", show_default=True, metavar="DURATION", callback=seconds,
              help="With --push: how often the results are committed and pushed.")
@click.option("--schedule", "schedule_text", metavar="CRON",
              help="The cron schedule that started this run (check.yml passes github.event.schedule): each round "
                   "records when it was due, so the page can say how late checks run. Empty: a run by hand.")
@click.option("--alert", is_flag=True,
              help="Then send the alerts, as `heliograph alert send` would, in this process: after each push that "
                   "landed with --push, else after the last round with the claims recorded without git (as "
                   "`alert send --no-push`). A channel that fails is a warning; the exit code stays the check's. "
                   "With --github-output, failures are also GitHub warnings.")
@click.pass_context
def check(ctx: click.Context, component_ids: tuple[str, ...], location: str | None, concurrency: int | None,
          no_write: bool, repeat: int, every: float, github_output: bool, push_results: bool, push_every: float,
          schedule_text: str | None, alert: bool) -> None:
    """Probe every component that has a check and append the results to the history.

    A failing check is a result, not an error: the command exits 0 unless it could not run.

    \b
    Example:
      heliograph check                 # every checked component
      heliograph check api web         # only these
      heliograph check --location eu-west
      heliograph check --repeat 4 --every 60s --github-output
      heliograph check --every 60s     # until stopped (SIGTERM, Ctrl-C)
      heliograph check --every 60s --push --push-every 5m   # on a machine of your own, until stopped
      heliograph check --repeat 1 --push --alert            # check, push, then alert the team
    """
    obj: Context = ctx.obj
    if push_results and no_write:
        raise click.ClickException("--push pushes the results it writes; it cannot go with --no-write")
    if alert and no_write:
        raise click.ClickException("--alert alerts on the results it writes; it cannot go with --no-write")
    from generator.checks.runner import run_checks_sync  # not at the top: 203 ms of imports, paid only here
    from generator.ops.heartbeat import due_heartbeat_results  # not at the top: 51 ms of imports, paid only here

    from generator.checks.schedule import BadSchedule, parse_schedule  # not at the top: 25 ms of imports, paid only here
    from generator.history.runs import Run, append_runs  # not at the top: 46 ms of imports, paid only here

    try:
        schedule = parse_schedule(schedule_text) if schedule_text and schedule_text.strip() else None
    except BadSchedule as error:
        raise click.ClickException(f"--schedule: {error}") from None
    site = _site_with_history_inside(obj)
    started = command_now(None)  # a bad HELIOGRAPH_NOW stops the run here, not each check
    due = schedule.latest_at_or_before(started) if schedule else None
    checked = [c for c in site.components if c.check is not None]
    if component_ids:
        by_id = {c.id: c for c in site.components}
        for component_id in component_ids:
            if component_id not in by_id:
                raise click.ClickException(f"unknown component {component_id!r}"
                                           f"{did_you_mean(component_id, by_id)}; see site.yaml")
            if by_id[component_id].check is None:
                raise click.ClickException(f"component {component_id!r} has no check in site.yaml: its status "
                                           "comes from incidents only")
        checked = [c for c in checked if c.id in component_ids]
    if not checked:
        obj.say("No component has a check; add `check:` to a component in site.yaml.")
        return
    location = location or site.checks.location
    interactive = sys.stdout.isatty() and not obj.quiet
    done = []

    def progress(result) -> None:
        done.append(result)
        if interactive:
            click.echo(f"\r  checked {len(done)}/{len(checked)}", nl=False)

    from generator.ops.gitsync import append_github_output, previous_statuses, status_changes  # not at the top: `build` would pay for it (see check_loop below)
    interval = every
    output_file = os.environ.get("GITHUB_OUTPUT") if github_output else None
    if github_output and not output_file:
        raise click.ClickException("--github-output needs $GITHUB_OUTPUT, which GitHub Actions sets in every step")
    previous = previous_statuses(site.history_dir, started) if github_output else {}
    rounds = []
    if alert:
        from generator.cli.alert import CheckAlerts  # here, not at the top: 30 ms of imports a check without --alert skips
    alerting = CheckAlerts(obj, site, location, "github" if github_output else "text") if alert else None

    def one_round(round_index: int) -> None:
        round_start = command_now(None)
        started = time.perf_counter()
        probed = [(c.id, c.check) for c in checked if c.check.type != "heartbeat"]
        results = run_checks_sync(probed, location=location,
                                  concurrency=concurrency or site.checks.concurrency, on_result=progress)
        # A heartbeat component is not probed: its beats are its results, and a beat overdue
        # is recorded as missed (see generator.checks.heartbeat for what is written when).
        results += due_heartbeat_results(site.history_dir, [(c.id, c.check) for c in checked
                                                            if c.check.type == "heartbeat"], command_now(None))
        elapsed = time.perf_counter() - started
        if alerting and not alerting.failing:
            alerting.failing = any(r.status != "up" for r in results)
        if output_file:  # kept only to compare with what came before (a long-running checker keeps none)
            rounds.append(results)
        done.clear()
        if interactive:
            click.echo("\r" + " " * 30 + "\r", nl=False)
        if not no_write:
            history.append_results(site.history_dir, results)  # each round at once: a killed job keeps what it has
            round_due = due + timedelta(seconds=round_index * interval) if due is not None else None
            append_runs(site.history_dir, [Run(location, round_due, round_start, len(results))])
        if not obj.quiet:
            for line in format_results(results, colour=_colour_enabled()):
                click.echo(line)
            counts = {s: sum(r.status == s for r in results) for s in ("up", "degraded", "down")}
            of = f"/{repeat}" if not forever else ""
            summary = (f"round {round_index + 1}{of}: " if repeat > 1 or forever else "") + \
                f"{len(results)} checks in {elapsed:.1f} s from {location}: " + \
                ", ".join(f"{n} {s}" for s, n in counts.items() if n)
            click.echo(summary if no_write else summary + f"; appended to {site.history.dir}/", err=False)

    # Long-running when asked for a beat (--every or --push) but no count: --repeat N --every D,
    # as check.yml runs it, still means N rounds.
    given = {name for name in ("repeat", "every")
             if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE}
    forever = "repeat" not in given and (push_results or "every" in given)
    if push_results or forever:
        # Not at the top: with gitsync's, about 10 ms of imports (signal, selectors, subprocess) `build` skips.
        from generator.ops.check_loop import Stop, run_rounds

        stop = Stop()
        stop.install()
        landed = []

        def push() -> bool:
            if alerting:
                alerting.before_push()
            landed.append(_push_results(obj, site, location))
            if landed[-1] and alerting:  # only once the results landed: the alerts are decided on them
                alerting.send(no_push=False)
            return landed[-1]

        report = run_rounds(one_round, push if push_results else None, every=interval,
                            push_every=push_every, stop=stop, rounds=None if forever else repeat)
        if output_file and push_results:
            # check.yml pushes the results itself only when this says they did not land.
            with open(output_file, "a", encoding="utf-8") as out:
                out.write(f"pushed={'true' if landed and landed[-1] else 'false'}\n")
        obj.say(f"{report.rounds} round(s)"
                + (f", {report.pushes} push(es) landed, {report.failed_pushes} failed" if push_results else "")
                + (f", {report.skipped} tick(s) skipped" if report.skipped else "")
                + (f"; stopped by {report.stopped_by}" if report.stopped_by else ""))
    else:
        first_round = time.monotonic()
        for round_index in range(repeat):
            if round_index:
                # Rounds keep to the schedule however long each took, so results stay evenly spaced.
                time.sleep(max(0.0, first_round + round_index * interval - time.monotonic()))
            one_round(round_index)
        if alerting:
            alerting.send(no_push=True)
    if output_file:
        changes = status_changes(previous, rounds)
        append_github_output(Path(output_file), changes)
        for change in changes:
            obj.say(f"status changed: {change.component} at {change.location}: {change.before or 'none'} -> {change.after}")
    if alerting:
        alerting.finish()


def _push_results(obj: Context, site, location: str) -> bool:
    """Commit and push the history; a failure is reported, and the commit waits for the next push."""
    from generator.ops.gitsync import Git, GitError, RetryPolicy, push_with_retry  # not at the top: `build` would pay for it (see check_loop below)

    try:
        git = Git.of_repository(site.root)
        report = push_with_retry(git, paths=(os.path.relpath(site.history_dir.resolve(), git.cwd),),
                                 message=f"Check results from {location} [skip ci]",
                                 policy=RetryPolicy(3, 1.0, 10.0), log=lambda line: click.echo(line, err=True))
    except GitError as error:
        click.echo(f"warning: push failed; the results are committed here and go with the next push: {error}",
                   err=True)
        return False
    if report.committed and not obj.quiet:
        click.echo(f"pushed {report.committed[:12]}")
    return True


STATUS_COLOURS = {"up": "green", "degraded": "yellow", "down": "red"}


def format_results(results, *, colour: bool) -> list[str]:
    """One aligned line per result: component, status, latency, reason, message."""
    if not results:  # only heartbeat components, none overdue: nothing was recorded
        return []
    width = max(len(r.component) for r in results)
    lines = []
    for result in results:
        latency = f"{result.latency_ms:.0f} ms" if result.latency_ms is not None else "-"
        status = f"{result.status:<8}"
        if colour:
            status = click.style(status, fg=STATUS_COLOURS.get(result.status))
        lines.append(f"{result.component:<{width}}  {status} {latency:>8}  {result.reason:<16} {result.message}")
    return lines


@main.command()
@click.option("--now", "now_text", metavar="TIME", help="Compact as of this time.")
@click.pass_obj
def compact(obj: Context, now_text: str | None) -> None:
    """Roll raw results older than history.raw_days into daily aggregates (idempotent).

    \b
    Example:
      heliograph compact
    """
    from generator.engine.inputs import CACHE_DIR, check_intervals, maintenance_windows  # not at the top: 83 ms of imports, paid only here
    from generator.site.incident_loading import load_incidents  # not at the top: 33 ms of imports, paid only here

    from generator.history.runs import KEEP_DAYS, forget_before  # not at the top: 46 ms of imports, paid only here

    site = _site_with_history_inside(obj)
    now = command_now(now_text)
    dropped = forget_before(site.history_dir, now - timedelta(days=KEEP_DAYS))
    if dropped:
        obj.say(f"dropped {dropped} run record(s) older than {KEEP_DAYS} days from {site.history.dir}/runs.jsonl")
    if not history.due_shards(site.history_dir, raw_days=site.history.raw_days, now=now):
        obj.say(str(history.CompactReport((), (), (), ())))  # most runs: a day falls due once a day
        return
    # Compacted days keep the figures they get now, maintenance windows applied, for good: a
    # window lost to a broken incident file would count its expected downtime as an outage.
    incidents = load_incidents(site.incidents_dir, site.component_ids, now=now, relative_to=site.root,
                               cache_dir=site.root / CACHE_DIR)
    errors = [problem for problem in incidents.problems if problem.severity == "error"]
    if errors:
        report_problems(errors, root=site.root)
        _note(obj, "Not compacting: fix the incident files above first. Compaction applies maintenance "
              "windows for good; the raw results stay as they are until then.", fg="yellow")
        return
    report = history.compact(site.history_dir, raw_days=site.history.raw_days, now=now,
                             maintenance=maintenance_windows(incidents.incidents, site.component_ids, now),
                             intervals=check_intervals(site))
    obj.say(str(report))


def _site_with_history_inside(obj: Context):
    """The site, or a clear exit if its history folder, or a link in it, leads out of the site:
    results would be read from or appended to whatever it points at."""

    site = obj.site()
    refused = links_outside(site.history_dir, site.root)
    if refused:
        report_problems(refused, root=site.root)
        raise click.ClickException("the history must stay inside the site; replace the links above with the files")
    return site


@main.command("push")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("-m", "--message", default=DEFAULT_MESSAGE, show_default=True, help="Commit message for PATHs' changes.")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", help="Branch to push to (default: the current branch).")
@click.option("--attempts", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Pushes in all before giving up.")
@click.option("--base-delay", default="1s", show_default=True, callback=seconds,
              help="Wait before the first retry; doubles each time, with jitter.")
@click.option("--max-delay", default="60s", show_default=True, callback=seconds, help="Longest wait between retries.")
@click.pass_obj
def push_command(obj, paths: tuple[str, ...], message: str, remote: str, branch: str | None, attempts: int,
                 base_delay: float, max_delay: float) -> None:
    """Commit PATHs (default: the history directory) and push, retrying until it lands.

    When someone else pushed first, fetches, rebases (history files merge line by line) and
    pushes again, waiting longer each time. Never force-pushes. Run it where `git push` works:
    in GitHub Actions after actions/checkout, with `contents: write` permission.

    \b
    Example:
      heliograph check && heliograph push -m "Check results from eu-west [skip ci]"
    """
    from generator.ops.gitsync import Git, GitError, RetryPolicy, current_branch, push_with_retry  # not at the top: `build` would pay for it (see check_loop below)

    root = obj.root()
    if not paths:
        paths = (str(_history_dir(root)),)
    try:
        git = Git.of_repository(root)
        paths = tuple(os.path.relpath(Path(p).resolve(), git.cwd) for p in paths)
        report = push_with_retry(git, remote=remote, branch=branch, paths=paths, message=message,
                                 policy=RetryPolicy(attempts, base_delay, max_delay),
                                 log=lambda line: click.echo(line, err=True))
    except GitError as error:
        raise click.ClickException(str(error)) from None
    if report.committed:
        obj.say(f"Committed {report.committed[:12]}: {message.splitlines()[0]}")
    obj.say(report.describe(remote, branch or current_branch(git)))


def _history_dir(root: Path) -> Path:
    from generator.site.config import load_site  # not at the top: 21 ms of imports, paid only here
    try:
        return load_site(root).history_dir
    except InvalidInput:
        return root / "history"  # a broken site.yaml must not stop results already taken from landing
