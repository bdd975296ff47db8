"""Jinja rendering: the theme in templates/, with filters for times, durations and links."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, NamedTuple
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from generator.site.config import Site, SiteInfo
from generator.status.readings import percent_figure
# The theme used is the theme fingerprinted for the caches: one function finds it.
from generator.engine.fingerprint import default_theme_dir
from generator.engine.reuse import output_key
from generator.engine.template_cache import SignedBytecodeCache
from generator.site.problems import Problem, relative_file
from generator.render.i18n import LOCALE_FOLDER, Language, load_language
from generator.render.urls import iso_seconds
from generator.status.model import COMPONENT_STATUS_LABELS, INDICATOR_DESCRIPTIONS
from generator.site.paths import refuse_links_outside
from babel import Locale
import traceback

# A part of a page kept between builds: (its key, how to render it) -> its HTML (reuse.Outputs.fragment).
Keep = Callable[[str | None, Callable[[], str]], str]


def template_dirs(site: Site) -> list[Path]:
    """The site's templates/, then the built-in theme. Raises InvalidInput if a link in
    templates/ leads out of the site: its target would be rendered or published as an asset."""

    refuse_links_outside(site.templates_dir, site.root)
    dirs = [site.templates_dir] if site.templates_dir.is_dir() else []
    fallback = default_theme_dir()
    if fallback.resolve() not in [d.resolve() for d in dirs]:
        dirs.append(fallback)
    return dirs


def make_environment(site: Site, cache_dir: Path | None = None, keep: Keep | None = None,
                     language_tag: str | None = None) -> jinja2.Environment:
    """The Jinja environment for the site's theme, in `language_tag` (the site's `language` without
    one). With `cache_dir`, compiled templates are kept there (keyed by each template's source),
    which saves a rebuild compiling them again. With `keep` (reuse.Outputs.fragment), parts of
    pages that change less often than the pages are kept between builds by their keys."""
    # Signed, unlike Jinja's own cache, which runs whatever file it finds (engine.template_cache).
    bytecode_cache = None if cache_dir is None else SignedBytecodeCache(cache_dir / "jinja")
    folders = template_dirs(site)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in folders]),
        bytecode_cache=bytecode_cache,
        extensions=["jinja2.ext.i18n"],
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    zone = ZoneInfo(site.info.timezone)
    # The theme's catalogs first, then the site's own (templates/locale/), whose messages win.
    language = load_language(language_tag or site.info.language, [folder / LOCALE_FOLDER for folder in reversed(folders)])
    gettext = language.translations.gettext
    env.install_gettext_translations(language.translations, newstyle=True)
    env.globals["gettext"] = env.globals["_"] = _kept_gettext(gettext)

    def localtime(moment: datetime | None, fmt: str = "%b %-d, %Y %H:%M %Z") -> str:
        if moment is None or language.is_source:
            return format_time(moment, zone, fmt)
        local = moment.astimezone(zone)
        return f"{language.date_time(local)} {_zone_name(local)}"

    def time_tag(moment: datetime | None) -> Markup:
        return Markup(f'<time datetime="{escape(iso_time(moment))}">{escape(localtime(moment))}</time>')

    def percent(value: float | None, digits: int = 2) -> str:
        if value is None or language.is_source:
            return format_percent(value, digits) if value is not None else gettext("no data")
        return language.percent(percent_figure(value, digits))

    def label(status: str) -> str:
        return gettext(COMPONENT_STATUS_LABELS.get(status, status.replace("_", " ").capitalize()))

    env.filters.update(
        localtime=localtime,
        time_tag=time_tag,
        isotime=iso_time,
        duration=lambda delta: format_duration(delta, gettext),
        gap=lambda seconds: format_gap(seconds, gettext),
        percent=percent,
        status_label=label,
        words=lambda s: s.replace("_", " "),
        uptime_rects=_day_bars(language, keep),
        chart_points=chart_points,
        latency_chart=latency_chart,
        address=page_address,
        month_label=lambda day: portable_strftime(day, "%B %Y") if language.is_source else language.month(day),
    )
    prefix = site.info.language_prefix(language.tag)
    env.globals.update(site=site.info, timezone_name=site.info.timezone, text_direction=language.direction,
                       catalog_key=language.catalog_key, language=language,
                       # A language's pages are one folder down from what every language shares
                       # (assets, feeds, the API): `site_root` (render_page) is `root` plus this.
                       language_prefix=prefix, language_up="../" if prefix else "",
                       page_languages=page_languages(site.info),
                       indicator_descriptions={key: gettext(text) for key, text in INDICATOR_DESCRIPTIONS.items()})
    return env


def _kept_gettext(translate: Callable[[str], str]) -> Callable[..., str]:
    """Jinja's newstyle `gettext`, for `_()` and `{% trans %}`, giving the same text; a message
    without variables is translated and escaped once per build, not on each of the hundred pages
    a check run renders, each asking for thirty."""
    plain: dict[str, str] = {}

    @jinja2.pass_context
    def gettext(context: jinja2.runtime.Context, message: str, **variables: Any) -> str:
        if not context.eval_ctx.autoescape:
            return translate(message) % variables
        if variables:
            return Markup(translate(message)) % variables
        found = plain.get(message)
        if found is None:
            found = plain[message] = Markup(translate(message)) % variables
        return found

    return gettext


def _zone_name(local: datetime) -> str:
    """The zone's abbreviation, or "UTC+05:30" where it has none."""
    name = local.tzname() or ""
    if name[:1] in ("+", "-"):
        offset = local.strftime("%z")
        return f"UTC{offset[:3]}:{offset[3:]}"
    return name


def format_time(moment: datetime | None, zone: ZoneInfo, fmt: str) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    text = portable_strftime(local, fmt)
    # Zones without an abbreviation print offsets like "+0530"; make them readable.
    name = local.tzname() or ""
    if "%Z" in fmt and name[:1] in ("+", "-"):
        offset = local.strftime("%z")
        text = text.replace(name, f"UTC{offset[:3]}:{offset[3:]}")
    return text


def iso_time(moment: datetime | None) -> str:
    return "" if moment is None else iso_seconds(moment)


def format_duration(delta: timedelta, gettext=lambda text: text) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(gettext("%(n)s d") % {"n": days})
    if hours:
        parts.append(gettext("%(n)s h") % {"n": hours})
    if minutes or not parts:
        parts.append(gettext("%(n)s min") % {"n": minutes})
    return " ".join(parts[:2])


def format_gap(seconds: float | None, gettext=lambda text: text) -> str:
    """A gap between results or a run's lateness: whole seconds under a minute, else as durations."""
    if seconds is None:
        return gettext("no data")
    if seconds < 60:
        return gettext("%(n)s s") % {"n": int(seconds)}
    return format_duration(timedelta(seconds=seconds), gettext)


def format_percent(value: float | None, digits: int = 2) -> str:
    """Rounded down (readings.floor_units): 99.999% must not claim 100%."""
    if value is None:
        return "no data"
    return percent_figure(value, digits) + "%"


def bar_class(day: Any) -> str:
    """A day bar's colour: up, a minor, partial or major outage, or no data."""
    if day.uptime is None:
        return "b-none"
    if day.uptime >= 0.999 and day.degraded < 0.05 * day.checks:
        return "b-up"
    return "b-minor" if day.uptime >= 0.99 else "b-partial" if day.uptime >= 0.95 else "b-major"


def uptime_rects(days: Any, day_notes: Any, language: Language | None = None, first_index: int = 0) -> Markup:
    """The bars of `uptime_bars`: one <rect> per day with its class and a <title> saying what happened."""
    source = language is None or language.is_source
    gettext = (lambda text: text) if source else language.translations.gettext
    rects = []
    for index, day in enumerate(days, first_index):
        if day.uptime is None:
            title = gettext("no data")
        else:
            figure = format_percent(day.uptime) if source else language.percent(percent_figure(day.uptime, 2))
            title = gettext("%(percent)s up") % {"percent": figure}
            if day.down:
                title += ", " + gettext("%(down)s failed of %(checks)s checks") % {"down": day.down, "checks": day.checks}
            if day.degraded:
                title += ", " + gettext("%(n)s degraded") % {"n": day.degraded}
        for note in day_notes.get(day.day, ()):
            title += "; " + note
        label = _day_label(day.day) if source else language.day(day.day)
        rects.append(f'<rect x="{index * 5}" width="4" height="30" class="{bar_class(day)}"><title>'
                     f'{label}: {escape(title)}</title></rect>')
    return Markup("".join(rects))


# "%%" first, so that "%%-d" stays a literal "%-d" as strftime would print it.
_FORMAT_CODE = re.compile(r"%%|%-([dmHIMSjy])")


def portable_strftime(moment: date | datetime, fmt: str) -> str:
    """strftime, where "%-d" (and %-m, %-H, ...) is the number without its leading zero on every
    platform: glibc and macOS know that code, Windows' strftime rejects it."""
    def unpadded(match: re.Match[str]) -> str:
        code = match.group(1)
        return match.group(0) if code is None else str(int(moment.strftime("%" + code)))

    return moment.strftime(_FORMAT_CODE.sub(unpadded, fmt))


@lru_cache(maxsize=1024)
def _day_label(day: date) -> str:
    return portable_strftime(day, "%b %-d, %Y")  # the same 90 days for every component


def day_bars_key(history: Any, day_notes: Any, catalog_key: str) -> str | None:
    """The key of a component's bars for the days before today (see `_day_bars`); None when its
    history does not say what its closed days were made of."""
    closed_key = getattr(history, "closed_key", "")
    if not closed_key or not history.days:
        return None
    today = history.days[-1].day
    notes = sorted((day, tuple(texts)) for day, texts in (day_notes or {}).items() if day != today)
    return output_key("day bars", closed_key, notes, catalog_key)


def _day_bars(language: Language, keep: Keep | None) -> Callable[[Any, Any], Markup]:
    """The `uptime_rects` filter. Given a component's history, the bars of the days before today
    are kept by `day_bars_key` (they stay the same all day, and the front page and the
    component's page draw the same ones), and only today's is drawn on every build. Given a list
    of days (a site's own template may pass `history.days`), every bar is drawn."""

    def drawn(history: Any, day_notes: Any) -> Markup:
        key = keep and day_bars_key(history, day_notes, language.catalog_key)
        if not key:
            return uptime_rects(getattr(history, "days", history), day_notes, language)
        days = history.days
        before = keep(key, lambda: uptime_rects(days[:-1], day_notes, language))
        return Markup(before) + uptime_rects(days[-1:], day_notes, language, first_index=len(days) - 1)

    return drawn


class LatencyChart(NamedTuple):
    """What the response-time chart is drawn from: its scale and its polyline."""

    top: float  # ms at the top of the chart: the highest median and a tenth more
    first: float  # the first hour's start, in seconds
    span: float  # seconds from the first hour to the last (1 when there is one)
    points: str  # the polyline's points


def latency_chart(series: Any) -> LatencyChart:
    """The chart of (hour start, median ms) pairs, worked out in one pass: a Jinja loop over
    a week of hours for each of a hundred component pages costs more than the rest of a page."""
    times = [moment.timestamp() for moment, _ in series]
    values = [value for _, value in series]
    top = max(values) * 1.1
    first = times[0]
    span = (times[-1] - first) or 1
    points = "".join([f"{40 + 560 * (t - first) / span:.1f},{140 - 130 * v / top:.1f} " for t, v in zip(times, values)])
    return LatencyChart(top, first, span, points)


def chart_points(series: Any, first: float, span: float, top: float) -> str:
    """The latency chart's polyline: x across 40..600 by time, y up from 140 by milliseconds."""
    return "".join(f"{40 + 560 * (t.timestamp() - first) / span:.1f},{140 - 130 * v / top:.1f} " for t, v in series)


def relative_root(output_path: str) -> str:
    """The prefix from a page at `output_path` back to the site root, so links work from disk too."""
    depth = output_path.count("/")
    return "../" * depth


class PageLanguage(NamedTuple):
    """One of the languages a page is built in, for its language links (hreflang, the switcher)."""

    tag: str  # "pt-BR", for hreflang and lang
    prefix: str  # "" or "pt-br/": the folder its pages are in
    name: str  # what the language calls itself: "Português (Brasil)"


def page_languages(site: SiteInfo) -> tuple[PageLanguage, ...]:
    """Every language the site's pages are built in; none when they are built in one."""
    if len(site.page_languages) < 2:
        return ()

    def autonym(tag: str) -> str:
        name = Locale.parse(tag, sep="-").get_display_name(Locale.parse(tag, sep="-")) or tag
        return name[:1].upper() + name[1:]

    return tuple(PageLanguage(tag, site.language_prefix(tag), autonym(tag)) for tag in site.page_languages)


def page_address(page_path: str) -> str:
    """A page's path as its address ends: "incidents/x/index.html" -> "incidents/x/"."""
    return page_path.removesuffix("index.html")


def render_page(env: jinja2.Environment, template: str, output_path: str, **context: Any) -> bytes:
    """`output_path` is relative to the language's folder (site root for the first language)."""
    context.setdefault("root", relative_root(output_path))
    context.setdefault("site_root", context["root"] + env.globals.get("language_up", ""))
    context.setdefault("page_path", output_path)
    return env.get_template(template).render(**context).encode("utf-8")


def crash_problems(exc: BaseException, root: Path) -> tuple[Problem, ...]:
    """A template mistake (or any other crash) as a located problem where possible."""

    if isinstance(exc, jinja2.TemplateSyntaxError):
        return (Problem(relative_file(exc.filename or exc.name or "templates", root), exc.lineno, None,
                        f"template syntax error: {exc.message}"),)
    # Jinja rewrites tracebacks so a runtime error in a template points at the template's line.
    # An exception from a forked worker brings its frames along (parallel._note_frames).
    frames = getattr(exc, "forked_frames", None) or [(frame.filename, frame.lineno)
                                                      for frame in traceback.extract_tb(exc.__traceback__)]
    for filename, line in reversed(frames):
        if filename.endswith((".html", ".xml", ".txt", ".svg")):
            return (Problem(relative_file(filename, root), line, None,
                            f"template error: {type(exc).__name__}: {exc}"),)
    return (Problem("(build)", None, None, f"{type(exc).__name__}: {exc}"),)
