"""A named pipe (or a device) where a file of the site belongs is refused at once, never read:
reading a FIFO with no writer waits forever, and a device may never end."""

from __future__ import annotations

import os

import pytest
from clirun import run
from conftest import write_site

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")


def test_a_pipe_in_site_yaml_s_place_fails_at_once_and_keeps_the_last_build(tmp_path):
    site = write_site(tmp_path / "site")
    built = run("--site", str(site), "build", timeout=60)
    assert built.code == 0, built.stderr
    index = (site / "build" / "index.html").read_bytes()
    (site / "site.yaml").unlink()
    os.mkfifo(site / "site.yaml")
    for command in ("build", "validate", "check"):
        ran = run("--site", str(site), command, timeout=30)  # a hang fails here, after 30 s
        assert ran.code == 1, (command, ran.stderr)
        assert "site.yaml: error: site.yaml is a pipe, device or socket, not a file" in ran.stderr
        assert "Traceback" not in ran.stderr
    assert (site / "build" / "index.html").read_bytes() == index


def test_a_pipe_where_a_history_shard_belongs_is_left_out_and_validate_says_so(tmp_path):
    site = write_site(tmp_path / "site")
    shard = site / "history" / "raw" / "2026" / "12" / "05.jsonl"
    shard.parent.mkdir(parents=True)
    os.mkfifo(shard)
    built = run("--site", str(site), "build", "--now", "2026-12-05T12:00:00Z", timeout=30)
    assert built.code == 0, built.stderr
    ran = run("--site", str(site), "validate", timeout=30)
    assert ran.code == 1
    assert "history/raw/2026/12/05.jsonl: error: left out: this is a pipe, device or socket, not a file" in ran.stderr


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_incident_update_neither_reads_nor_writes_through_a_link_out_of_the_site(tmp_path):
    site = write_site(tmp_path / "site")
    outside = tmp_path / "elsewhere.md"
    text = ("---\ntitle: Looks like an incident\nimpact: minor\ncomponents: [api]\n---\n\n"
            "## 2026-12-05 10:00 UTC · Investigating\nSomething.\n")
    outside.write_text(text)
    (site / "incidents").mkdir(exist_ok=True)
    (site / "incidents" / "2026-12-05-link.md").symlink_to(outside)
    ran = run("--site", str(site), "incident", "update", "2026-12-05-link", "--status", "resolved", "-m", "Done.",
              timeout=60)
    assert ran.code == 1 and "a symlink to outside the site" in ran.stderr and "Traceback" not in ran.stderr
    assert outside.read_text() == text and (site / "incidents" / "2026-12-05-link.md").is_symlink()
