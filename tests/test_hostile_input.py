"""Hostile text in every user-written field never becomes active markup in build/."""

from pathlib import Path
from urllib.parse import urlsplit

import lxml.html

from generator.build import build
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


def active_markup(build_dir: Path) -> list[str]:
    found = []
    for html_file in build_dir.rglob("*.html"):
        tree = lxml.html.fromstring(html_file.read_bytes())
        where = html_file.relative_to(build_dir)
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            tag = element.tag.lower()
            if tag in ACTIVE_TAGS:
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
    for other in ("robots.txt", "sitemap.xml"):
        assert "<script" not in (output / other).read_text()


def test_detector_catches_active_markup(tmp_path):
    """The check above must be able to fail."""
    (tmp_path / "index.html").write_text('<p><a href=" JavaScript:x">a</a><img src=x onerror=y><script></script></p>')
    assert len(active_markup(tmp_path)) == 3
