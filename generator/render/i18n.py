"""The page in the site's `language`: gettext catalogs for the theme's words, Babel (CLDR) for dates
and numbers.

The theme's catalogs are `templates/locale/<language>.po` (gettext's format; `pt_BR.po` for
`pt-BR`). A site may put its own `templates/locale/<language>.po` beside its templates: each
message there replaces the theme's, and a language the theme does not ship works the same way.
English is the source language: its words are the templates' own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_skeleton
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from babel.units import format_unit

SOURCE_LANGUAGE = "en"
LOCALE_FOLDER = "locale"


def N_(message: str) -> str:
    """Marks a message the Python side shows, so that the catalogs must have it (see PYTHON_MESSAGES)."""
    return message


# What the script widget (templates/embed/status.js) says besides status labels and descriptions.
WIDGET_MESSAGES = (
    N_("Not checked yet."), N_("No check result since %(time)s: the status shown may be out of date."),
    N_("%(n)s components have no recent check result: the status shown may be out of date."),
    N_("(stale)"), N_("Status unavailable: open the status page"), N_("Loading status…"),
)

# What the pages show that comes from Python rather than a template: every catalog translates these too.
PYTHON_MESSAGES = (
    *WIDGET_MESSAGES,
    N_("Operational"), N_("Under maintenance"), N_("Degraded performance"), N_("Partial outage"),
    N_("Major outage"),
    N_("All Systems Operational"), N_("Minor Service Outage"), N_("Partial System Outage"),
    N_("Major Service Outage"), N_("Service Under Maintenance"),
    N_("%(n)s d"), N_("%(n)s h"), N_("%(n)s min"), N_("%(n)s s"),
    N_("no data"), N_("%(percent)s up"), N_("%(down)s failed of %(checks)s checks"), N_("%(n)s degraded"),
    N_("Investigating"), N_("Identified"), N_("Monitoring"), N_("Resolved"), N_("Scheduled"),
    N_("In progress"), N_("Completed"),
    N_("None"), N_("Minor"), N_("Major"), N_("Critical"), N_("Maintenance"),
    # The badges' words (badges.py), lower case as shields writes them.
    N_("status"), N_("operational"), N_("minor outage"), N_("partial outage"), N_("major outage"),
    N_("maintenance"), N_("degraded performance"), N_("under maintenance"),
    N_("%(name)s uptime %(window)s"), N_("%(name)s response time"),
    # The feeds' (feeds.py); their other words are the pages' own.
    N_("Incidents and maintenance on %(title)s"), N_("Incidents and maintenance affecting %(name)s"), N_("not set"),
    # The maintenance calendar's (ics.py).
    N_("%(title)s maintenance"), N_("Scheduled maintenance on %(url)s"), N_("Affects: %(components)s"),
    N_("all components"), N_("Maintenance: %(title)s"),
    # llms.txt's (llms.py).
    N_("The status page"), N_("%(summary)s. Current status: **%(status)s** (as of %(time)s)."),
    N_("Times are UTC. The machine-readable files listed below hold the same data."),
    N_("uptime over 30 days: %(value)s"), N_("response time: %(value)s"), N_("stale: %(note)s"), N_("None."),
    N_("Machine-readable"), N_("Optional"),
    N_("[Statuspage API v2 summary](%(url)s): status, components, unresolved incidents and maintenance "
       "in the Statuspage format"),
    N_("[Status JSON](%(url)s): the same with component ids, uptime and response times"),
    N_("[OpenAPI description](%(url)s): every endpoint and its schema"), N_("[Daily uptime CSV](%(url)s)"),
    N_("[Incident feed (Atom)](%(atom)s), [RSS](%(rss)s), [JSON Feed](%(json)s)"),
    N_("[Maintenance calendar (iCalendar)](%(url)s)"),
    N_("[Incident history](%(url)s): every past incident and maintenance"),
    N_("%(start)s to %(end)s"), N_("since %(time)s"), N_("%(impact)s impact"),
    N_("%(state)s%(impact)s, %(when)s; affects %(components)s. Latest update (%(time)s): %(text)s"),
)


@dataclass(frozen=True)
class Language:
    """The page's language: its Babel locale, its catalog, and a digest of that catalog (what
    every kept page's key names, so that a changed translation renders those pages again)."""

    tag: str  # as site.yaml says it, e.g. "pt-BR"
    locale: Locale
    translations: NullTranslations
    catalog_key: str

    @property
    def is_source(self) -> bool:
        return self.locale.language == SOURCE_LANGUAGE

    @property
    def direction(self) -> str:
        """"ltr" or "rtl", as CLDR says the language is written."""
        return "rtl" if self.locale.character_order == "right-to-left" else "ltr"

    def date_time(self, moment: datetime) -> str:
        """"4 déc. 2026, 21:52": the moment already in the reader's zone, as CLDR joins a
        medium date and a 24-hour time in this language."""
        joined = str(self.locale.datetime_formats.get("medium", "{1}, {0}"))
        time = format_skeleton("Hm", moment.time(), locale=self.locale)
        return joined.replace("{1}", format_skeleton("yMMMd", moment.date(), locale=self.locale)).replace("{0}", time)

    def day(self, day: date) -> str:
        return format_skeleton("yMMMd", day, locale=self.locale)

    def month(self, day: date) -> str:
        return format_skeleton("yMMMM", day, locale=self.locale)

    def percent(self, figure: str) -> str:
        """A figure written with "." (readings.percent_figure) as this language writes a percentage."""
        symbols = self.locale.number_symbols.get("latn", self.locale.number_symbols)
        number = figure.replace(".", symbols.get("decimal", "."))
        pattern = self.locale.percent_formats[None].pattern.split(";")[0]
        before, _, after = pattern.partition("#")
        after = after.lstrip("#,0.")
        return before.replace("%", symbols.get("percentSign", "%")) + number + after.replace(
            "%", symbols.get("percentSign", "%"))


    def milliseconds(self, value_ms: float) -> str:
        """A response time as CLDR's short unit: "123 ms", "10,5 s", "123 ملي ث"."""
        if value_ms >= 10_000:
            return format_unit(round(value_ms / 1000, 1), "duration-second", length="short", locale=self.locale)
        return format_unit(round(value_ms), "duration-millisecond", length="short", locale=self.locale)


def locale_name(tag: str) -> str:
    """The file name a catalog for `tag` has: "pt-BR" -> "pt_BR"."""
    return str(Locale.parse(tag, sep="-"))


def catalog_names(tag: str) -> list[str]:
    """The catalog file names that may hold `tag`'s messages, most particular first: the tag's own
    name, then as CLDR's likely subtags complete it ("zh" -> zh_Hans_CN, zh_Hans, zh_CN, zh;
    "pt" -> ..., pt_BR, pt), so a bare code finds the script or country the theme ships, and
    "zh-TW" (zh_Hant) never gets the simplified catalog."""
    locale = Locale.parse(tag, sep="-")
    language, script, territory = locale.language, locale.script, locale.territory
    likely = get_global("likely_subtags")
    for key in (str(locale), f"{language}_{script}", f"{language}_{territory}", language):
        if key in likely:
            full = Locale.parse(likely[key])
            script, territory = script or full.script, territory or full.territory
            break
    names = [str(locale)]
    if script and territory:
        names.append(f"{language}_{script}_{territory}")
    if script:
        names.append(f"{language}_{script}")
    if territory:
        names.append(f"{language}_{territory}")
    return list(dict.fromkeys([*names, language]))


def known_language(tag: str) -> bool:
    try:
        Locale.parse(tag, sep="-")
        return True
    except (UnknownLocaleError, ValueError):
        return False


def load_language(tag: str, catalogs: list[Path]) -> Language:
    """`tag`'s catalog from the `catalogs` folders, the later ones' messages winning."""
    locale = Locale.parse(tag, sep="-")
    names = catalog_names(tag)
    merged = Catalog(locale=locale)
    digest = hashlib.sha256(tag.encode())
    for folder in catalogs:
        for name in dict.fromkeys(names):
            path = folder / f"{name}.po"
            if path.is_file():
                data = path.read_bytes()
                digest.update(data)
                for message in read_po(BytesIO(data), locale=locale):
                    if message.id and message.string and not message.fuzzy:
                        merged.delete(message.id)  # a later folder's message replaces, never merges with, an earlier one
                        merged.add(message.id, message.string)
                break
    if not len(merged):
        return Language(tag, locale, NullTranslations(), digest.hexdigest())
    compiled = BytesIO()
    write_mo(compiled, merged)
    compiled.seek(0)
    return Language(tag, locale, Translations(compiled), digest.hexdigest())


def template_messages(theme: Path) -> dict[str, tuple[str, int]]:
    """Every message the templates in `theme` and the Python side show, with where it is first used
    (a template and its line): what each catalog must translate."""
    from jinja2.ext import babel_extract  # not at the top: 24 ms of imports, paid only here

    found: dict[str, tuple[str, int]] = {}
    for path in sorted(theme.rglob("*.html")):
        with path.open("rb") as handle:
            for line, _, message, _ in babel_extract(handle, ("_", "gettext", "ngettext"), [],
                                                     {"trim_blocks": "true", "lstrip_blocks": "true"}):
                for text in (message if isinstance(message, tuple) else (message,)):
                    if text:
                        found.setdefault(text, (path.relative_to(theme).as_posix(), line))
    for text in PYTHON_MESSAGES:
        found.setdefault(text, ("generator/render/i18n.py", 0))
    return found
