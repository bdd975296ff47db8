"""The Markdown fast path gives exactly what Python-Markdown gives, or steps aside."""

from __future__ import annotations

import random

import markdown
import nh3
import pytest

from generator.site import markup

PIECES = [
    "We", "are", "looking", "into", "it", " ", " ", " ", "  ", ".", ",", ";", ":", "!", "?", "'", '"', "(", ")",
    "-", "--", "/", "/v1/*", "%", "+", "=", "@", "$", "5xx", "503", "1.", "2)", "é", "ü", "—", "–", "…", "’", "€",
    "**", "*", "`", "[", "]", "(", "https://x.example/a?b=c#d", "_", "__", "&", "<", ">", "\\", "#", "##", ">",
    "**bold**", "*em*", "`code`", "`a b`", "` x `", "[link](https://status.example/)", "[a b](/x)",
    "**two words**", "*two words*", "** x**", "**x **", "*x *", "[x](y z)", "![i](/x.png)", "\n", "\n", "\n\n",
    "\n\n\n", "\n    ", "\n- ", "\n1. ", "\n> ", "\n# ", "\n===", "\n---", "\t", "  \n", "foo**bar**baz",
    "a*b*c", "`*x*`", "`_x_`", "\u00a0", "|", "~~~", "```",
    "\n\n- ", "\n\n- ", "\n\n- item", "\n- item", "\n  - nested", "\n\n* ", "\n\n+ ", "\n-", "\n\n-  ",
]


def _texts(count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14))).strip("\n")


def test_fast_path_matches_python_markdown():
    full = markdown.Markdown(extensions=list(markup.EXTENSIONS), output_format="html")
    plain = markdown.Markdown()
    accepted = lists = 0
    for text in _texts(20000, 7):
        fast = markup._fast_markdown(text) if text else None
        if fast is None:
            continue
        accepted += 1
        lists += "<ul>" in fast
        if "<a " not in fast:  # render_markdown returns these as they are: sanitizing changes nothing
            assert markup.sanitize_html(fast) == fast, text
        assert fast == full.reset().convert(text), text
        assert fast == plain.reset().convert(text), text
    assert accepted > 500 and lists > 50  # the generator does reach the fast path, lists too


URL_PIECES = [
    "https://", "http://", "HTTPS://", "ftp://", "javascript:", "mailto:", "//", "/", "", "a", "x.example", "status",
    ".", "..", "-", "xn--", "XN--ab", "999", "1.2.3.4", "256", "0", ":", ":8080", ":99999", ":0", "?", "=", "&", "#",
    "%", "%zz", "%41", "_", "~", "+", "a_b", "é", "[", "]", "@", "example.com", "localhost", "v1", "/x", "/v1/api",
]


def _links(count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        url = rng.choice(("https://", "http://", "/", "")) + "".join(rng.choice(URL_PIECES) for _ in range(rng.randint(1, 6)))
        yield f"See [the status]({url}) and **more**." if rng.random() < 0.8 else f"[a]({url}) [b](https://x.example/{url})"


def test_fast_links_are_what_the_sanitizer_makes_of_them():
    """render_markdown adds rel to the fast path's links itself instead of calling nh3: it must
    give nh3's bytes exactly, and step aside for any URL nh3 would change or drop."""
    kept = dropped = 0
    for text in _links(20000, 3):
        fast = markup._fast_markdown(text)
        if fast is None or "<a " not in fast:
            continue
        expected = markup.sanitize_html(fast)
        assert markup.render_markdown(text) == expected, text
        if markup._sanitized_fast_links(fast) is not None:
            kept += 1
        dropped += "<a rel=" in expected
    assert kept > 1000 and dropped > 1000  # both the shortcut and the sanitizer's own path were taken


@pytest.mark.parametrize("text", [
    "We are looking into **elevated 5xx rates** on `/v1/api`; some requests [fail](https://x.example/).",
    "Resolved.\n\nThe fix is deployed.\nError rates are back to normal.",
    "* a list", "# heading", "a & b", "<b>x</b>", "snake_case", "line  \nbreak",
    "What we know:\n\n- requests to `/v1` time out\n- retries **succeed**\n\nMore soon.",
    "- one\n\n- two", "- one\n  continued", "- one\n- two\ntext",
])
def test_rendered_html_is_unchanged(text):
    html = markdown.markdown(text, extensions=list(markup.EXTENSIONS), output_format="html")
    html = html.replace("<h1", "<h3").replace("</h1>", "</h3>").replace("<h2", "<h4").replace("</h2>", "</h4>")
    assert markup.render_markdown(text) == markup.sanitize_html(html)
    assert markup.plain_text(text) == nh3.clean(markdown.markdown(text), tags=set()).strip()


def test_plain_text_of_rendered_html_matches_a_real_sanitizer():
    """text.plain_from_html cuts tags out of entity-free HTML; nh3 must agree on every kind of
    HTML render_markdown makes (fast path, Python-Markdown, links, lists, tables, code)."""
    import html as html_module

    from generator.site.text import plain_from_html

    compared = 0
    for text in _texts(5000, 11):
        rendered = markup.render_markdown(text) if text else ""
        expected = html_module.unescape(nh3.clean(rendered, tags=set()).strip())
        assert plain_from_html(rendered) == expected, text
        compared += "&" not in rendered and "<" in rendered
    assert compared > 1000
