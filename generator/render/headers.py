"""_headers: response headers for Cloudflare Pages and Netlify (other static hosts ignore the file).

What is read from other origins (the API, badges, feeds, the calendar, the widget) is served with
`Access-Control-Allow-Origin: *`, its exact content type and a short cache lifetime, so a page
that embeds the widget or a dashboard that polls the API sees news within a minute.

Both hosts apply every rule whose path matches, and Cloudflare joins a header set by two rules
with a comma ("*, *" is invalid), so no two rules here set the same header on the same path.
Rules use only exact paths and a trailing splat, which both hosts support; Cloudflare allows
100 rules, so the count does not grow with the number of components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.engine.inputs import BuildInputs

CORS = ("Access-Control-Allow-Origin", "*")
FRESH = ("Cache-Control", "public, max-age=60")
BADGE_CACHE = ("Cache-Control", "public, max-age=300")  # what shields and GitHub's image proxy cache anyway


@dataclass(frozen=True)
class Rule:
    """The headers a static host sends for the files at one path of _headers."""

    path: str  # relative to the site root; may end with "*"
    headers: tuple[tuple[str, str], ...]


def _typed(path: str, content_type: str) -> Rule:
    return Rule(path, (CORS, ("Content-Type", content_type), FRESH))


RULES = (
    Rule("*", (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "strict-origin-when-cross-origin"))),
    Rule("api/*", (CORS, FRESH)),
    Rule("badges/*", (CORS, BADGE_CACHE)),
    Rule("embed/*", (CORS, FRESH)),
    # Component pages and their feeds: the feeds need CORS and freshness; the pages do no harm with them.
    Rule("components/*", (CORS, FRESH)),
    _typed("feed.json", "application/feed+json; charset=utf-8"),
    _typed("feed.atom", "application/atom+xml; charset=utf-8"),
    _typed("feed.rss", "application/rss+xml; charset=utf-8"),
    _typed("history.atom", "application/atom+xml; charset=utf-8"),
    _typed("history.rss", "application/rss+xml; charset=utf-8"),
    _typed("maintenance.ics", "text/calendar; charset=utf-8"),
    _typed("llms.txt", "text/plain; charset=utf-8"),
    # Under a splat that already allows CORS: only the type is added here.
    Rule("api/history.csv", (("Content-Type", "text/csv; charset=utf-8; header=present"),)),
    Rule("api/openapi.json", (("Content-Type", "application/json; charset=utf-8"),)),
    Rule("embed/status.js", (("Content-Type", "text/javascript; charset=utf-8"),)),
)


def render_headers(inputs: BuildInputs) -> dict[str, bytes]:
    prefix = inputs.site.info.base_path  # "/" at a host's root, "/status/" under a sub-path
    blocks = ["# Response headers for Cloudflare Pages and Netlify, written by Heliograph."]
    for rule in RULES:
        lines = [prefix + rule.path] + [f"  {name}: {value}" for name, value in rule.headers]
        blocks.append("\n".join(lines))
    return {"_headers": ("\n\n".join(blocks) + "\n").encode("utf-8")}
