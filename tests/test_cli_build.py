"""`heliograph build` and its options, in process and as a subprocess."""

from __future__ import annotations

import pytest

from clirun import RUNNERS, child_processes, invoke
from pagetools import page, texts

NOW = ["--now", "2026-11-23T12:00:00Z"]


@pytest.fixture(params=sorted(RUNNERS))
def cli(request):
    return RUNNERS[request.param]


def test_build_with_output_base_url_and_now(cli, demo_copy, tmp_path):
    out = tmp_path / "preview"
    ran = cli("build", "--output", str(out), "--base-url", "https://you.github.io/status", *NOW, cwd=demo_copy)
    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith("Built ") and "written, 0 unchanged, 0 removed)" in ran.stdout
    assert not (demo_copy / "build").exists()
    index = page(out, "index.html")
    assert index.xpath("//link[@rel='canonical']/@href") == ["https://you.github.io/status/"]
    assert index.xpath("//footer//time/@datetime") == ["2026-11-23T12:00:00Z"]
    assert texts(index, "//*[contains(@class, 'banner')]//h1") == ["Minor Service Outage"]
    assert not (out / "CNAME").exists()  # github.io needs none
    again = cli("build", "--output", str(out), "--base-url", "https://you.github.io/status", *NOW, cwd=demo_copy)
    assert "0 written" in again.stdout  # unchanged files are not rewritten


def test_build_from_a_subdirectory_writes_to_the_site_build(demo_copy):
    ran = invoke("build", *NOW, cwd=demo_copy / "incidents")
    assert ran.code == 0, ran.stderr
    assert (demo_copy / "build/index.html").is_file()


def test_bad_options_are_errors(cli, demo_copy):
    ran = cli("build", "--base-url", "status.example.com", cwd=demo_copy)
    assert ran.code == 1
    assert "--base-url: error: 'status.example.com' is not an absolute http(s) URL" in ran.stderr
    ran = cli("build", "--now", "2026-11-23 12:00", cwd=demo_copy)
    assert ran.code == 2 and "not a time with a zone" in ran.stderr


def test_strict_fails_on_warnings(site_root):
    (site_root / "incidents/2026-11-20-x.md").write_text(
        "---\ntitle: x\n---\nA stray line.\n\n## 2026-11-20 14:00 UTC · Resolved\nDone.\n")
    lenient = invoke("build", *NOW, cwd=site_root)
    assert lenient.code == 0
    assert "incidents/2026-11-20-x.md:4:1: warning: text before the first update heading" in lenient.stderr
    strict = invoke("build", "--strict", "--output", str(site_root / "strict"), *NOW, cwd=site_root)
    assert strict.code == 1 and "build failed: 1 problem(s)" in strict.stderr
    assert not (site_root / "strict").exists()


def test_a_broken_incident_fails_the_build_and_keeps_the_last_good_one(cli, demo_copy):
    assert cli("build", *NOW, cwd=demo_copy).code == 0
    before = (demo_copy / "build/index.html").read_bytes()
    path = demo_copy / "incidents/2026-11-23-webhook-delays.md"
    path.write_text(path.read_text().replace("· Identified", "· Identifed"))
    ran = cli("build", *NOW, cwd=demo_copy)
    assert ran.code == 1
    assert ran.stderr.splitlines()[0].startswith(
        "incidents/2026-11-23-webhook-delays.md:8:27: error: unknown status 'Identifed' (did you mean \"identified\"?)")
    assert (demo_copy / "build/index.html").read_bytes() == before


def test_no_colour_without_a_terminal_or_with_no_color(monkeypatch):
    import io

    from generator import cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._colour_enabled(Terminal()) and not cli._colour_enabled(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli._colour_enabled(Terminal())


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_build_that_fails_while_rendering_changes_no_file_and_the_next_removes_what_it_added(demo_copy):
    """New pages are written as they are rendered (NewFileWriter): a failure after some were
    must still leave every existing file as it was, and a later build must not keep a page that
    no input makes any more."""
    from datetime import datetime, timezone

    import jinja2

    from generator.engine.build import build, render_site
    from generator.engine.inputs import read_inputs

    assert invoke("build", *NOW, cwd=demo_copy).code == 0
    before = _files(demo_copy / "build")
    new_incident = demo_copy / "incidents/2026-11-22-new.md"
    new_incident.write_text("---\ntitle: New one\ncomponents: [api]\n---\n\n## 2026-11-22 10:00 UTC · Resolved\nFixed.\n")
    (demo_copy / "templates").mkdir(exist_ok=True)
    history = demo_copy / "templates/history.html"  # rendered after the incident pages
    history.write_text("{{ no_such_thing.at_all() }}")
    now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    with pytest.raises(jinja2.UndefinedError):
        build(demo_copy, now=now)
    after = _files(demo_copy / "build")
    assert (demo_copy / "build/incidents/2026-11-22-new/index.html").is_file()  # it was written, and early
    assert {path: after[path] for path in before if path != ".heliograph-manifest"} == {
        path: content for path, content in before.items() if path != ".heliograph-manifest"}
    history.unlink()
    new_incident.unlink()
    assert invoke("build", *NOW, cwd=demo_copy).code == 0
    assert not (demo_copy / "build/incidents/2026-11-22-new").exists()
    built = _files(demo_copy / "build")
    expected = render_site(read_inputs(demo_copy, now=now))
    assert {path: built[path] for path in expected} == expected


def test_a_mistake_in_the_sites_own_template_is_reported_where_it_is(cli, demo_copy):
    (demo_copy / "templates").mkdir(exist_ok=True)
    (demo_copy / "templates/history.html").write_text('{% extends "base.html" %}\n{% block main %}\n'
                                                      "{{ no_such_thing.at_all() }}\n{% endblock %}\n")
    ran = cli("build", *NOW, cwd=demo_copy)
    assert ran.code == 1
    assert ran.stderr.splitlines()[0] == ("templates/history.html:3: error: template error: UndefinedError: "
                                          "'no_such_thing' is undefined")
    assert "build failed: 1 problem(s); fix them and build again (no file build/ held was changed)" in ran.stderr
    assert "Traceback" not in ran.stderr


@pytest.mark.parametrize("template, line", [("history.html", 3), ("embed.html", 2)])
def test_a_template_mistake_rendered_in_a_forked_worker_is_reported_where_it_is(on_every_core, demo_copy, template,
                                                                                  line):
    """Pages (history.html) are rendered by forked workers: the traceback stays there, but the
    line must not; and one rendered here (embed.html) says its line the same way."""
    import os

    assert invoke("build", *NOW, cwd=demo_copy).code == 0
    (demo_copy / "templates").mkdir(exist_ok=True)
    (demo_copy / "templates" / template).write_text('{% extends "base.html" %}\n{% block main %}\n' * (line == 3)
                                                    + "<p>\n{{ no_such_thing.at_all() }}\n" * (line == 2)
                                                    + "{{ no_such_thing.at_all() }}\n{% endblock %}\n" * (line == 3))
    here, children = os.getpid(), child_processes()
    ran = invoke("build", *NOW, cwd=demo_copy)
    assert os.getpid() == here  # no forked child got past its end
    assert child_processes() == children  # nor was left behind
    assert ran.code == 1
    assert ran.stderr.splitlines()[0] == (f"templates/{template}:{line}: error: template error: UndefinedError: "
                                          "'no_such_thing' is undefined")
    assert "Traceback" not in ran.stderr
