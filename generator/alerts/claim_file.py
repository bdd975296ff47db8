"""The append-only claim files beside the history (`alerts.jsonl`, `announced.jsonl`): one JSON
line a claim, union-merged like the results, each appended and synced before anything is sent."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable


def stamp(moment: datetime) -> str:
    """`2026-11-20T14:05:03.412Z`: to the millisecond, as the history keeps times."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def read_text(path: Path) -> str | None:
    """The file's text; None when it does not exist yet."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def append_lines(history_dir: Path, path: Path, lines: Iterable[str]) -> Path:
    from generator.history.store import ensure_gitattributes  # not at the top: 55 ms of imports, paid only here

    path.parent.mkdir(parents=True, exist_ok=True)
    ensure_gitattributes(history_dir)  # two runners' claims must merge line by line, like their results
    with open(path, "a", encoding="utf-8", newline="\n") as out:
        out.write("".join(lines))
        out.flush()
        os.fsync(out.fileno())
    return path
