"""One declaration per site.yaml option: the validator checks values against it and
`heliograph schema` writes JSON Schema from it, so the two cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

THEMES = ("auto", "light", "dark")
UPTIME_MODES = ("results", "duration")
BADGE_STYLES = ("flat", "flat-square", "for-the-badge")
RAW_DAYS = 14
MIN_RAW_DAYS = 7  # history.rollup.LATENCY_SERIES_DAYS, not imported here: it would load history


@dataclass(frozen=True)
class Option:
    """A key of a mapping in site.yaml.

    kind is one of: string, integer, boolean, choice, duration, size, mapping, list, any.
    A choice option lists its values in choices (compared case-insensitively when folded).
    """

    name: str
    kind: str
    description: str
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    folded: bool = False  # choices match in any letter case (HTTP methods, DNS record types)


def keys(options: tuple[Option, ...]) -> tuple[str, ...]:
    return tuple(option.name for option in options)


def required(options: tuple[Option, ...]) -> tuple[str, ...]:
    return tuple(option.name for option in options if option.required)


def by_name(options: tuple[Option, ...]) -> dict[str, Option]:
    return {option.name: option for option in options}


# Descriptions are the words of the commented site.yaml that `heliograph init` writes.

SITE = (
    Option("title", "string", "The page heading and browser tab title.", required=True),
    Option("description", "string", "A sentence for search engines and link previews.", default=""),
    Option("base_url", "string", "The address build/ is served from, an absolute http(s) URL. "
           "A sub-path works too, e.g. https://you.github.io/status/", required=True),
    Option("logo", "string", "A file in templates/assets/ or an https:// URL; remove for none."),
    Option("timezone", "string", "How times are shown to readers, an IANA name such as Europe/Berlin.",
           default="UTC"),
    Option("language", "string", "The page's language tag, e.g. en, de, pt-BR.", default="en"),
    Option("languages", "list", "Build the pages once per language: [en, de, fr]. The first is "
           "served at the root, each other under /<tag>/, with a language switcher."),
    Option("theme", "choice", "auto (follows the reader's system), light or dark.", default="auto",
           choices=THEMES),
    Option("links", "any", "Shown in the header: label -> absolute URL (or mailto:), as a mapping "
           "{support: https://...} or a list of {label, url}."),
)

DISPLAY = (
    Option("recent_incident_days", "integer", "How far back the front page lists past incidents (days).",
           default=14, minimum=0, maximum=3650),
    Option("uptime_days", "integer", "How many daily bars each component shows.", default=90, minimum=1,
           maximum=365),
    Option("uptime_mode", "choice", "results: share of good checks; duration: share of time not down.",
           default="results", choices=UPTIME_MODES),
    Option("history_page_size", "integer", "Incidents per page of the history.", default=25, minimum=1,
           maximum=1000),
)

HISTORY = (
    Option("dir", "string", "Where `heliograph check` appends check results (JSON Lines).", default="history"),
    # The validator also asks for at least history.rollup's latency window; see config.MIN_RAW_DAYS.
    Option("raw_days", "integer", "Days of raw results kept; `heliograph compact` rolls older raw results "
           "into daily aggregates.", default=RAW_DAYS, minimum=MIN_RAW_DAYS, maximum=36500),
)

CHECKS = (
    Option("concurrency", "integer", "How many checks run at once.", default=50, minimum=1, maximum=10000),
    Option("location", "string", "This probe's name in the history (override: --location).", default="default"),
)

BADGES = (
    Option("style", "choice", "The SVG status badges' style.", default="flat", choices=BADGE_STYLES),
)

COMPONENT = (
    Option("id", "string", "Lowercase letters, digits and dashes. It appears in URLs and incident files: "
           "never change it.", required=True),
    Option("name", "string", "What readers see.", required=True),
    Option("description", "string", "Optional, shown under the name.", default=""),
    Option("group", "string", "Gathers components under a collapsible heading."),
    Option("check", "any", "How `heliograph check` probes it: http, tcp, dns, tls or heartbeat. "
           "A component without check is manual: its status comes from incidents only."),
    Option("show_uptime", "boolean", "Show the daily uptime bars.", default=True),
    Option("alerts", "list", "Channels that alert about it ([] for none); default: every channel."),
    Option("auto_incident", "boolean", "Open an incident on the page when it goes down, resolve it on "
           "recovery (`heliograph alert send`); default: alerts.auto_incident."),
)

TOP = (
    Option("site", "mapping", "The page itself.", required=True),
    Option("components", "list", "Components, in display order.", required=True),
    Option("display", "mapping", "What the pages show."),
    Option("history", "mapping", "Stored check results."),
    Option("checks", "mapping", "How `heliograph check` runs."),
    Option("badges", "mapping", "The SVG status badges."),
    Option("alerts", "mapping", "Alerts to the team when a check changes state (`heliograph alert send`)."),
    Option("announce", "mapping", "Where new incidents and their updates are announced."),
    Option("subscribe", "mapping", "The Subscribe page's email sign-up."),
)
