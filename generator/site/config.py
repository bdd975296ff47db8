"""site.yaml: the page, its components and their checks, validated with every error located."""

from __future__ import annotations

import re
from functools import cached_property
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from generator.site import options
from generator.site.options import BADGE_STYLES, MIN_RAW_DAYS, RAW_DAYS, THEMES, UPTIME_MODES, Option
from generator.site.problems import InvalidInput, Problem, did_you_mean
from generator.site.yamlsource import KeyPath, Positions, YamlSyntaxError, load_with_positions
from generator.site.paths import NotARegularFile, check_inside, read_regular_file
from generator.site.yamlsource import decode_yaml_bytes
from generator.site.subscribe import parse_subscribe
import ipaddress
from babel.localedata import locale_identifiers

CONFIG_FILE = "site.yaml"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")  # \Z: "$" would let a final newline through


@dataclass(frozen=True)
class Link:
    """A link in the page's header (site.links in site.yaml)."""

    label: str
    url: str


@dataclass(frozen=True)
class SiteInfo:
    """The page itself (site: in site.yaml): its title, address, language, zone and links."""

    title: str
    base_url: str  # always ends with "/"
    description: str = ""
    logo: str | None = None
    timezone: str = "UTC"
    language: str = "en"
    theme: str = "auto"
    links: tuple[Link, ...] = ()
    # Every language the pages are built in, `language` first (served at the root); each other
    # one's pages are under /<tag>/ (see language_prefix).
    languages: tuple[str, ...] = ()

    @property
    def page_languages(self) -> tuple[str, ...]:
        return self.languages or (self.language,)

    def language_prefix(self, tag: str) -> str:
        """Where `tag`'s pages are, relative to the site root: "" for the first language, "de/" or
        "pt-br/" for the others."""
        return "" if tag == self.page_languages[0] else tag.lower() + "/"

    @property
    def base_path(self) -> str:
        """The URL path the site is served under, e.g. "/status/" for GitHub project pages."""
        return urlsplit(self.base_url).path or "/"

    @property
    def custom_domain(self) -> str | None:
        """The host for a CNAME file, unless the site is on a platform's own domain."""
        host = urlsplit(self.base_url).hostname or ""
        platform_hosts = (".github.io", ".pages.dev", ".netlify.app", ".vercel.app", "localhost")
        if not host or host.endswith(platform_hosts) or host == "localhost" or _is_ip(host):
            return None
        return host


@dataclass(frozen=True)
class DisplaySettings:
    """How the page shows things (display: in site.yaml): how many days, which uptime, which badges."""

    recent_incident_days: int = 14
    uptime_days: int = 90
    uptime_mode: str = "results"
    history_page_size: int = 25
    badge_style: str = "flat"


# Raw results are what the rolling 24 hours and the 7-day latency chart are drawn from; older
# days need only their daily figures. Every raw line stays in git history whatever this is.


@dataclass(frozen=True)
class HistorySettings:
    """Where the history is kept and how many days stay raw (history: in site.yaml)."""

    dir: str = "history"
    raw_days: int = RAW_DAYS


@dataclass(frozen=True)
class CheckSettings:
    """How `heliograph check` runs (checks: in site.yaml): how many at once, and from where."""

    concurrency: int = 50
    location: str = "default"


@dataclass(frozen=True)
class Component:
    """One component of the page, and its check (none for a manual one)."""

    id: str
    name: str
    description: str = ""
    group: str | None = None
    check: Any = None  # a generator.checks CheckSpec; None means a manual component
    show_uptime: bool = True
    position: int = 0
    alerts: tuple[str, ...] | None = None  # channels that alert about it; None: every channel that wants it
    auto_incident: bool | None = None  # None: as alerts.auto_incident says

    @property
    def is_manual(self) -> bool:
        return self.check is None


@dataclass(frozen=True)
class Site:
    """site.yaml, read and checked: the page, its components and every setting."""

    root: Path
    info: SiteInfo
    components: tuple[Component, ...]
    display: DisplaySettings = field(default_factory=DisplaySettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    checks: CheckSettings = field(default_factory=CheckSettings)
    alerts: Any = None  # a generator.alerts.settings.AlertSettings when site.yaml has `alerts:`
    announce: Any = None  # a generator.alerts.announce.AnnounceSettings when site.yaml has `announce:`
    subscribe: Any = None  # a generator.site.subscribe.SubscribeSettings (the Subscribe page's email sign-up)

    @property
    def incidents_dir(self) -> Path:
        return self.root / "incidents"

    @property
    def history_dir(self) -> Path:
        return self.root / self.history.dir

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.components if c.id == component_id), None)

    @cached_property  # asked for per incident and component in every build: computed once
    def component_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.components)


def find_site_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` that holds a site.yaml."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
    return None


def load_site(root: Path) -> Site:
    """Read and validate <root>/site.yaml; raises InvalidInput listing every problem."""

    path = root / CONFIG_FILE
    display_name = CONFIG_FILE
    check_inside(path, root)
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:  # not read at all: it could be a device or a huge file
            raise InvalidInput([_too_large(display_name)])
        data = read_regular_file(path)
    except NotARegularFile:
        raise InvalidInput([Problem(display_name, None, None, "site.yaml is a pipe, device or socket, not a file; "
                                    "it is not read (reading it could wait forever)")]) from None
    except FileNotFoundError:
        raise InvalidInput([Problem(str(path), None, None,
                                    "no site.yaml here; run `heliograph init` to create one, "
                                    "or pass --site PATH")]) from None
    except IsADirectoryError:
        raise InvalidInput([Problem(display_name, None, None, "site.yaml is a folder; it must be a file")]) from None
    try:
        text = decode_yaml_bytes(data, display_name)
    except YamlSyntaxError as exc:
        raise InvalidInput([Problem(exc.file, exc.line, exc.column, exc.message)]) from None
    return parse_site(text, root=root, file=display_name)


# A site.yaml of 10,000 components is about 2 MB; anything past this is a mistake or an attack.
MAX_CONFIG_BYTES = 16 * 1024 * 1024


def _too_large(file: str) -> Problem:
    return Problem(file, None, None, f"this file is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MB, "
                   "the most Heliograph reads for site.yaml")


def parse_site(text: str, *, root: Path, file: str = CONFIG_FILE) -> Site:
    if len(text) > MAX_CONFIG_BYTES:
        raise InvalidInput([_too_large(file)])
    try:
        data, positions = load_with_positions(text, file)
    except YamlSyntaxError as exc:
        raise InvalidInput([Problem(exc.file, exc.line, exc.column, exc.message)]) from None
    v = _Validator(file, positions)
    site = _build_site(data, v, root)
    if v.problems:
        raise InvalidInput(sorted(v.problems, key=lambda p: (p.line or 0, p.column or 0)))
    return site


# --- validation --------------------------------------------------------------------------


class _Validator:
    """Collects problems with positions; small typed getters keep the schema readable."""

    def __init__(self, file: str, positions: Positions):
        self.file = file
        self.positions = positions
        self.problems: list[Problem] = []

    def report(self, path: KeyPath, message: str, *, at_key: bool = False) -> None:
        line, col = self.positions.of_key(path) if at_key else self.positions.of_value(path)
        self.problems.append(Problem(self.file, line, col, message))

    def mapping(self, value: Any, path: KeyPath, allowed: tuple[str, ...], required: tuple[str, ...] = (),
                what: str = "") -> dict:
        label = what or (".".join(str(p) for p in path) or "the top level")
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.report(path, f"{label} must be a mapping of keys to values, not {_type_name(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.report(path + (key,), f'unknown key "{key}" in {label}{did_you_mean(str(key), allowed)}; '
                            f"allowed keys: {', '.join(allowed)}", at_key=True)
        for key in required:
            if value.get(key) in (None, ""):
                self.report(path, f'{label} is missing the required key "{key}"; add `{key}: ...`')
        return value

    def string(self, data: dict, key: str, path: KeyPath, default: str | None = None) -> str | None:
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            self.report(path + (key,), f'"{key}" must be text, not {_type_name(value)}')
            return default
        return str(value).strip()

    def boolean(self, data: dict, key: str, path: KeyPath, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.report(path + (key,), f'"{key}" must be true or false, not {value!r}')
            return default
        return value

    def integer(self, data: dict, key: str, path: KeyPath, default: int, minimum: int = 0,
                maximum: int = 10**9) -> int:
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.report(path + (key,), f'"{key}" must be a whole number from {minimum} to {maximum}, not {value!r}')
            return default
        return value

    def option(self, data: dict, option: Option, path: KeyPath) -> Any:
        """The value of a declared option, checked as its declaration says (the schema says the same)."""
        if option.kind == "integer":
            return self.integer(data, option.name, path, option.default, minimum=option.minimum or 0,
                                maximum=option.maximum if option.maximum is not None else 10**9)
        if option.kind == "choice":
            return self.choice(data, option.name, path, option.choices, option.default)
        if option.kind == "boolean":
            return self.boolean(data, option.name, path, option.default)
        if option.kind == "string":
            return self.string(data, option.name, path, option.default)
        raise ValueError(f"{option.name}: {option.kind} options are read by their own parser")

    def choice(self, data: dict, key: str, path: KeyPath, choices: tuple[str, ...], default: str) -> str:
        value = data.get(key)
        if value is None:
            return default
        if value not in choices:
            self.report(path + (key,), f'"{key}" must be one of {", ".join(choices)}, not {value!r}'
                        f"{did_you_mean(str(value), choices)}")
            return default
        return value


def _build_site(data: Any, v: _Validator, root: Path) -> Site:
    top = v.mapping(data, (), options.keys(options.TOP), required=options.required(options.TOP), what="site.yaml")
    info = _site_info(top.get("site"), v)
    components = _components(top.get("components"), v)
    display = _display(top.get("display"), top.get("badges"), v)
    history_raw = v.mapping(top.get("history"), ("history",), options.keys(options.HISTORY))
    history_options = options.by_name(options.HISTORY)
    raw_days = history_options["raw_days"]
    history = HistorySettings(
        dir=v.option(history_raw, history_options["dir"], ("history",)) or "history",
        # Below the declared minimum gets its own message (why the latency chart needs it), so 1 here.
        raw_days=v.integer(history_raw, "raw_days", ("history",), raw_days.default, minimum=1,
                           maximum=raw_days.maximum or 36500),
    )
    if history.raw_days < MIN_RAW_DAYS:
        v.report(("history", "raw_days"), f'"raw_days" must be at least {MIN_RAW_DAYS}: the latency chart is drawn from '
                 f"the last {MIN_RAW_DAYS} days of raw results, and compacting them would cut it short; raise it, "
                 f"or leave it out for the default ({RAW_DAYS})")
    checks_raw = v.mapping(top.get("checks"), ("checks",), options.keys(options.CHECKS))
    check_options = options.by_name(options.CHECKS)
    checks = CheckSettings(
        concurrency=v.option(checks_raw, check_options["concurrency"], ("checks",)),
        location=v.option(checks_raw, check_options["location"], ("checks",)) or "default",
    )
    alerts = _alerts(top.get("alerts"), components, v) if "alerts" in top else None
    announce = _announce(top.get("announce"), v) if "announce" in top else None
    return Site(root=root, info=info, components=components, display=display, history=history, checks=checks,
                alerts=alerts, announce=announce, subscribe=_subscribe(top.get("subscribe"), v))


def _announce(raw: Any, v: _Validator) -> Any:
    from generator.alerts.announce import parse_announce  # the alerts stage owns its own schema

    def report(relative: KeyPath, message: str) -> None:
        v.report(("announce",) + tuple(relative), message, at_key=message.startswith("unknown key"))

    return parse_announce(raw, report, lambda relative: v.positions.of_value(("announce",) + tuple(relative)))


def _subscribe(raw: Any, v: _Validator) -> Any:

    def report(relative: KeyPath, message: str) -> None:
        v.report(("subscribe",) + tuple(relative), message, at_key=message.startswith("unknown key"))

    return parse_subscribe(raw, report)


def _alerts(raw: Any, components: tuple[Component, ...], v: _Validator) -> Any:
    from generator.alerts.settings import channel_name_problems, parse_alerts  # the alerts stage owns its own schema

    def report(relative: KeyPath, message: str) -> None:
        v.report(("alerts",) + tuple(relative), message, at_key=message.startswith("unknown key"))

    settings = parse_alerts(raw, report, lambda relative: v.positions.of_value(("alerts",) + tuple(relative)))
    overrides = {c.id: c.alerts for c in components if c.alerts is not None}
    positions = {c.id: c.position - 1 for c in components}
    for component_id, message in channel_name_problems(settings, overrides, tuple(positions)):
        v.report(("components", positions[component_id], "alerts"), message)
    return settings


def _site_info(raw: Any, v: _Validator) -> SiteInfo:
    path = ("site",)
    site = v.mapping(raw, path, options.keys(options.SITE), required=options.required(options.SITE), what="site")
    base_url = v.string(site, "base_url", path) or "https://status.example.com/"
    if "base_url" in site and (problem := base_url_problem(base_url)) is not None:
        v.report(path + ("base_url",), problem)
        base_url = "https://status.example.com/"
    if not base_url.endswith("/"):
        base_url += "/"
    timezone = v.string(site, "timezone", path, "UTC") or "UTC"
    if not _is_timezone(timezone):
        v.report(path + ("timezone",), f'unknown time zone {timezone!r}{did_you_mean(timezone, _timezones())}; '
                 'use an IANA name such as "Europe/Berlin" or "UTC"')
        timezone = "UTC"
    language = (_language_tag(v, site.get("language"), path + ("language",)) if "language" in site else None) or "en"
    languages = _languages(site.get("languages"), path + ("languages",), v)
    if languages and "language" in site and language != languages[0]:
        v.report(path + ("language",), f"language {language!r} must be the first of languages, "
                 f"{languages[0]!r}: the first is the one served at the root")
    language = languages[0] if languages else language
    logo = v.string(site, "logo", path)
    if logo and _looks_like_script_url(logo):
        v.report(path + ("logo",), "logo must be a relative path or an http(s) URL")
        logo = None
    return SiteInfo(
        title=v.string(site, "title", path) or "Status",
        description=v.string(site, "description", path, "") or "",
        base_url=base_url,
        logo=logo,
        timezone=timezone,
        language=language,
        languages=languages if len(languages) > 1 else (),
        theme=v.option(site, options.by_name(options.SITE)["theme"], path),
        links=_links(site.get("links"), v),
    )


def _language_tag(v: _Validator, raw: Any, path: KeyPath) -> str | None:
    """A language tag CLDR knows, or None after reporting why not."""
    language = raw if isinstance(raw, str) else ""
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
        v.report(path, f'language must be a language tag such as "en" or "pt-BR", not {raw!r}')
        return None
    if not _is_language(language):
        v.report(path, f"unknown language {language!r}{_closest_language(language)}; "
                 'use a language tag such as "de", "ar" or "pt-BR"')
        return None
    return language


def _languages(raw: Any, path: KeyPath, v: _Validator) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        v.report(path, "languages must be a list of language tags, such as [en, de, fr]")
        return ()
    tags: list[str] = []
    for index, item in enumerate(raw):
        tag = _language_tag(v, item, path + (index,))
        if tag is None:
            continue
        if tag.lower() in {t.lower() for t in tags}:
            v.report(path + (index,), f"language {item!r} is listed twice")
            continue
        tags.append(tag)
    return tuple(tags)


def _links(raw: Any, v: _Validator) -> tuple[Link, ...]:
    path = ("site", "links")
    if raw is None:
        return ()
    items: list[tuple[KeyPath, str, Any]] = []
    if isinstance(raw, dict):  # {support: url, docs: url}
        items = [(path + (label,), str(label), url) for label, url in raw.items()]
    elif isinstance(raw, list):  # [{label: ..., url: ...}]
        for i, entry in enumerate(raw):
            entry = v.mapping(entry, path + (i,), ("label", "url"), required=("label", "url"), what="a link")
            if entry.get("label") and entry.get("url"):
                items.append((path + (i, "url"), str(entry["label"]), entry["url"]))
    else:
        v.report(path, "links must be a mapping such as {support: https://..., docs: https://...} "
                 "or a list of {label, url}")
    links = []
    for where, label, url in items:
        if not isinstance(url, str) or not (_is_absolute_url(url) or url.startswith("mailto:")):
            v.report(where, f"link {label!r} must be an absolute http(s) or mailto: URL, not {url!r}")
            continue
        links.append(Link(label=label.replace("_", " ").strip().capitalize() if isinstance(raw, dict) else label,
                          url=url))
    return tuple(links)


def _display(raw: Any, badges_raw: Any, v: _Validator) -> DisplaySettings:
    path = ("display",)
    d = v.mapping(raw, path, options.keys(options.DISPLAY))
    b = v.mapping(badges_raw, ("badges",), options.keys(options.BADGES))
    display = options.by_name(options.DISPLAY)
    return DisplaySettings(
        recent_incident_days=v.option(d, display["recent_incident_days"], path),
        uptime_days=v.option(d, display["uptime_days"], path),
        uptime_mode=v.option(d, display["uptime_mode"], path),
        history_page_size=v.option(d, display["history_page_size"], path),
        badge_style=v.option(b, options.by_name(options.BADGES)["style"], ("badges",)),
    )


COMPONENT_KEYS = options.keys(options.COMPONENT)


def _components(raw: Any, v: _Validator) -> tuple[Component, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        v.report(("components",), "components must be a list; start each component with `- id: ...`")
        return ()
    components: list[Component] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        path = ("components", index)
        item = v.mapping(entry, path, COMPONENT_KEYS, required=options.required(options.COMPONENT),
                         what=f"component #{index + 1}")
        component_id = v.string(item, "id", path)
        if component_id is not None and not SLUG.match(component_id):
            suggestion = _slugify(component_id)
            v.report(path + ("id",), f"component id {component_id!r} must be a slug of lowercase letters, digits "
                     f"and dashes (it appears in URLs and must never change); try {suggestion!r}")
        elif component_id is not None and component_id in seen:
            v.report(path + ("id",), f'duplicate component id "{component_id}" (first used by component '
                     f"#{seen[component_id] + 1}); ids must be unique")
        elif component_id is not None:
            seen[component_id] = index
        check = _check(item.get("check"), v, path + ("check",)) if "check" in item else None
        components.append(Component(
            id=component_id or f"component-{index + 1}",
            name=v.string(item, "name", path) or component_id or f"Component {index + 1}",
            description=v.string(item, "description", path, "") or "",
            group=v.string(item, "group", path),
            check=check,
            show_uptime=v.option(item, options.by_name(options.COMPONENT)["show_uptime"], path),
            position=index + 1,
            alerts=_component_alerts(item.get("alerts"), v, path + ("alerts",)),
            auto_incident=v.option(item, options.by_name(options.COMPONENT)["auto_incident"], path),
        ))
    return tuple(components)


def _component_alerts(raw: Any, v: _Validator, path: KeyPath) -> tuple[str, ...] | None:
    if raw is None:
        return None
    from generator.alerts.settings import parse_component_alerts  # not at the top: 39 ms of imports, paid only here
    return parse_component_alerts(raw, lambda message: v.report(path, message))


def _check(raw: Any, v: _Validator, path: KeyPath) -> Any:
    from generator.checks.spec import parse_check  # the checks stage owns its own schema

    def report(relative: KeyPath, message: str) -> None:
        full = path + tuple(relative)
        v.report(full, message, at_key=message.startswith("unknown key"))

    return parse_check(raw, report)


# --- small helpers -----------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number",
            bool: "true/false"}.get(type(value), type(value).__name__)


# What RFC 3986 never allows unescaped in a URL: white space, control characters and " < > \ ^ ` { | }.
_NOT_IN_URLS = re.compile(r'[\x00-\x20\x7f"<>\\^`{|}]')


def base_url_problem(url: str) -> str | None:
    """What is wrong with `url` as the site's base URL (site.yaml or --base-url), or None."""
    if not _is_absolute_url(url):
        return (f'base_url must be an absolute http(s) URL such as "https://status.example.com/" or '
                f'"https://you.github.io/repo/", not {url!r}')
    if (unsafe := _NOT_IN_URLS.search(url)) is not None:
        # base_url is written into pages, feeds, headers and sitemaps as it is: such a character
        # there would end an attribute, start a tag, or split a header into two.
        return (f"base_url must not contain {unsafe.group()!r}, which no URL has unescaped; "
                "percent-encode it (e.g. %22 for a quote, %20 for a space) or remove it")
    return None


def _is_absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _looks_like_script_url(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme not in ("", "http", "https")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


_TIMEZONES: set[str] | None = None


def _timezones() -> set[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = available_timezones()
    return _TIMEZONES


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63] or "component"


slugify: Callable[[str], str] = _slugify


def _is_language(tag: str) -> bool:
    """Whether CLDR (through Babel) knows `tag`: its dates and numbers are what the page shows."""
    from babel import Locale, UnknownLocaleError  # here: 6 ms, for sites that name a language

    try:
        Locale.parse(tag, sep="-")
        return True
    except (UnknownLocaleError, ValueError):
        return False


def _closest_language(language: str) -> str:
    """The did-you-mean for an unknown tag. A known tag that it starts with comes first: a typo
    is most often a letter too many at the end ("dee" is "de", not "ee"; "pt-BRR" is "pt-BR")."""
    tags = _language_tags()
    lowered = language.lower()
    started = [tag for tag in tags if lowered.startswith(tag.lower())]
    if started:
        return f' (did you mean "{max(started, key=len)}"?)'
    return did_you_mean(language, tags)


def _language_tags() -> list[str]:

    return sorted({name.replace("_", "-") for name in locale_identifiers()})
