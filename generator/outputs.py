"""Everything read outside the page itself: badges, feeds, the calendar, the APIs, llms.txt, the
embeddable widget and the _headers that let other origins read them. One module per family;
each is a pure function of the build inputs returning {relative path: bytes}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2

from .api import render_api
from .badges import render_badges
from .embed import render_embed
from .feeds import render_feeds
from .headers import render_headers
from .ics import render_calendar
from .llms import render_llms
from .openapi import render_openapi
from .reuse import Outputs
from .statuspage import render_statuspage

if TYPE_CHECKING:
    from .inputs import BuildInputs


def render_outputs(env: jinja2.Environment, inputs: BuildInputs, outputs: Outputs) -> None:
    for family in (render_statuspage, render_llms, render_headers):
        outputs.add(family(inputs))
    render_openapi(inputs, outputs)
    render_calendar(inputs, outputs)
    render_api(inputs, outputs)
    render_badges(inputs, outputs)
    render_feeds(inputs, outputs)
    outputs.add(render_embed(env, inputs))
