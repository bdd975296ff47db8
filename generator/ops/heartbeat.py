"""The I/O around heartbeats: what the history says of them, and sending a beat to GitHub.

The decisions are generator.checks.heartbeat's; this reads the history for them and talks to
the GitHub API (`repository_dispatch`) for machines that have no clone of the site.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Mapping, Sequence

from generator.checks.heartbeat import dispatch_payload, last_beats, lookback, missed_beat
from generator.checks.result import CheckResult
from generator.checks.spec import HeartbeatCheck
from generator import history

TOKEN_VARIABLES = ("HELIOGRAPH_TOKEN", "GITHUB_TOKEN")
DEFAULT_API_URL = "https://api.github.com"
DISPATCH_TIMEOUT = 30.0  # seconds; a beat from a nightly job may wait, but must not hang it


def due_heartbeat_results(history_dir: Path, targets: Sequence[tuple[str, HeartbeatCheck]],
                          now: datetime) -> list[CheckResult]:
    """The heartbeat_missed results to record now for `targets`, from the beats in the history."""
    if not targets:
        return []

    since = now - max(lookback(spec) for _, spec in targets)
    recent = history.read_results(history_dir, since=since, components={component for component, _ in targets})
    due = (missed_beat(component, spec, last_beats(component, recent), now) for component, spec in targets)
    return [result for result in due if result is not None]


class DispatchError(RuntimeError):
    """The beat could not be sent; the message says why (never the token)."""


def token_from(environ: Mapping[str, str]) -> str | None:
    return next((environ[name] for name in TOKEN_VARIABLES if environ.get(name)), None)


@dataclass(frozen=True)
class Dispatch:
    """A beat ready to send: the repository's dispatches URL in the GitHub API, and the
    `repository_dispatch` event's JSON body."""

    url: str
    body: bytes


def dispatch_request(repository: str, component: str, *, status: str, message: str, time: datetime,
                     api_url: str | None = None) -> Dispatch:
    owner, _, name = repository.partition("/")
    if not owner or not name or "/" in name:
        raise DispatchError(f"GITHUB_REPOSITORY must be OWNER/REPO, not {repository!r}")
    base = (api_url or DEFAULT_API_URL).rstrip("/")
    body = json.dumps(dispatch_payload(component, status=status, message=message, time=time)).encode("utf-8")
    return Dispatch(f"{base}/repos/{owner}/{name}/dispatches", body)


def send_dispatch(dispatch: Dispatch, token: str, *, timeout: float = DISPATCH_TIMEOUT) -> None:
    """POST the event; GitHub answers 204 No Content when it accepted it."""
    request = urllib.request.Request(dispatch.url, data=dispatch.body, method="POST", headers={
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "heliograph-beat",
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as error:
        detail = _api_message(error.read(65536))
        hint = {401: "the token is not valid", 403: "the token may not write to this repository (a fine-grained "
                "token needs Contents: read and write)", 404: "no such repository, or the token cannot see it",
                422: "GitHub refused the event"}.get(error.code, "")
        raise DispatchError(f"GitHub answered {error.code} {error.reason}" + (f": {hint}" if hint else "")
                            + (f" ({detail})" if detail else "")) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DispatchError(f"could not reach {dispatch.url}: {reason}") from None


def _api_message(body: bytes) -> str:
    try:
        message = json.loads(body).get("message", "")
    except (ValueError, AttributeError):
        return ""
    return " ".join(str(message).split())[:200]
