"""Every command explains itself with an example, and runs from anywhere inside the site."""

from __future__ import annotations

import click
import pytest

from clirun import invoke, run
from generator.cli import main


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,)
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [(), *commands(main)], ids=lambda p: " ".join(p) or "heliograph")
def test_help_has_an_example(path):
    ran = invoke(*path, "--help")
    assert ran.code == 0
    assert "Example:\n" in ran.stdout, f"`heliograph {' '.join(path)} --help` shows no example"


def test_help_in_a_subprocess():
    ran = run("incident", "update", "-h")
    assert ran.code == 0 and "heliograph incident update api-errors --status identified" in ran.stdout


def test_outside_a_site_the_error_says_what_to_do(tmp_path):
    ran = invoke("validate", cwd=tmp_path, env={"HELIOGRAPH_SITE": ""})
    assert ran.code == 1
    assert ran.stderr == ("Error: no site.yaml in this directory or any parent; run it inside a status site, "
                          "pass --site PATH, or create one with `heliograph init`\n")
