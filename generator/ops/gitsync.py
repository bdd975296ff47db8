"""Getting check results from a CI runner into the repository without losing any.

Several writers push to one branch: the scheduled check job, a second runner checking from
another location, and people editing incidents on github.com. A push that lost the race is
rejected; `push_with_retry` then fetches, rebases the runner's commits on top and tries again,
with exponential backoff and jitter so two runners that collided do not collide again in
lockstep. History files carry `merge=union` (see generator.history), so a rebase of appended
lines never conflicts. It never force-pushes: the worst case is a loud failure with the commit
kept locally, never a result silently dropped.

Also here: whether a run changed any component's status (`status_changes`), which is what
the check workflow uses to decide whether to redeploy the page.

Git runs as a subprocess (`Git`); the decisions around it are pure functions.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence
import random
from datetime import timedelta
from generator import history
from generator.ops import DEFAULT_MESSAGE


if TYPE_CHECKING:  # importing the checks package would load httpx and dnspython for `heliograph push`
    import random

    from generator.checks.result import CheckResult



class GitError(RuntimeError):
    """Git could not do what was asked; the message says what to do about it."""


@dataclass(frozen=True)
class GitOutput:
    """What one `git` command gave: its exit code and its output."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True)
class Git:
    """`git` in one working tree."""

    cwd: Path
    env: Mapping[str, str] | None = None

    def run(self, *args: str, check: bool = True) -> GitOutput:
        environment = dict(os.environ if self.env is None else self.env)
        environment.setdefault("GIT_TERMINAL_PROMPT", "0")  # a CI job must fail, not wait for a password
        import subprocess  # here: `heliograph build` imports this module (see cli.pipeline) and never runs git

        completed = subprocess.run(["git", *args], cwd=self.cwd, env=environment, capture_output=True, text=True)
        output = GitOutput(completed.returncode, completed.stdout, completed.stderr)
        if check and not output.ok:
            raise GitError(f"git {' '.join(args)} failed: {output.stderr.strip() or output.stdout.strip()}")
        return output

    @classmethod
    def of_repository(cls, path: Path) -> Git:
        """git at the top of the working tree that holds `path`: paths given to `push_with_retry`
        are relative to it."""
        return cls(Path(cls(path).run("rev-parse", "--show-toplevel").stdout.strip()))


# --- pure decisions -----------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard `push_with_retry` tries: how many pushes in all, and the backoff between them."""

    attempts: int = 10  # pushes in all, the first included
    base_delay: float = 1.0  # seconds before the first retry; doubles each time
    max_delay: float = 60.0


def backoff_delay(retry: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Seconds to wait before retry number `retry` (1-based): exponential, with "equal jitter".

    Half the delay is fixed, so a retry never comes straight back; the other half is random, so
    runners that collided once spread apart instead of colliding again on the same beat.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (retry - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


BEHIND, TRANSIENT, FATAL = "behind", "transient", "fatal"

_BEHIND = re.compile(r"\[rejected\]|non-fast-forward|fetch first|\[remote rejected\].*(cannot lock ref|failed to update ref)|"
                     r"incorrect old value|stale info", re.IGNORECASE)
# Retrying cannot fix these; saying so at once beats ten slow attempts.
_FATAL = re.compile(r"Authentication failed|Permission to .* denied|permission denied|returned error: 40[134]|"
                    r"protected branch|GH006|GH013|refusing to allow|without `?workflows`? permission|"
                    r"does not appear to be a git repository|Repository not found|pre-receive hook declined",
                    re.IGNORECASE)


def classify_push_failure(stderr: str) -> str:
    """BEHIND (someone pushed first: rebase and retry), FATAL (give up now) or TRANSIENT (retry)."""
    if _FATAL.search(stderr):
        return FATAL
    if _BEHIND.search(stderr):
        return BEHIND
    return TRANSIENT


StatusKey = tuple[str, str]  # (component, location)


@dataclass(frozen=True)
class StatusChange:
    """A component's status at one location changing from one result to the next: what tells the
    check workflow to deploy the page again."""

    component: str
    location: str
    before: str | None  # None: no earlier result in the history
    after: str


def latest_statuses(results: Iterable[CheckResult]) -> dict[StatusKey, str]:
    """The newest status of each (component, location)."""
    latest: dict[StatusKey, tuple] = {}
    for result in results:
        key = (result.component, result.location)
        if key not in latest or result.time >= latest[key][0]:
            latest[key] = (result.time, result.status)
    return {key: status for key, (_, status) in latest.items()}


def status_changes(previous: Mapping[StatusKey, str], rounds: Sequence[Sequence[CheckResult]]) -> list[StatusChange]:
    """Every status transition per (component, location), from `previous` through each round in order.

    A component with no earlier result counts as changed: its first result is news for the page.
    """
    current = dict(previous)
    changes = []
    for results in rounds:
        for result in sorted(results, key=lambda r: r.time):
            key = (result.component, result.location)
            before = current.get(key)
            if before != result.status:
                changes.append(StatusChange(result.component, result.location, before, result.status))
            current[key] = result.status
    return changes


def github_output(changes: Sequence[StatusChange]) -> str:
    """`name=value` lines for $GITHUB_OUTPUT: `changed` (true/false) and `changed_components`."""
    components = sorted({change.component for change in changes})
    return f"changed={'true' if changes else 'false'}\nchanged_components={' '.join(components)}\n"


# --- git with side effects ----------------------------------------------------------------


@dataclass(frozen=True)
class PushReport:
    """What `push_with_retry` did: the commit it made (if any), whether anything was pushed, after
    how many attempts and rebases, and the HEAD the remote now has."""

    committed: str | None  # the commit made from the given paths, if they had changes
    pushed: bool  # False: the remote already had everything
    attempts: int
    rebases: int
    head: str

    def describe(self, remote: str, branch: str) -> str:
        if not self.pushed:
            return f"Nothing to push: {remote}/{branch} already has {self.head[:12]}"
        retries = f" after {self.attempts} attempts ({self.rebases} rebase(s))" if self.attempts > 1 else ""
        return f"Pushed {self.head[:12]} to {remote}/{branch}{retries}"


def current_branch(git: Git) -> str:
    output = git.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if not output.ok:
        raise GitError("HEAD is detached; pass --branch to say which branch to push to")
    return output.stdout.strip()


def commit_paths(git: Git, paths: Sequence[str], message: str) -> str | None:
    """Commit every change under `paths` (nothing else that happens to be staged); None if none."""
    # A path that neither exists nor is tracked (no results yet) is nothing to commit, not an error.
    paths = [p for p in paths if (git.cwd / p).exists() or git.run("ls-files", "--", p).stdout.strip()]
    if not paths:
        return None
    git.run("add", "--all", "--", *paths)
    if git.run("diff", "--cached", "--quiet", "--", *paths, check=False).ok:
        return None
    git.run("commit", "--quiet", "--no-verify", "-m", message, "--", *paths)
    return git.run("rev-parse", "HEAD").stdout.strip()


def _sync(git: Git, remote: str, branch: str) -> bool:
    """Fetch the branch and rebase local commits onto it. False if the fetch failed (try later)."""
    if not git.run("fetch", "--quiet", remote, branch, check=False).ok:
        return False
    rebased = git.run("rebase", "--autostash", "FETCH_HEAD", check=False)
    if not rebased.ok:
        git.run("rebase", "--abort", check=False)
        raise GitError(
            f"rebasing onto {remote}/{branch} conflicted, so nothing was pushed and the local commits are kept. "
            "History files merge without conflicts only with `*.jsonl merge=union` in history/.gitattributes; "
            f"was something else changed on both sides?\n{rebased.stdout.strip()}\n{rebased.stderr.strip()}"
        )
    return True


def push_with_retry(
    git: Git,
    *,
    remote: str = "origin",
    branch: str | None = None,
    paths: Sequence[str] = (),
    message: str = DEFAULT_MESSAGE,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> PushReport:
    """Commit `paths` (if changed), then push HEAD to `remote`/`branch` until it lands.

    On a rejected push: wait (backoff), fetch, rebase, push again. Gives up with GitError on a
    failure retrying cannot fix (credentials, branch protection, a real conflict) or after
    `policy.attempts` pushes; the local commits stay in place either way.
    """
    if rng is None:
        rng = random.Random()
    branch = branch or current_branch(git)
    committed = commit_paths(git, paths, message) if paths else None
    attempts = rebases = 0
    while True:
        attempts += 1
        pushed = git.run("push", "--porcelain", remote, f"HEAD:refs/heads/{branch}", check=False)
        head = git.run("rev-parse", "HEAD").stdout.strip()
        if pushed.ok:
            return PushReport(committed, "[up to date]" not in pushed.stdout, attempts, rebases, head)
        detail = (pushed.stderr.strip() + "\n" + pushed.stdout.strip()).strip()
        kind = classify_push_failure(detail)
        if kind == FATAL:
            raise GitError(f"push to {remote}/{branch} refused, and retrying will not help:\n{detail}")
        if attempts >= policy.attempts:
            raise GitError(f"push to {remote}/{branch} still failing after {attempts} attempts; "
                           f"the commits are kept locally. Last error:\n{detail}")
        delay = backoff_delay(attempts, policy, rng)
        log(f"push {'rejected: the branch moved' if kind == BEHIND else 'failed'}; "
            f"retrying in {delay:.1f} s (attempt {attempts + 1} of {policy.attempts})")
        # Sleep before fetching, not after: the gap between fetch and push is then as short as
        # it can be, which is what makes the next push likely to win.
        sleep(delay)
        if _sync(git, remote, branch):
            rebases += 1


# --- what `heliograph check --github-output` reports ----------------------------------------

# Far enough back to find the previous run's results across midnight, near enough to read
# two small files; a component quiet for longer than this counts as changed, which is right:
# its page is stale.
PREVIOUS_LOOKBACK_DAYS = 2


def previous_statuses(history_dir: Path, now) -> dict[StatusKey, str]:
    """The newest status of each (component, location) in the history before this run."""

    return latest_statuses(history.read_results(history_dir, since=now - timedelta(days=PREVIOUS_LOOKBACK_DAYS)))


def append_github_output(path: Path, changes: Sequence[StatusChange]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write(github_output(changes))
