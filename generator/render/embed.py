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
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from generator.render.environment import render_page

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs

STYLE_FILE = "embed/embed.css"
FRAME_SCRIPT_FILE = "embed/frame.js"
WIDGET_SCRIPT_FILE = "embed/status.js"
CSS_PLACEHOLDER = '"__HELIOGRAPH_CSS__"'


def theme_file(env: jinja2.Environment, name: str) -> str:
    """A file of the theme, read as it is (a site's own templates/ wins, as for templates)."""
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return source


def csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def render_embed(env: jinja2.Environment, inputs: BuildInputs) -> dict[str, bytes]:
    style = theme_file(env, STYLE_FILE)
    frame_script = theme_file(env, FRAME_SCRIPT_FILE)
    page = render_page(env, "embed.html", "embed/index.html", status=inputs.status, now=inputs.now,
                       style=Markup(style), style_hash=csp_hash(style),
                       script=Markup(frame_script), script_hash=csp_hash(frame_script))
    return {"embed/index.html": page, "embed/status.js": widget_script(env, style).encode("utf-8")}


def widget_script(env: jinja2.Environment, style: str) -> str:
    source = theme_file(env, WIDGET_SCRIPT_FILE)
    if CSS_PLACEHOLDER not in source:
        raise ValueError(f"{WIDGET_SCRIPT_FILE} must contain {CSS_PLACEHOLDER} where its styles go")
    # Escaped like JSON in HTML, so the script stays valid even if pasted inline into a page.
    css = json.dumps(style).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return source.replace(CSS_PLACEHOLDER, css, 1)
