"""Reading the Markdown files of Hugo- and VuePress-style status pages (cState, Statusfy): YAML
front matter with the line of each key, a located error for broken YAML, and zone-less times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from generator.importers.model import SourceError

MAX_FILE_BYTES = 1024 * 1024  # as for Heliograph's own incident files


@dataclass(frozen=True)
class Page:
    """One Markdown file of the source: its front matter, the line of each top-level key (so notes
    can say where), and the body below it."""

    file: str  # as the report names it
    meta: dict[str, Any]
    key_lines: dict[str, int]  # top-level key -> its line (1-based)
    body: str
    body_line: int  # the line the body starts on


def read_page(path: Path, shown: str) -> Page:
    """The file's front matter and body; SourceError (file:line:col) if it cannot be read."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SourceError(shown, f"larger than {MAX_FILE_BYTES // 1024} KB: not an incident post")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(shown, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise SourceError(shown, f"cannot be read: {error.strerror or error}") from None
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return Page(shown, {}, {}, text, 1)
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise SourceError(f"{shown}:1:1", "the front matter opened here is never closed with ---")
    block = "".join(lines[1:end])
    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{shown}:{mark.line + 2}:{mark.column + 1}" if mark else f"{shown}:2:1"
        raise SourceError(where, f"front matter is not valid YAML: {getattr(error, 'problem', None) or error}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise SourceError(f"{shown}:2:1", "front matter must be a mapping of keys to values")
    key_lines = {}
    for number, line in enumerate(lines[1:end], start=2):
        match = re.match(r"([A-Za-z_][\w-]*)\s*:", line)
        if match:
            key_lines.setdefault(match.group(1), number)
    return Page(shown, meta, key_lines, "".join(lines[end + 1:]), end + 2)


def naive_time(value: Any, zone: timezone = timezone.utc) -> datetime | None:
    """A front matter time: a datetime (YAML parses `2018-04-13 15:54:00` itself), a date, or a
    string in ISO form; one without a zone is in `zone`."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)
