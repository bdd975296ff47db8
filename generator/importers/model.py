"""What an importer reads from another status page: plain data, written out by `writer`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class NotCarried:
    """Something in the source that the imported site does not hold, and where it was."""

    file: str  # the source file, as the user named it or relative to the source folder
    line: int | None  # 1-based, when known
    what: str  # "config.yml: `alwaysKeepBrokenAt` has no Heliograph equivalent"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: not carried over: {self.what}"


@dataclass(frozen=True)
class ImportedComponent:
    """A component as read from the source, with a Heliograph id and, when the source checks it, a
    `check:` mapping for site.yaml."""

    id: str  # a Heliograph component id (lower case, digits, dashes)
    name: str
    description: str | None = None
    group: str | None = None  # the group's name
    check: dict[str, Any] | None = None  # a `check:` mapping as site.yaml takes it
    link: str | None = None


@dataclass(frozen=True)
class ImportedUpdate:
    """One dated update of an imported incident, its status already one of Heliograph's."""

    time: datetime  # aware, UTC
    status: str  # a Heliograph status: investigating, identified, monitoring, resolved (incidents);
    # scheduled, in_progress, completed (maintenance)
    message: str  # Markdown


@dataclass(frozen=True)
class ImportedIncident:
    """An incident or maintenance as read from the source, which `writer` turns into an incident
    file: its updates, the components it affected, and its schedule."""

    title: str
    impact: str  # none, minor, major, critical, maintenance
    updates: tuple[ImportedUpdate, ...]  # newest first
    components: dict[str, str | None] = field(default_factory=dict)  # id -> effect (None: from impact)
    maintenance: bool = False
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    source: str = ""  # where it came from, for the report and the file's name
    id_hint: str | None = None  # a preferred file name stem (without the date), e.g. the source's slug
    postmortem: str | None = None  # Markdown, or an https:// URL of the postmortem


@dataclass(frozen=True)
class ImportedDay:
    """One day of one component's history, where the source keeps enough to say it."""

    component: str
    day: date
    up_fraction: float  # 0..1 of the checked time
    checks: int | None = None
    mean_response_ms: float | None = None


@dataclass
class ImportedSite:
    """Everything an importer read from the source: the page's settings, components, incidents and
    daily history, the secrets its checks now need, and what could not be carried over."""

    title: str | None = None
    description: str | None = None
    base_url: str | None = None
    logo: str | None = None
    timezone: str | None = None
    components: list[ImportedComponent] = field(default_factory=list)
    incidents: list[ImportedIncident] = field(default_factory=list)
    history: list[ImportedDay] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # ${NAME}s the checks now need in the environment
    not_carried: list[NotCarried] = field(default_factory=list)


class SourceError(Exception):
    """The source cannot be read at all (not JSON, broken front matter, not there). `where` names
    the file, and its line and column where known: `file:line:col`."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message
