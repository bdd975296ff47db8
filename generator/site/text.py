"""Incident prose as plain text, for formats that carry text rather than HTML (JSON, iCalendar,
Markdown, feed summaries). markup.plain_text returns HTML-escaped text ("a &amp; b") for use
inside HTML; these formats escape in their own way, so they need the characters themselves.
"""

from __future__ import annotations

import html
import re

import nh3

from generator.site.markup import plain_text


def plain(markdown_text: str) -> str:
    return html.unescape(plain_text(markdown_text))


_TAG = re.compile(r"<[^>]*>")


def plain_from_html(safe_html: str) -> str:
    """The text of HTML that markup.render_markdown made: no second Markdown pass, which cost a
    third of parsing an incident file. Sanitized HTML with no entities is only tags and text,
    so cutting the tags out is enough (tests/test_markup_fast.py checks it against nh3)."""
    if "&" not in safe_html:
        return _TAG.sub("", safe_html).strip()
    return html.unescape(nh3.clean(safe_html, tags=set()).strip())
