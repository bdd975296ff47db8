"""A site's own templates: kept between builds as the built-in theme's pages are, and never stale.

A page kept by a rebuild is keyed by its templates' bytes, from whichever folder each comes
(the site's templates/ or the theme), and by what its context holds; a template that asks a kept
page for something its key does not cover stops the build with a located error.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from clirun import invoke

from generator.engine.build import CACHE_DIR, build, render_changed
from generator.engine.fingerprint import default_theme_dir
from generator.engine.inputs import read_inputs
from generator.engine.reuse import KEEP, Ledger

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def _site(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "site.yaml").write_text(
        "site:\n  title: Own theme\n  base_url: https://status.example/\n  timezone: UTC\n"
        "components:\n  - id: api\n    name: API\n  - id: web\n    name: Website\n", encoding="utf-8")
    incidents = root / "incidents"
    incidents.mkdir()
    for number in range(6):
        day = NOW - timedelta(days=2 * number + 1)
        (incidents / f"{day:%Y-%m-%d}-trouble-{number}.md").write_text(
            f"---\ntitle: Trouble {number}\nimpact: major\ncomponents: [{('api', 'web')[number % 2]}]\n---\n\n"
            f"## {day:%Y-%m-%d} 11:00 UTC · Resolved\nFixed.\n\n"
            f"## {day:%Y-%m-%d} 10:00 UTC · Investigating\nLooking.\n", encoding="utf-8")
    (incidents / f"{NOW:%Y-%m-%d}-open.md").write_text(
        "---\ntitle: Still open\nimpact: minor\ncomponents: [api]\n---\n\n"
        f"## {NOW:%Y-%m-%d} 09:00 UTC · Identified\nA cause is known.\n", encoding="utf-8")
    return root


def _override(site: Path, name: str, edit=lambda text: text) -> None:
    """templates/NAME: the theme's own, changed by `edit`."""
    target = site / "templates" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    theme = (default_theme_dir() / name).read_text(encoding="utf-8")
    edited = edit(theme)
    assert edited != theme or edit("x") == "x", f"the edit of {name} found nothing to change"
    target.write_text(edited, encoding="utf-8")


def _with_own_templates(site: Path) -> None:
    """An incident page of the site's own that includes a note of its own; its own incident list."""
    _override(site, "incident.html", lambda text: text.replace(
        "<h2>{{ _(\"Updates\") }}</h2>", '{% include "_team_note.html" %}\n  <h2>{{ _("Updates") }}</h2>'))
    _override(site, "_incident_list.html", lambda text: text.replace(
        '<ul class="history-list">', '<ul class="history-list own-list">'))
    (site / "templates" / "_team_note.html").write_text(
        '<p class="team-note">Questions? Ask the platform team.</p>\n', encoding="utf-8")


def _outputs(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _same_as_clean(site: Path, now: datetime, tmp_path: Path) -> None:
    build(site, now=now)
    clean = tmp_path / f"clean-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build", CACHE_DIR))
    build(clean, now=now)
    incremental, fresh = _outputs(site / "build"), _outputs(clean / "build")
    assert incremental.keys() == fresh.keys()
    assert [path for path in fresh if incremental[path] != fresh[path]] == []


def test_a_site_with_its_own_templates_rebuilds_nothing_when_nothing_changed(tmp_path):
    site = _site(tmp_path / "site")
    _with_own_templates(site)
    build(site, now=NOW)
    page = (site / "build" / "incidents" / f"{NOW:%Y-%m-%d}-open" / "index.html").read_text(encoding="utf-8")
    assert "Ask the platform team" in page
    reusable = Ledger.check(site / CACHE_DIR, site / "build").reusable
    outputs = render_changed(read_inputs(site, now=NOW), reusable)
    rendered = sorted(path for path in outputs.keys if outputs.files[path] is not KEEP)
    assert rendered == []
    assert sum(path.startswith("incidents/") for path in reusable) == 7
    assert sum(path.startswith("components/") and path.endswith("index.html") for path in reusable) == 2


def test_editing_a_template_the_site_includes_renders_exactly_the_pages_using_it(tmp_path):
    site = _site(tmp_path / "site")
    _with_own_templates(site)
    build(site, now=NOW)
    (site / "templates" / "_team_note.html").write_text('<p class="team-note">Ask #platform.</p>\n', encoding="utf-8")
    reusable = Ledger.check(site / CACHE_DIR, site / "build").reusable
    outputs = render_changed(read_inputs(site, now=NOW), reusable)
    rendered = {path for path in outputs.keys if outputs.files[path] is not KEEP}
    assert rendered == {path for path in outputs.keys if path.startswith("incidents/")}
    _same_as_clean(site, NOW, tmp_path)
    page = (site / "build" / "incidents" / f"{NOW:%Y-%m-%d}-open" / "index.html").read_text(encoding="utf-8")
    assert "Ask #platform." in page and "platform team" not in page


@pytest.mark.parametrize("templates", ["theme", "own", "dynamic include"])
def test_equal_keys_mean_equal_pages_with_any_templates(tmp_path, templates):
    """Across `now`, an incident's own progress and edits, equal keys give equal bytes."""
    site = _site(tmp_path / "site")
    if templates != "theme":
        _with_own_templates(site)
    if templates == "dynamic include":  # cannot be followed: those pages are rendered every time
        _override(site, "history.html", lambda text: text.replace(
            "<h1>{{ _(\"Incident history\") }}</h1>", '{% set note = "_team_note.html" %}{% include note %}<h1>{{ _("Incident history") }}</h1>'))
    seen: dict[str, dict[str, bytes]] = {}
    compared = 0
    moments = [NOW, NOW + timedelta(minutes=1), NOW + timedelta(hours=3), NOW]
    for step, now in enumerate(moments):
        if step == 3:
            opened = site / "incidents" / f"{NOW:%Y-%m-%d}-open.md"
            opened.write_text(opened.read_text(encoding="utf-8").replace("A cause is known.", "Fixing."),
                              encoding="utf-8")
        outputs = render_changed(read_inputs(site, now=now), {})
        for path, key in outputs.keys.items():
            earlier = seen.setdefault(path, {}).setdefault(key, outputs.files[path])
            compared += earlier is not outputs.files[path]
            assert earlier == outputs.files[path], path
    assert compared > 20
    history_keyed = any(path.startswith("history/") for path in seen)
    assert history_keyed == (templates != "dynamic include")


def test_a_kept_page_that_shows_now_stops_the_build_at_its_line(tmp_path):
    site = _site(tmp_path / "site")
    build(site, now=NOW)
    before = _outputs(site / "build")
    _override(site, "incident.html", lambda text: text.replace(
        "<h2>{{ _(\"Updates\") }}</h2>", '<p>As of {{ now | localtime }}</p>\n  <h2>{{ _("Updates") }}</h2>'))
    line = 1 + (site / "templates" / "incident.html").read_text(encoding="utf-8").split("As of")[0].count("\n")
    result = invoke("build", "--now", "2026-11-23T12:00:00Z", cwd=site)
    assert result.code == 1
    assert f"templates/incident.html:{line}:" in (result.stdout + result.stderr)
    assert "`now` cannot be shown on a page kept between builds" in (result.stdout + result.stderr)
    assert "Traceback" not in (result.stdout + result.stderr)
    assert _outputs(site / "build") == before  # the last good page stays


def test_a_kept_page_cannot_read_what_its_key_does_not_cover(tmp_path):
    """The page's overall status changes with every check run; an incident page that showed it
    would be stale. It is not in the incident page's context, and saying so beats a stale page."""
    site = _site(tmp_path / "site")
    _override(site, "incident.html", lambda text: text.replace(
        "<h2>{{ _(\"Updates\") }}</h2>", '<p>{{ status.description }}</p>\n  <h2>{{ _("Updates") }}</h2>'))
    result = invoke("build", "--now", "2026-11-23T12:00:00Z", cwd=site)
    assert result.code == 1
    assert "templates/incident.html:" in (result.stdout + result.stderr) and "status" in (result.stdout + result.stderr)
    assert "Traceback" not in (result.stdout + result.stderr)


def test_the_front_page_may_still_show_now(tmp_path):
    site = _site(tmp_path / "site")
    _override(site, "index.html", lambda text: text.replace(
        "{% block main %}", "{% block main %}<p class=\"own-clock\">{{ now | isotime }}</p>", 1))
    build(site, now=NOW)
    assert '<p class="own-clock">2026-11-23T12:00:00Z</p>' in (site / "build" / "index.html").read_text(encoding="utf-8")


def test_init_writes_one_override_and_the_theme_command_copies_any_other(tmp_path):
    assert invoke("init", "site", cwd=tmp_path).code == 0
    site = tmp_path / "site"
    assert [p.name for p in (site / "templates").iterdir()] == ["_site_footer.html"]
    listed = invoke("theme", cwd=site).stdout.splitlines()
    assert "incident.html" in listed and "assets/style.css" in listed
    assert "_site_footer.html            yours: templates/_site_footer.html" in listed

    assert invoke("theme", "incident.html", cwd=site).code == 0
    assert (site / "templates" / "incident.html").read_bytes() == (default_theme_dir() / "incident.html").read_bytes()
    assert any(line.startswith("incident.html") and "will not follow upgrades" in line
               for line in invoke("theme", cwd=site).stdout.splitlines())
    refused = invoke("theme", "incident.html", cwd=site)
    assert refused.code == 1 and "pass --force" in refused.stderr
    unknown = invoke("theme", "incidnt.html", cwd=site)
    assert unknown.code == 1 and 'did you mean "incident.html"' in unknown.stderr
    assert invoke("build", cwd=site).code == 0


def test_the_footer_override_shows_on_every_page_and_follows_an_edit(tmp_path):
    assert invoke("init", "site", cwd=tmp_path).code == 0
    site = tmp_path / "site"
    (site / "templates" / "_site_footer.html").write_text('<p class="own-footer">Call us</p>\n', encoding="utf-8")
    assert invoke("build", cwd=site).code == 0
    pages = sorted((site / "build").rglob("*.html"))
    pages = [p for p in pages if "embed" not in p.parts]
    assert pages and all('<p class="own-footer">Call us</p>' in p.read_text(encoding="utf-8") for p in pages)
    (site / "templates" / "_site_footer.html").write_text('<p class="own-footer">Mail us</p>\n', encoding="utf-8")
    assert invoke("build", cwd=site).code == 0
    assert all('<p class="own-footer">Mail us</p>' in p.read_text(encoding="utf-8") for p in pages)
