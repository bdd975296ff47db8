"""Every command explains itself with an example, and runs from anywhere inside the site."""

from __future__ import annotations

import click
import pytest

from clirun import invoke, run
from generator.cli import main


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    context = click.Context(group)
    for name in group.list_commands(context):  # `main` imports its commands' modules on demand
        command = group.get_command(context, name)
        yield prefix + (name,)
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))


def test_every_command_is_found_by_name_alone():
    """`main` imports a command's module when asked for it by name: each must be listed there."""
    listed = set(main.list_commands(click.Context(main)))
    assert listed == set(main.MODULES) and len(listed) >= 8
    for name in listed:
        assert main.get_command(click.Context(main), name) is not None


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
