"""Running `heliograph` in tests: in process through click's CliRunner, or as a real subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


def invoke(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None) -> Ran:
    """In process: fast, and exceptions other than click's own fail the test with their traceback."""
    with contextlib.chdir(cwd or Path.cwd()):
        result = CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def process_env(env: dict[str, str] | None = None) -> dict[str, str]:
    merged = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", **(env or {})}
    merged.pop("HELIOGRAPH_SITE", None)
    return merged


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None,
        timeout: float = 60) -> Ran:
    """As a user runs it: `python -m generator.cli ...` in its own process."""
    done = subprocess.run([sys.executable, "-m", "generator.cli", *args], cwd=cwd, env=process_env(env),
                          input=input, capture_output=True, text=True, timeout=timeout)
    return Ran(done.returncode, done.stdout, done.stderr)


RUNNERS = {"runner": invoke, "process": run}


def child_processes() -> set[str]:
    """The ids of this process's children (Linux): a test that forks must leave none behind."""
    return {pid for task in Path("/proc/self/task").iterdir() for pid in (task / "children").read_text().split()}
