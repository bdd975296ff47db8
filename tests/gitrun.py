"""Git in tests as a CI runner has it: a clean environment with its own HOME and identity, commands
that must succeed, and a bare "GitHub" remote holding a site."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import write_site

REPO = Path(__file__).resolve().parent.parent
ACTIONS_BOT = {
    "GIT_AUTHOR_NAME": "github-actions[bot]",
    "GIT_AUTHOR_EMAIL": "41898283+github-actions[bot]@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "github-actions[bot]",
    "GIT_COMMITTER_EMAIL": "41898283+github-actions[bot]@users.noreply.github.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def clean_env(home: Path, *, identity: dict[str, str] = ACTIONS_BOT, **extra: str) -> dict[str, str]:
    """A runner's environment: git identity, its own HOME, no leftovers from the test process."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HELIOGRAPH_", "GITHUB_", "GIT_"))}
    return {**env, **identity, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "PYTHONPATH": str(REPO), "NO_COLOR": "1", **extra}


def sh(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def bare_remote_with_site(tmp_path: Path, site_yaml: str, env: dict[str, str]) -> Path:
    """The "GitHub" remote: a bare repository whose main holds a site with an empty history."""
    bare = tmp_path / "remote.git"
    sh("git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path, env=env)
    seed = write_site(tmp_path / "seed", site_yaml)
    (seed / "incidents" / ".keep").write_text("")
    sh("git", "init", "--quiet", "--initial-branch=main", cwd=seed, env=env)
    sh("git", "add", "-A", cwd=seed, env=env)
    sh("git", "commit", "--quiet", "-m", "Start the status page", cwd=seed, env=env)
    sh("git", "push", "--quiet", str(bare), "main", cwd=seed, env=env)
    return bare
