"""The embeddable status: embed/index.html for an <iframe>, embed/status.js for a <script> tag.

Both show the same compact box (templates/embed/embed.css). The iframe page is static; its one
small inline script (templates/embed/frame.js) only reads the iframe's own query string to pick
components and a theme, and a Content-Security-Policy with the hashes of exactly that script and
style forbids anything else, including any request to another origin. User text only ever
appears as escaped HTML text, never inside a script or a style.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Callable, Mapping

import jinja2
from markupsafe import Markup

from generator.render.environment import render_page
from generator.render.i18n import WIDGET_MESSAGES
from generator.status.model import COMPONENT_STATUS_LABELS, INDICATOR_DESCRIPTIONS, outdated_from

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs

STYLE_FILE = "embed/embed.css"
FRAME_SCRIPT_FILE = "embed/frame.js"
WIDGET_SCRIPT_FILE = "embed/status.js"
CSS_PLACEHOLDER = '"__HELIOGRAPH_CSS__"'
WORDS_PLACEHOLDER = '"__HELIOGRAPH_WORDS__"'
LANGUAGES_PLACEHOLDER = '"__HELIOGRAPH_LANGUAGES__"'


def theme_file(env: jinja2.Environment, name: str) -> str:
    """A file of the theme, read as it is (a site's own templates/ wins, as for templates)."""
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return source


def csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def render_embed(env: jinja2.Environment, inputs: BuildInputs,
                 languages: Mapping[str, jinja2.Environment] | None = None) -> dict[str, bytes]:
    """The iframe page once per language of the site's pages (`languages`: tag -> its environment,
    the first being `env`), each in that language's folder (de/embed/index.html); and one script
    widget that carries every language's words."""
    languages = languages or {inputs.site.info.language: env}
    style = theme_file(env, STYLE_FILE)
    frame_script = theme_file(env, FRAME_SCRIPT_FILE)
    files = {}
    for tag, language_env in languages.items():
        files[inputs.site.info.language_prefix(tag) + "embed/index.html"] = render_page(
            language_env, "embed.html", "embed/index.html", status=inputs.status, now=inputs.now,
            outdated_from=outdated_from(inputs.now),
            style=Markup(style), style_hash=csp_hash(style),
            script=Markup(frame_script), script_hash=csp_hash(frame_script))
    files["embed/status.js"] = widget_script(env, style, languages).encode("utf-8")
    return files


def widget_words(gettext: Callable[[str], str], direction: str = "ltr") -> dict[str, str]:
    """The widget's words in the site's language: its messages, each status label ("s:<status>") and
    each overall description ("i:<indicator>"); api/status.json, which it reads, says them in English.
    "dir" is "rtl" for a right-to-left language, whose box is laid out mirrored."""
    words = {message: message for message in WIDGET_MESSAGES}
    words |= {f"s:{status}": label for status, label in COMPONENT_STATUS_LABELS.items()}
    words |= {f"i:{key}": text for key, text in INDICATOR_DESCRIPTIONS.items()}
    # Only what differs from the English the script and api/status.json already hold: an English
    # site's widget carries none, and every site's stays small.
    translated = {key: gettext(message) for key, message in words.items() if gettext(message) != message}
    return translated | ({"dir": "rtl"} if direction == "rtl" else {})


def _script_json(value: object, ascii_only: bool = True) -> str:
    # Escaped like JSON in HTML, so the script stays valid even if pasted inline into a page.
    return json.dumps(value, ensure_ascii=ascii_only).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _words_of(env: jinja2.Environment) -> dict[str, str]:
    language = env.globals.get("language")
    if language is None:
        return widget_words(lambda text: text)
    return widget_words(language.translations.gettext, language.direction)


def widget_script(env: jinja2.Environment, style: str,
                  languages: Mapping[str, jinja2.Environment] | None = None) -> str:
    """embed/status.js: the theme's script with its styles, the first language's words (WORDS) and,
    for `data-lang`, every language's folder and words ({tag: {"prefix", "words"}}; the first
    language's words are WORDS, not repeated)."""
    source = theme_file(env, WIDGET_SCRIPT_FILE)
    if CSS_PLACEHOLDER not in source:
        raise ValueError(f"{WIDGET_SCRIPT_FILE} must contain {CSS_PLACEHOLDER} where its styles go")
    site = env.globals["site"]
    first = site.page_languages[0]
    choices: dict[str, dict[str, object]] = {first: {"prefix": ""}}
    for tag, language_env in (languages or {}).items():
        if tag != first:
            choices[tag] = {"prefix": site.language_prefix(tag), "words": _words_of(language_env)}
    # A theme's own status.js from before the widget spoke other languages has no placeholders:
    # it stays in English.
    source = source.replace(WORDS_PLACEHOLDER, _script_json(_words_of(env), ascii_only=False), 1)
    source = source.replace(LANGUAGES_PLACEHOLDER, _script_json(choices, ascii_only=False), 1)
    return source.replace(CSS_PLACEHOLDER, _script_json(style), 1)
