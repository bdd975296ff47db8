"""User-written Markdown to HTML that is safe to put in a page, a feed or an API."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    import markdown

# Only what incident prose needs; no scripts, styles, forms, frames or event handlers survive.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "summary", "em", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}


EXTENSIONS = ("fenced_code", "tables", "sane_lists")
_converters = threading.local()  # a Markdown instance is not thread-safe, and costly to build per call


def _converter(name: str) -> markdown.Markdown:
    converter = getattr(_converters, name, None)
    if converter is None:
        import markdown  # only for prose the fast path below cannot take: 18 ms to import
        converter = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html") if name == "full" else markdown.Markdown()
        setattr(_converters, name, converter)
    return converter.reset()


# --- a fast path for the prose most updates are: paragraphs of plain text with **strong**,
# *emphasis*, `code` and [links](url). It gives exactly what Python-Markdown gives for such text
# (tests/test_markup.py compares the two on many generated texts); anything else, or anything
# in doubt, goes the slow way. Python-Markdown costs ~0.2 ms an update, this a few microseconds.
_TEXT = r"[A-Za-z0-9 ,.;:'\"?!()/%+=@$\u00c0-\u017f\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u20ac-]"
_EDGE = r"[A-Za-z0-9,.;:'\"?!()/%+=@$\u00c0-\u017f\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u20ac-]"
_SPAN = rf"{_EDGE}(?:{_TEXT}*{_EDGE})?"
_TOKEN = re.compile(
    rf"(?P<text>{_TEXT}+)"
    rf"|\*\*(?P<strong>{_SPAN})\*\*(?!\*)"
    rf"|\*(?P<em>{_SPAN})\*(?!\*)"
    r"|`(?P<code>[^`\n&<>\\]+)`(?!`)"
    rf"|\[(?P<label>{_SPAN})\]\((?P<url>[A-Za-z0-9:/._~%?=#+-]+)\)"
)
_LINE_START = re.compile(r"[A-Za-z\"'(\[`\u00c0-\u017f]|\*\*[^*\s]")


def _fast_markdown(text: str) -> str | None:
    """Python-Markdown's HTML for simple prose, or None when the text is not simple enough.

    Blocks (split at blank lines) are paragraphs of simple lines, or lists whose every line is
    a "- " item of simple text on one line: what updates saying "What we know:" are made of."""
    blocks = []
    for block in re.split(r"\n\n+", text):
        lines = block.split("\n")
        if lines[0].startswith("- "):
            if blocks and blocks[-1].startswith("<ul>"):
                return None  # items apart by a blank line: one "loose" list, with <p> in its items
            items = []
            for line in lines:
                inline = _fast_inline(line[2:]) if line.startswith("- ") else None
                if inline is None:
                    return None
                items.append(f"<li>{inline}</li>")
            blocks.append("<ul>\n" + "\n".join(items) + "\n</ul>")
            continue
        rendered = []
        for line in lines:
            inline = _fast_inline(line)
            if inline is None:
                return None
            rendered.append(inline)
        blocks.append("<p>" + "\n".join(rendered) + "</p>")
    return "\n".join(blocks)


def _fast_inline(line: str) -> str | None:
    """One line of simple prose as Python-Markdown renders it, or None."""
    if not line or not _LINE_START.match(line) or line[-1] == " " or "![" in line:
        return None
    parts = []
    position = 0
    for match in _TOKEN.finditer(line):
        if match.start() != position:
            return None
        position = match.end()
        kind = match.lastgroup
        if kind == "text":
            parts.append(match.group())
        elif kind == "strong":
            parts.append(f"<strong>{match['strong']}</strong>")
        elif kind == "em":
            parts.append(f"<em>{match['em']}</em>")
        elif kind == "code":
            code = match["code"]
            if code.strip(" ") != code or "*" in code or "_" in code:
                return None
            parts.append(f"<code>{code}</code>")
        else:
            parts.append(f'<a href="{match["url"]}">{match["label"]}</a>')
    if position != len(line):
        return None
    return "".join(parts)


# Links the sanitizer keeps as they are, only adding `rel`: an http(s) URL whose host the URL
# parser behind nh3 always accepts (no numeric last label, which it reads as an IPv4 address, no
# punycode, a port below 10,000), or a path on this site. tests/test_markup_fast.py checks the claim.
_SAFE_LINK = re.compile(
    r'<a href="(?:https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?::[0-9]{1,4})?(?:[/?#][A-Za-z0-9/._~%?=#+-]*)?'
    r'|/(?:[A-Za-z0-9._~%?=#+-][A-Za-z0-9/._~%?=#+-]*)?)">')
LINK_REL = "nofollow noopener noreferrer"


def _sanitized_fast_links(html: str) -> str | None:
    """The fast path's HTML with links as sanitize_html leaves them, or None if any link is in doubt."""
    if html.count("<a ") != len(_SAFE_LINK.findall(html)) or "xn--" in html.lower():
        return None
    return _SAFE_LINK.sub(lambda link: f'{link.group()[:-1]} rel="{LINK_REL}">', html)


@lru_cache(maxsize=65536)
def render_markdown(text: str) -> str:
    """Markdown -> sanitized HTML. Headings are shifted down so prose never outranks the page's own."""
    html = _fast_markdown(text) if text else None
    if html is not None and "<a " not in html:
        return html  # only <p>, <ul>, <li>, <strong>, <em> and <code> around text with no <, > or &
    if html is not None:  # nh3 would only add rel to its links: 40% of parsing a linked update
        linked = _sanitized_fast_links(html)
        if linked is not None:
            return linked
    if html is None:
        html = _converter("full").convert(text)
        html = html.replace("<h1", "<h3").replace("</h1>", "</h3>").replace("<h2", "<h4").replace("</h2>", "</h4>")
    return sanitize_html(html)


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    )


@lru_cache(maxsize=65536)
def plain_text(text: str) -> str:
    """Markdown -> text with no markup at all, for feeds' summaries and titles."""
    html = _fast_markdown(text) if text else None
    if html is None:
        html = _converter("plain").convert(text)
    return nh3.clean(html, tags=set()).strip()
