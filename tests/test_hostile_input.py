"""Hostile text in every user-written field never becomes active markup in build/."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html

from generator.engine.build import build
from conftest import DEMO_NOW, write_site

PAYLOADS = [
    "<script>alert('x')</script>",
    "\"><img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "javascript:alert(1)",
    "<iframe src=javascript:alert(1)></iframe>",
]
HOSTILE = " ".join(PAYLOADS)
YAML_HOSTILE = HOSTILE.replace("'", "''")

SITE = f"""\
site:
  title: '{YAML_HOSTILE}'
  description: '{YAML_HOSTILE}'
  base_url: https://status.example.com/
  links:
    - label: '{YAML_HOSTILE}'
      url: https://example.com/
components:
  - id: api
    name: '{YAML_HOSTILE}'
    description: '{YAML_HOSTILE}'
    group: '{YAML_HOSTILE}'
"""

MARKDOWN_BODY = f"""\
{HOSTILE}

[click me](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<a href="JaVaScRiPt:alert(1)">raw link</a> <a href=" javascript:alert(1)">spaced</a>
<img src="x" onerror="alert(1)"> <div style="background:url(javascript:alert(1))" onclick="alert(1)">div</div>
<form action="https://evil.example/"><input name=a></form> <object data="x.swf"></object>
<style>body{{display:none}}</style> <math><mi xlink:href="javascript:alert(1)">m</mi></math>
"""

INCIDENT = f"""\
---
title: '{YAML_HOSTILE}'
components: [api]
postmortem: |
{chr(10).join('  ' + line for line in MARKDOWN_BODY.splitlines())}
---

## 2026-11-20 10:00 UTC · Investigating
{MARKDOWN_BODY}
"""

ACTIVE_TAGS = {"script", "iframe", "object", "embed", "form", "input", "style", "math", "base", "meta-refresh"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
# The one page allowed a script and a style: the iframe widget, and only with the theme's own files.
THEME = Path(__file__).resolve().parent.parent / "templates"
EMBED_PAGE = "embed/index.html"
EMBED_KNOWN = {"script": (THEME / "embed/frame.js").read_text(), "style": (THEME / "embed/embed.css").read_text()}


def allowed_active(where: str, element, tag: str) -> bool:
    """schema.org data (inert JSON that cannot close its element) anywhere; the embed's known script and style."""
    text = element.text or ""
    if element.get("src") is not None:
        return False
    if tag == "script" and (element.get("type") or "").lower() == "application/ld+json":
        try:
            json.loads(text)
        except ValueError:
            return False
        return "<" not in text
    return where == EMBED_PAGE and tag in EMBED_KNOWN and text == EMBED_KNOWN[tag]


def active_markup(build_dir: Path) -> list[str]:
    found = []
    for html_file in build_dir.rglob("*.html"):
        tree = lxml.html.fromstring(html_file.read_bytes())
        where = html_file.relative_to(build_dir)
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            tag = element.tag.lower()
            if tag in ACTIVE_TAGS and not allowed_active(where.as_posix(), element, tag):
                found.append(f"{where}: <{tag}>")
            if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
                found.append(f"{where}: meta refresh")
            for name, value in element.attrib.items():
                name = name.lower()
                if name.startswith("on"):
                    found.append(f"{where}: <{tag} {name}>")
                if name == "style" and tag not in ("svg",):
                    found.append(f"{where}: <{tag} style>")
                if name in URL_ATTRIBUTES or name.endswith("href"):
                    scheme = urlsplit("".join(value.split()).lower()).scheme
                    if scheme not in ("", "http", "https", "mailto"):
                        found.append(f"{where}: <{tag} {name}={value!r}>")
    return found


def test_hostile_text_never_becomes_active_markup(tmp_path):
    root = write_site(tmp_path / "site", SITE, {"2026-11-20-hostile.md": INCIDENT})
    build(root, now=DEMO_NOW)
    output = root / "build"
    assert active_markup(output) == []
    # The text is still shown, harmlessly, where the user wrote it.
    index = lxml.html.fromstring((output / "index.html").read_bytes())
    assert "<script>alert('x')</script>" in index.xpath("//title")[0].text_content()
    incident = lxml.html.fromstring((output / "incidents/2026-11-20-hostile/index.html").read_bytes())
    assert "<script>alert('x')</script>" in incident.xpath("//h1")[0].text_content()
    # schema.org data carries the text too, escaped so that it cannot end its script element.
    data = json.loads(incident.xpath("//script[@type='application/ld+json']")[0].text)
    assert "<script>alert('x')</script>" in data["headline"]
    embed = lxml.html.fromstring((output / EMBED_PAGE).read_bytes())
    assert "<script>alert('x')</script>" in embed.xpath("//title")[0].text_content()
    for other in ("robots.txt", "sitemap.xml"):
        assert "<script" not in (output / other).read_text()


def test_detector_catches_active_markup(tmp_path):
    """The check above must be able to fail."""
    (tmp_path / "index.html").write_text('<p><a href=" JavaScript:x">a</a><img src=x onerror=y><script></script></p>')
    assert len(active_markup(tmp_path)) == 3


def test_detector_allows_only_inert_data_and_the_known_embed_script(tmp_path):
    known_script, known_style = EMBED_KNOWN["script"], EMBED_KNOWN["style"]
    (tmp_path / "embed").mkdir()
    (tmp_path / EMBED_PAGE).write_text(f"<head><style>{known_style}</style></head><body><script>{known_script}</script>"
                                       '<script type="application/ld+json">{"a": "\\u003c/script\\u003e"}</script></body>')
    assert active_markup(tmp_path) == []
    (tmp_path / "index.html").write_text(  # the same script elsewhere, a changed one, JSON that breaks out
        f"<script>{known_script}</script>"
        f"<script>{known_script} alert(1)</script>"
        '<script type="application/ld+json">{"a": "</script><script>alert(1)//"}</script>'
        '<script type="application/ld+json">alert(1)</script>'
        '<script type="application/ld+json" src="https://evil.example/x.js"></script>')
    assert len([f for f in active_markup(tmp_path) if f.startswith("index.html")]) >= 5
