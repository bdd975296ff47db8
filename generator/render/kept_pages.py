"""What makes a page safe to keep between builds, whichever templates render it.

A page that a rebuild keeps (an incident's, a component's, a page of the history, and the front
page's lists) is keyed by everything it is made of (`engine.reuse`). Two things make that hold for
a site's own templates as much as for the built-in theme:

- **The templates.** `template_set_key` digests the bytes of the page's template and of every
  template it extends, includes or imports, from whichever folder each one comes (the site's
  `templates/` or the theme), found by reading the templates themselves. A template named by a
  variable (`{% include name %}`) cannot be followed, and its page is then rendered every build.
- **What the template is given.** A kept page's context holds only what its key covers; a
  template that asks for anything else stops the build with a located error, rather than showing
  a value the key missed. The one value given that is not in any key is `now`, as a `KeptPageClock`:
  incidents compare with it (`incident.status_at(now)`, `duration(now)`, whose results are in the
  key), but it cannot be shown.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

import jinja2

from generator.engine.reuse import output_key


class NowNotShownHere(jinja2.TemplateRuntimeError):
    """A kept page tried to show the time of the build."""


_NOT_SHOWN = ("`now` cannot be shown on a page kept between builds (incident, component and history pages, "
              "and the front page's lists of incidents and components): pass it to an incident "
              "(incident.status_at(now), is_open(now), ended_at(now), duration(now)) or show it in index.html")


def _refuse(*_: Any, **__: Any) -> Any:
    raise NowNotShownHere(_NOT_SHOWN)


class KeptPageClock(datetime):
    """The build's time on a kept page: it can be compared with and subtracted from, as incidents
    do to say their status and duration; anything that would show it (formatting, its parts)
    raises NowNotShownHere."""

    @classmethod
    def of(cls, now: datetime) -> KeptPageClock:
        return cls.combine(now.date(), now.timetz())

    strftime = isoformat = ctime = astimezone = timestamp = date = time = timetz = _refuse
    timetuple = utctimetuple = __format__ = __str__ = _refuse
    year = month = day = hour = minute = second = microsecond = property(_refuse)

    def __repr__(self) -> str:  # a debugger or an error message may still show it
        return "KeptPageClock(now)"


class StatusShown(NamedTuple):
    """What a kept page may show of the page's overall status; its key covers it."""

    description: str
    indicator: str
    layout: tuple = ()  # the components and groups, where the key covers them (the front page's list)


# One environment renders one build: each page template's set is read once per build.
_template_keys: WeakKeyDictionary[jinja2.Environment, dict[str, str | None]] = WeakKeyDictionary()


def template_set_key(env: jinja2.Environment, page_template: str) -> str | None:
    """A digest of the names and bytes of `page_template` and every template it uses, from
    wherever the environment loads each one; None if one is named by a variable (its page
    cannot be kept)."""
    known = _template_keys.setdefault(env, {})
    if page_template not in known:
        known[page_template] = _read_template_set(env, page_template)
    return known[page_template]


# The tags that bring in another template. Read from the source text: parsing a page's templates
# with Jinja to find them cost more than the rest of a rebuild's keys. Matching more than Jinja
# would (a tag inside a comment) only adds a template to the key.
_TEMPLATE_TAG = re.compile(r"\{%[-+]?\s*(?:extends|include|import|from)\b(.*?)[-+]?%\}", re.DOTALL)
_LITERAL_NAME = re.compile(r"""\s*(["'])([^"'{}]+)\1""")


def _read_template_set(env: jinja2.Environment, page_template: str) -> str | None:
    sources: dict[str, str | None] = {}
    waiting = [page_template]
    while waiting:
        name = waiting.pop()
        if name in sources:
            continue
        try:
            source, _, _ = env.loader.get_source(env, name)
        except jinja2.TemplateNotFound:
            if name == page_template:
                raise
            sources[name] = None  # `include ... ignore missing`; rendering says if it was not
            continue
        sources[name] = source
        for tag in _TEMPLATE_TAG.finditer(source):
            literal = _LITERAL_NAME.match(tag.group(1))
            if literal is None:
                return None  # named by a variable or a list: cannot be followed
            waiting.append(literal.group(2))
    # The page's words come from its language's catalog too (render.i18n).
    return output_key(sorted(sources.items()), env.globals.get("catalog_key"))
