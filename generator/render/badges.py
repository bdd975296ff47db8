"""Status, uptime and response-time badges: shields.io-style SVG files, and the same values as
shields.io endpoint JSON for people who want shields to render them.

Layout follows shields' flat, flat-square and for-the-badge styles. Text is measured with real
font metrics (font_metrics.py) and pinned with textLength, so it fits whichever of Verdana or
DejaVu Sans the reader has. Colours are darker than shields' defaults: white 11px text on every
value colour meets WCAG AA (4.5:1) even under flat's lighter top edge.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from html import escape  # not xml.sax.saxutils, which imports urllib.request, http and ssl

from generator.engine.reuse import Outputs, output_key
from generator.render import font_metrics
from generator.site.config import Component
from generator.status.readings import (UPTIME_WINDOWS, milliseconds_text, percent_figure, percent_text,
                                       response_time_ms, uptime)

if TYPE_CHECKING:
    from generator.render.i18n import Language

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs

STYLES = ("flat", "flat-square", "for-the-badge")
FONT_FAMILY = "Verdana,Geneva,DejaVu Sans,sans-serif"
CACHE_SECONDS = 300  # shields' minimum

LABEL_GREY = "#555555"
GREEN = "#1a7f37"
YELLOW_GREEN = "#4d7c0f"
AMBER = "#8f5e00"
ORANGE = "#bc4c00"
RED = "#cf222e"
BLUE = "#0969da"
GREY = "#57606a"  # no data

STATUS_COLOURS = {
    "operational": GREEN,
    "degraded_performance": AMBER,
    "partial_outage": ORANGE,
    "major_outage": RED,
    "under_maintenance": BLUE,
}
INDICATOR_BADGES = {  # Statuspage indicator -> (message, colour)
    "none": ("operational", GREEN),
    "minor": ("minor outage", AMBER),
    "major": ("partial outage", ORANGE),
    "critical": ("major outage", RED),
    "maintenance": ("maintenance", BLUE),
}
# The page's day bars use the same steps (up >= 99.9%, minor >= 99%, partial >= 95%).
UPTIME_STEPS = ((0.999, GREEN), (0.99, AMBER), (0.95, ORANGE))
DEFAULT_SLOW_MS = 1000.0  # "slow" for a component whose check sets no degraded_after


@dataclass(frozen=True)
class Badge:
    """What one badge says: its label, its message and the message's colour."""

    label: str
    message: str
    color: str  # the message half's background, "#rrggbb"
    label_color: str = LABEL_GREY

    @property
    def text(self) -> str:
        """What a screen reader says, as shields does."""
        return f"{self.label}: {self.message}" if self.label else self.message


# --- what each badge says ------------------------------------------------------------------


class Words:
    """The badges' words and figures in the site's language (English without a Language): the
    messages are i18n.PYTHON_MESSAGES, the figures CLDR's."""

    def __init__(self, language: Language | None = None):
        self.language = language if language is not None and not language.is_source else None
        self.gettext = language.translations.gettext if language is not None else (lambda text: text)

    def percent(self, value: float | None) -> str:
        if value is None or self.language is None:
            return percent_text(value) if value is not None else self.gettext("no data")
        return self.language.percent("100" if value >= 1 else percent_figure(value, 2))

    def milliseconds(self, value_ms: float | None) -> str:
        if value_ms is None or self.language is None:
            return milliseconds_text(value_ms) if value_ms is not None else self.gettext("no data")
        return self.language.milliseconds(value_ms)


ENGLISH = Words()


def overall_badge(indicator: str, words: Words = ENGLISH) -> Badge:
    message, color = INDICATOR_BADGES[indicator]
    return Badge(words.gettext("status"), words.gettext(message), color)


def status_badge(component: Component, status: str, words: Words = ENGLISH) -> Badge:
    return Badge(component.name, words.gettext(status.replace("_", " ")), STATUS_COLOURS[status])


def uptime_badge(component: Component, window: str, value: float | None, words: Words = ENGLISH) -> Badge:
    label = words.gettext("%(name)s uptime %(window)s") % {"name": component.name, "window": window}
    return Badge(label, words.percent(value), uptime_colour(value))


def response_time_badge(component: Component, value_ms: float | None, words: Words = ENGLISH) -> Badge:
    slow_ms = (getattr(component.check, "degraded_after", None) or DEFAULT_SLOW_MS / 1000) * 1000
    label = words.gettext("%(name)s response time") % {"name": component.name}
    return Badge(label, words.milliseconds(value_ms), latency_colour(value_ms, slow_ms))


def uptime_colour(value: float | None) -> str:
    if value is None:
        return GREY
    return next((colour for floor, colour in UPTIME_STEPS if value >= floor), RED)


def latency_colour(value_ms: float | None, slow_ms: float) -> str:
    """Green well under the component's own "degraded" threshold, amber past it, orange far past."""
    if value_ms is None:
        return GREY
    if value_ms < slow_ms / 2:
        return GREEN
    if value_ms < slow_ms:
        return YELLOW_GREEN
    return AMBER if value_ms < 2 * slow_ms else ORANGE


def render_badges(inputs: BuildInputs, outputs: Outputs, language: Language | None = None) -> None:
    style = inputs.site.display.badge_style
    words = Words(language)
    badges: dict[str, Badge] = {"badges/status": overall_badge(inputs.status.indicator, words)}
    for state in inputs.status.components:
        component = state.component
        history = inputs.histories.get(component.id)
        folder = f"badges/{component.id}"
        badges[f"{folder}/status"] = status_badge(component, state.status, words)
        for window in UPTIME_WINDOWS:
            badges[f"{folder}/uptime-{window}"] = uptime_badge(component, window, uptime(history, window), words)
        badges[f"{folder}/response-time"] = response_time_badge(
            component, response_time_ms(history, inputs.now, stale=state.stale), words)
    files: dict[str, bytes] = {}
    for stem, badge in badges.items():
        # A badge's files are made of the badge (its texts and colours) and the style alone.
        key = output_key(inputs.fingerprint, stem, badge, style)
        if outputs.wants(f"{stem}.svg", key):
            files[f"{stem}.svg"] = render_svg(badge, style, id_prefix=_short_hash(stem),
                                              language=inputs.site.info.language).encode("utf-8")
        if outputs.wants(f"{stem}.json", key):
            files[f"{stem}.json"] = json.dumps(endpoint_json(badge, style), ensure_ascii=False).encode("utf-8")
    outputs.add(files)


def endpoint_json(badge: Badge, style: str) -> dict[str, Any]:
    return {"schemaVersion": 1, "label": badge.label, "message": badge.message, "color": badge.color,
            "labelColor": badge.label_color, "style": style, "cacheSeconds": CACHE_SECONDS}


# --- text measurement ------------------------------------------------------------------------


@cache
def _advances(bold: bool) -> dict[int, float]:
    table = font_metrics.BOLD if bold else font_metrics.REGULAR
    return {first + offset: width / font_metrics.UNITS_PER_EM for first, widths in table
            for offset, width in enumerate(widths) if width is not None}


def advance(char: str, bold: bool = False) -> float:
    """One character's advance in em; characters outside the table get a generous estimate."""
    known = _advances(bold).get(ord(char))
    if known is not None:
        return known
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0.0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.3 if ord(char) > 0xFFFF else 1.0  # emoji are wider than an em in colour fonts
    return 0.7  # another script, drawn from a fallback font: about an "n" and a half's margin


def text_width(text: str, size_px: float, bold: bool = False) -> float:
    return sum(advance(char, bold) for char in text) * size_px


# --- SVG -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Half:
    """One of a badge's two halves, laid out: where it starts, how wide it is, its text and fill."""

    text: str
    x: float  # left edge of the half
    width: float  # of the half
    text_width: float  # what textLength pins the text to
    fill: str


def render_svg(badge: Badge, style: str, *, id_prefix: str = "b", language: str = "en") -> str:
    """`language`: the tag of the badge's words, which for-the-badge writes in capitals as that
    language does."""
    if style not in STYLES:
        raise ValueError(f"unknown badge style {style!r}")
    label, message = _clean(badge.label), _clean(badge.message)
    if style == "for-the-badge":
        return _for_the_badge(badge, capitals(label, language), capitals(message, language))
    return _flat(badge, label, message, square=style == "flat-square", id_prefix=id_prefix)


def capitals(text: str, language: str) -> str:
    """`text` in capitals as `language` writes them. Python's upper() is Unicode's default, which
    is right for most languages but not these: Turkish and Azerbaijani keep the dot of i (i -> İ),
    Greek drops the accents in capitals (ά -> Α)."""
    base = language.split("-")[0].lower()
    if base in ("tr", "az"):
        return text.replace("i", "İ").upper()
    if base == "el":

        decomposed = unicodedata.normalize("NFD", text.upper())
        return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in "\u0301\u0342\u0313\u0314"))
    return text.upper()


def _flat(badge: Badge, label: str, message: str, *, square: bool, id_prefix: str) -> str:
    padding = 5
    label_text = _odd_ceiling(text_width(label, 11)) if label else 0
    message_text = _odd_ceiling(text_width(message, 11))
    left = _Half(label, 0, label_text + 2 * padding if label else 0, label_text, badge.label_color)
    right = _Half(message, left.width, message_text + 2 * padding, message_text, badge.color)
    width = left.width + right.width
    height = 20
    texts = "".join(_text(half, y=140, shadow=not square) for half in (left, right) if half.text)
    rects = (f'<rect width="{left.width}" height="{height}" fill="{left.fill}"/>' if left.width else "") + \
            f'<rect x="{right.x}" width="{right.width}" height="{height}" fill="{right.fill}"/>'
    if square:
        background = f'<g shape-rendering="crispEdges">{rects}</g>'
    else:
        gradient, clip = f"{id_prefix}s", f"{id_prefix}r"
        background = (
            f'<linearGradient id="{gradient}" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
            f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="{clip}"><rect width="{width}" height="{height}" rx="3" fill="#fff"/></clipPath>'
            f'<g clip-path="url(#{clip})">{rects}<rect width="{width}" height="{height}" fill="url(#{gradient})"/></g>'
        )
    return _svg(badge, width, height, background +
                f'<g fill="#fff" text-anchor="middle" font-family="{FONT_FAMILY}" '
                f'text-rendering="geometricPrecision" font-size="110">{texts}</g>')


def _for_the_badge(badge: Badge, label: str, message: str) -> str:
    margin, spacing, height = 12, 1.25, 28
    label_text = math.ceil(text_width(label, 10) + spacing * len(label)) if label else 0
    message_text = math.ceil(text_width(message, 10, bold=True) + spacing * len(message))
    left = _Half(label, 0, label_text + 2 * margin if label else 0, label_text, badge.label_color)
    right = _Half(message, left.width, message_text + 2 * margin, message_text, badge.color)
    width = left.width + right.width
    rects = (f'<rect width="{left.width}" height="{height}" fill="{left.fill}"/>' if left.width else "") + \
            f'<rect x="{right.x}" width="{right.width}" height="{height}" fill="{right.fill}"/>'
    texts = (_text(left, y=175, shadow=False) if label else "") + _text(right, y=175, shadow=False, bold=True)
    return _svg(badge, width, height, f'<g shape-rendering="crispEdges">{rects}</g>'
                f'<g fill="#fff" text-anchor="middle" font-family="{FONT_FAMILY}" '
                f'text-rendering="geometricPrecision" font-size="100">{texts}</g>')


def _text(half: _Half, *, y: int, shadow: bool, bold: bool = False) -> str:
    """Text drawn at 10x and scaled down, as shields does, for sub-pixel placement."""
    centre = round((half.x + half.width / 2) * 10)
    length = round(half.text_width * 10)
    content = escape(half.text, quote=False)
    weight = ' font-weight="bold"' if bold else ""
    drop = (f'<text aria-hidden="true" x="{centre}" y="{y + 10}" fill="#010101" fill-opacity=".3" '
            f'transform="scale(.1)" textLength="{length}"{weight}>{content}</text>') if shadow else ""
    return drop + f'<text x="{centre}" y="{y}" transform="scale(.1)" textLength="{length}"{weight}>{content}</text>'


def _svg(badge: Badge, width: float, height: int, body: str) -> str:
    text = escape(_clean(badge.text), quote=False).replace('"', "&quot;")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{text}"><title>{text}</title>{body}</svg>\n')


def _clean(text: str) -> str:
    """No control characters (XML forbids most) and no line breaks in a one-line badge."""
    spaced = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Cn", "Zl", "Zp") else ch for ch in text)
    return " ".join(spaced.split())


def _odd_ceiling(width: float) -> int:
    """Round up, then to an odd number as shields does, so centred text sits on the pixel grid."""
    whole = math.ceil(width)
    return whole if whole % 2 else whole + 1


def _short_hash(text: str) -> str:
    """Per-badge ids, so several badges inlined in one HTML page do not share a gradient or clip."""
    return "h" + hashlib.sha256(text.encode()).hexdigest()[:6]
