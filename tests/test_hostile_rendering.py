"""What Heliograph withstands in what it renders: Markdown made to take Python-Markdown super-linear
time is refused with its place and the limit (never a build that runs for minutes), and text
from site.yaml that reaches a feed or a URL stays text.
"""

from __future__ import annotations

import html
from pathlib import Path

import feedparser
import lxml.etree
import lxml.html
import pytest

from clirun import run
from conftest import write_site

NOW = "2026-11-23T12:00:00Z"
HOSTILE_PARAGRAPH = "lorem ipsum *dolor* sit amet "  # emphasis on every line: Python-Markdown's worst case
SITE = """\
site:
  title: Test Status
  base_url: https://status.test.example/
components:
  - id: api
    name: API
"""


def incident(body: str, front: str = "") -> str:
    return ("---\ntitle: A long incident\ncomponents: [api]\n" + front + "---\n\n"
            "## 2026-11-20 14:00 UTC · Resolved\nAll is well.\n\n"
            "## 2026-11-20 13:00 UTC · Investigating\n" + body + "\n")


def built_site(tmp_path: Path) -> Path:
    """A site with one good build, which a failed one must leave as it was."""
    root = write_site(tmp_path / "site", SITE, {"2026-11-19-fine.md": incident("We are looking.")})
    ran = run("build", "--now", NOW, cwd=root)
    assert ran.code == 0, ran.stderr
    return root


def build_files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root / "build").as_posix(): path.read_bytes()
            for path in (root / "build").rglob("*") if path.is_file()}


def test_a_four_megabyte_paragraph_is_refused_with_its_place_and_the_limit(tmp_path):
    root = built_site(tmp_path)
    before = build_files(root)
    text = HOSTILE_PARAGRAPH * (4 * 1024 * 1024 // len(HOSTILE_PARAGRAPH))
    (root / "incidents" / "2026-11-20-long.md").write_text(incident(text))
    kilobytes = -(-(root / "incidents" / "2026-11-20-long.md").stat().st_size // 1024)  # rounded up
    ran = run("build", "--now", NOW, cwd=root, timeout=60)  # rendering it took many minutes
    assert ran.code == 1
    assert f"incidents/2026-11-20-long.md:1:1: error: the file is {kilobytes:,} KB; the limit is 1,024 KB" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert build_files(root) == before


def test_a_long_paragraph_in_a_small_enough_file_is_refused_at_its_line(tmp_path):
    root = write_site(tmp_path / "site", SITE)
    long = HOSTILE_PARAGRAPH * (200 * 1024 // len(HOSTILE_PARAGRAPH))
    (root / "incidents" / "2026-11-20-long.md").write_text(incident("First a short paragraph.\n\n" + long))
    ran = run("validate", "--now", NOW, cwd=root, timeout=60)
    assert ran.code == 1
    # line 12: front matter (4 lines), a blank, the first update (3 with its blank), the heading, the short one, a blank
    assert "incidents/2026-11-20-long.md:12:1: error: this paragraph is 200 KB; the limit is 64 KB" in ran.stderr


def test_a_long_postmortem_paragraph_is_refused_at_its_key(tmp_path):
    # Letters of two bytes each: over the paragraph limit in bytes while the front matter
    # stays under its own limit in characters.
    unit = "ŀøréɱ ïƥšüɱ *ðöłøř* šïŧ åɱéŧ "
    long = unit * (80 * 1024 // len(unit.encode()))
    root = write_site(tmp_path / "site", SITE)
    (root / "incidents" / "2026-11-20-long.md").write_text(incident("Looking.", f"postmortem: '{long}'\n"))
    ran = run("validate", "--now", NOW, cwd=root, timeout=60)
    assert ran.code == 1
    kilobytes = -(-len(long.strip().encode()) // 1024)
    assert f'incidents/2026-11-20-long.md:4:13: error: "postmortem" has a paragraph of {kilobytes} KB; ' \
        "the limit is 64 KB" in ran.stderr


def test_long_updates_in_paragraphs_under_the_limit_still_render(tmp_path):
    paragraph = HOSTILE_PARAGRAPH * (60 * 1024 // len(HOSTILE_PARAGRAPH))
    root = write_site(tmp_path / "site", SITE,
                      {"2026-11-20-long.md": incident("\n\n".join([paragraph.strip()] * 4))})
    ran = run("build", "--now", NOW, cwd=root, timeout=120)
    assert ran.code == 0, ran.stderr
    page = lxml.html.document_fromstring((root / "build/incidents/2026-11-20-long/index.html").read_bytes())
    assert len(page.xpath("//em[text()='dolor']")) == 4 * (60 * 1024 // len(HOSTILE_PARAGRAPH))


HOSTILE_DESCRIPTION = "<script>alert(1)</script> & <b>bold</b>"


def test_the_rss_channel_description_stays_text(tmp_path):
    site = SITE.replace("  base_url:", f"  description: '{HOSTILE_DESCRIPTION}'\n  base_url:")
    root = write_site(tmp_path / "site", site, {"2026-11-20-fine.md": incident("We are looking.")})
    ran = run("build", "--now", NOW, cwd=root)
    assert ran.code == 0, ran.stderr
    for name in ("feed.rss", "history.rss"):  # a component's feed describes itself in its own words
        channel = lxml.etree.fromstring((root / "build" / name).read_bytes()).find("channel")
        shown = channel.findtext("description")  # what a reader takes as HTML, as it does items'
        assert lxml.html.fragment_fromstring(shown, create_parent="div").xpath("//script|//b") == [], name
        assert html.unescape(shown) == HOSTILE_DESCRIPTION, name
        parsed = feedparser.parse((root / "build" / name).read_bytes())
        assert not parsed.bozo
        assert "<script" not in parsed.feed.description and "<b>" not in parsed.feed.description
    atom = feedparser.parse((root / "build/feed.atom").read_bytes())
    assert atom.feed.subtitle == HOSTILE_DESCRIPTION  # Atom says it is text: given as it is


@pytest.mark.parametrize("yaml_value, shown", [  # the value as written in site.yaml; the character as said
    (r'"https://status.test.example/\"onmouseover=\"alert(1)"', """'"'"""),
    (r'"https://status.test.example/<script>"', "'<'"),
    (r'"https://status.test.example/a\nLocation: https://evil.example/"', r"'\n'"),
    (r'"https://status.test.example/a b"', "' '"),
])
def test_a_base_url_with_characters_no_url_has_is_refused_at_its_place(tmp_path, yaml_value, shown):
    root = write_site(tmp_path / "site", SITE.replace("https://status.test.example/", yaml_value))
    ran = run("build", "--now", NOW, cwd=root)
    assert ran.code == 1
    assert f"site.yaml:3:13: error: base_url must not contain {shown}" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (root / "build").exists()
