"""Reading built pages the way a reader (or a crawler) would."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import lxml.html


def page(build: Path, relative: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((build / relative).read_bytes())


def text(element) -> str:
    return " ".join(element.text_content().split())


def texts(tree, xpath: str) -> list[str]:
    return [text(e) for e in tree.xpath(xpath)]


def broken_links(build: Path) -> list[str]:
    """Every relative link or asset in every page that does not lead to a file in the build."""
    broken = []
    for html_file in build.rglob("*.html"):
        if html_file.name == "404.html":
            continue  # served at any path, so it links by absolute path; checked separately
        tree = lxml.html.fromstring(html_file.read_bytes())
        for element, attribute, link, _ in tree.iterlinks():
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("#", "mailto:")):
                continue
            target = (html_file.parent / parts.path).resolve()
            if not target.is_file():
                broken.append(f"{html_file.relative_to(build)}: {link}")
    return broken
