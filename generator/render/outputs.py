"""Everything read outside the page itself: badges, feeds, the calendar, the APIs, llms.txt, the
embeddable widget and the _headers that let other origins read them. One module per family;
each is a pure function of the build inputs returning {relative path: bytes}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import jinja2

from generator.render.api import render_api
from generator.render.badges import render_badges
from generator.render.embed import render_embed
from generator.render.feeds import render_feeds
from generator.render.headers import render_headers
from generator.render.ics import render_calendar
from generator.render.llms import render_llms
from generator.render.openapi import render_openapi
from generator.engine.reuse import Outputs
from generator.render.statuspage import render_statuspage

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs


def render_outputs(env: jinja2.Environment, inputs: BuildInputs, outputs: Outputs,
                   languages: Mapping[str, jinja2.Environment] | None = None) -> None:
    """`env` is the site's first language's; `languages` has an environment for each language the
    pages are built in (site.info.page_languages, the first being `env`), for the outputs that
    follow the reader's choice of language (the embed and the script widget)."""
    for family in (render_statuspage, render_headers):
        outputs.add(family(inputs))
    outputs.add(render_llms(inputs, env.globals.get("language")))
    render_openapi(inputs, outputs)
    render_calendar(inputs, outputs, env.globals.get("language"))
    render_api(inputs, outputs)
    render_badges(inputs, outputs, env.globals.get("language"))
    render_feeds(inputs, outputs, env.globals.get("language"))
    outputs.add(render_embed(env, inputs, languages))
