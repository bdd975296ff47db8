"""A crafted .heliograph-cache/ in a site's repository: what `heliograph build` withstands.

The caches are pickles and Jinja's compiled templates, and loading either runs what the file
says. A repository can commit a `.heliograph-cache/` (a pull request can add one, and CI builds
it), so every cache file is signed with a key kept outside any site, per user
(generator/engine/cache_trust.py), and a file whose signature is not this user's is treated as
absent. These tests put a file that would run code where each cache is read, in the forms an
attacker would write (a plain pickle, Jinja's own format, and Heliograph's signed format with a
made-up signature), and check that no code runs, the build succeeds and its page is the page a
clean build makes; and that a cache behind a link is neither read nor written.

Each build runs in a subprocess with a key folder of the test's own (`_keyed`), as another user
or machine would have.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import stat
import sys
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import Bucket, bc_magic

from clirun import run
from generator.engine.cache_trust import KEY_NAME, MAGIC

NOW = "2026-11-23T12:00:00Z"
CACHE = ".heliograph-cache"

needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")

SITE_YAML = """\
site:
  title: Cached
  base_url: https://status.example/
  timezone: UTC
components:
  - id: api
    name: API
    check: {type: http, url: "https://api.example/"}
  - id: web
    name: Web
    check: {type: http, url: "https://web.example/"}
"""

LINE = '{"v":1,"c":"%s","t":"2026-11-%02dT%02d:00:00Z","s":"%s","r":"ok","loc":"ci","ms":12.0}\n'


def _site(root: Path) -> Path:
    """A site whose build reads every cache: incidents, site.yaml, closed and open history days,
    the ledger of outputs, page fragments and compiled templates."""
    (root / "incidents").mkdir(parents=True)
    (root / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    for number in range(3):
        (root / "incidents" / f"2026-11-1{number}-trouble.md").write_text(
            f"---\ntitle: Trouble {number}\nimpact: major\ncomponents: [api]\n---\n\n"
            f"## 2026-11-1{number} 11:00 UTC · Resolved\nFixed (number {number}).\n\n"
            f"## 2026-11-1{number} 10:00 UTC · Investigating\nWe are looking into it.\n", encoding="utf-8")
    for day in range(19, 24):  # four closed days and today
        shard = root / "history" / "raw" / "2026" / "11" / f"{day}.jsonl"
        shard.parent.mkdir(parents=True, exist_ok=True)
        shard.write_text("".join(LINE % (component, day, hour, "down" if (day, hour) == (21, 3) else "up")
                                 for hour in range(0, 12) for component in ("api", "web")), encoding="utf-8")
    return root


def _keyed(home: Path) -> dict[str, str]:
    """The environment of a user whose cache folder (and so signing key) is under `home`."""
    env = {"XDG_CACHE_HOME": str(home / ".cache"), "LOCALAPPDATA": str(home / "AppData" / "Local")}
    if sys.platform == "darwin":  # ~/Library/Caches
        env["HOME"] = str(home)
    return env


def _key_file(home: Path) -> Path:
    if sys.platform == "win32":
        return home / "AppData" / "Local" / "heliograph" / KEY_NAME
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "heliograph" / KEY_NAME
    return home / ".cache" / "heliograph" / KEY_NAME


def _build(site: Path, env: dict[str, str]) -> dict[str, str]:
    """`heliograph -v build`: it must succeed; what it says each cache held."""
    done = run("-v", "build", "--now", NOW, cwd=site, env=env, timeout=120)
    assert done.code == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    return dict(line.split(": ", 1) for line in lines)


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _clean_build(site: Path, where: Path, env: dict[str, str]) -> dict[str, bytes]:
    shutil.copytree(site, where, ignore=shutil.ignore_patterns("build", CACHE))
    _build(where, env)
    return _outputs(where / "build")


class _RunsCode:
    """Unpickling this calls open(marker, "w"): the marker file appears if the code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted(form: str, cache_file: Path, marker: Path) -> bytes:
    """What an attacker commits at `cache_file` to run code in the next build."""
    evil = pickle.dumps(_RunsCode(marker), protocol=2)
    if cache_file.parent.name == "jinja":
        plain = bc_magic + evil + b"\0" * 16  # Jinja's format: its magic, then a pickled checksum
    else:
        plain = evil + evil  # Heliograph's earlier format: the pickled key, then the value
    if form == "plain":
        return plain
    # Heliograph's signed format, with a signature made up (the key is not in the repository)
    return MAGIC + b"\0" * 32 + len(evil).to_bytes(4, "little") + plain


def _every_cache_file(site: Path) -> list[Path]:
    return sorted(path for path in (site / CACHE).rglob("*") if path.is_file() and path.name != "code-fingerprint.txt")


def test_the_crafted_files_would_run_code_if_loaded(tmp_path):
    """The test's own check: these bytes do run code when unpickled, or loaded as Jinja's
    bytecode cache loads them, so a build that loaded one would leave its marker."""
    for name in ("incidents/00.pickle", "jinja/abc.cache"):
        marker = tmp_path / name.replace("/", "-")
        data = _crafted("plain", tmp_path / CACHE / name, marker)
        if name.startswith("jinja"):
            Bucket(jinja2.Environment(), "abc", "checksum").load_bytecode(io.BytesIO(data))
        else:
            pickle.loads(data)
        assert marker.exists()


@pytest.mark.parametrize("form", ["plain", "forged signature"])
def test_a_committed_cache_runs_no_code_wherever_a_cache_is_read(tmp_path, form):
    me = _keyed(tmp_path / "me")
    site = _site(tmp_path / "site")
    _build(site, me)
    warm = _build(site, me)
    assert all(found.endswith(" kept") for found in warm.values()), warm
    files = _every_cache_file(site)
    names = {path.relative_to(site / CACHE).as_posix() for path in files}
    # Every cache a build reads is there to be replaced: if one went missing from this list,
    # the test would no longer cover its reader.
    for expected in ("site.pickle", "incidents/listing.pickle", "incidents/digests.pickle", "history/digests.pickle",
                     "history/closed-days.pickle", "history/2026-11-20.pickle",
                     "history/2026-11-20.latency.pickle"):
        assert expected in names, sorted(names)
    for folder in ("incidents", "outputs", "fragments", "jinja"):
        assert any(name.startswith(folder + "/") for name in names), (folder, sorted(names))

    # A repository's crafted cache: every file replaced, each with a marker of its own; Jinja's
    # files also under the name Jinja's own file cache reads (__jinja2_<key>.cache).
    markers = tmp_path / "markers"
    markers.mkdir()
    for number, path in enumerate(files):
        path.write_bytes(_crafted(form, path, markers / f"{number}-{path.name}"))
        if path.parent.name == "jinja":
            legacy = path.with_name(f"__jinja2_{path.name}")
            legacy.write_bytes(_crafted(form, path, markers / f"{number}-legacy-{path.name}"))
    shutil.rmtree(site / "build")  # as in a fresh clone: nothing to keep but the caches

    said = _build(site, me)
    assert sorted(os.listdir(markers)) == [], "a crafted cache file ran its code"
    assert said, "the build said nothing of its caches"
    assert not any("kept" in found for found in said.values()), said  # none was trusted
    assert _outputs(site / "build") == _clean_build(site, tmp_path / "clean", me)
    # and the caches are this user's again: the next build is warm
    again = _build(site, me)
    assert all(found.endswith(" kept") for found in again.values()), again
    assert sorted(os.listdir(markers)) == []


def test_another_users_cache_is_a_cold_build_not_a_failure(tmp_path):
    """A cache restored from another machine, or copied from another user's site, is signed
    with another key: every entry misses (said as "unsigned"), and the page is still right."""
    site = _site(tmp_path / "site")
    _build(site, _keyed(tmp_path / "someone"))
    said = _build(site, _keyed(tmp_path / "me"))
    assert said and all(found.endswith(" unsigned") or found.endswith(" absent") for found in said.values()), said
    assert any(found.endswith(" unsigned") for found in said.values())
    assert _outputs(site / "build") == _clean_build(site, tmp_path / "clean", _keyed(tmp_path / "me"))
    assert all(found.endswith(" kept") for found in _build(site, _keyed(tmp_path / "me")).values())


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions (LOCALAPPDATA is the user's own on Windows)")
def test_the_key_is_outside_the_site_and_readable_by_its_owner_only(tmp_path):
    site = _site(tmp_path / "site")
    _build(site, _keyed(tmp_path / "me"))
    key = _key_file(tmp_path / "me")
    assert key.is_file() and len(key.read_bytes()) == 32
    assert stat.S_IMODE(key.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(key.parent.stat().st_mode) & 0o077 == 0
    assert not any(path.name == KEY_NAME for path in site.rglob("*"))
    before = key.read_bytes()
    _build(site, _keyed(tmp_path / "me"))
    assert key.read_bytes() == before  # made once, then kept


@needs_symlinks
def test_a_cache_folder_linked_out_of_the_site_is_neither_read_nor_written(tmp_path):
    """A committed `.heliograph-cache` link would have builds write (and remove old day
    entries) wherever it leads; such a cache is not used, and the build works without it."""
    me = _keyed(tmp_path / "me")
    site = _site(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "2020-01-01.pickle").write_bytes(b"someone's file")  # named as an old day entry
    (site / CACHE).symlink_to(elsewhere, target_is_directory=True)
    clean = _clean_build(site, tmp_path / "clean", me)
    _build(site, me)
    _build(site, me)
    assert sorted(os.listdir(elsewhere)) == ["2020-01-01.pickle"]
    assert _outputs(site / "build") == clean
    assert (site / CACHE).is_symlink()


@needs_symlinks
def test_links_inside_the_cache_are_never_written_through(tmp_path):
    """A linked folder inside the cache, or a link in a cache file's place (to a user's file,
    or to /dev/zero, which has no end), is never followed: what it leads to stays as it was."""
    me = _keyed(tmp_path / "me")
    site = _site(tmp_path / "site")
    _build(site, me)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "2020-01-01.pickle").write_bytes(b"someone's file")
    shutil.rmtree(site / CACHE / "history")
    (site / CACHE / "history").symlink_to(elsewhere, target_is_directory=True)
    precious = tmp_path / "precious.txt"
    precious.write_text("do not overwrite\n", encoding="utf-8")
    for name in ("code-fingerprint.txt", "site.pickle"):
        (site / CACHE / name).unlink()
        (site / CACHE / name).symlink_to(precious)
    if os.path.exists("/dev/zero"):
        (site / CACHE / "incidents" / "listing.pickle").unlink()
        (site / CACHE / "incidents" / "listing.pickle").symlink_to("/dev/zero")
    clean = _clean_build(site, tmp_path / "clean", me)
    _build(site, me)
    _build(site, me)
    assert sorted(os.listdir(elsewhere)) == ["2020-01-01.pickle"]
    assert precious.read_text(encoding="utf-8") == "do not overwrite\n"
    assert _outputs(site / "build") == clean


# --- build/: the folder a build writes and removes files in -------------------------------------


@needs_symlinks
def test_a_build_folder_linked_out_of_the_site_is_refused_and_left_alone(tmp_path):
    """A committed `build` link to elsewhere would have the build write, and remove, files there."""
    me = _keyed(tmp_path / "me")
    site = _site(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index.html").write_text("someone's page\n", encoding="utf-8")
    (site / "build").symlink_to(elsewhere, target_is_directory=True)
    done = run("build", "--now", NOW, cwd=site, env=me, timeout=120)
    assert done.code == 1 and "Traceback" not in done.stderr
    assert "build: error: refusing to write the page here" in done.stderr
    assert sorted(os.listdir(elsewhere)) == ["index.html"]
    assert (elsewhere / "index.html").read_text(encoding="utf-8") == "someone's page\n"
    # Asked for by name, a folder outside the site is the user's choice.
    done = run("build", "--now", NOW, "--output", str(elsewhere / "out"), cwd=site, env=me, timeout=120)
    assert done.code == 0, done.stderr
    assert (elsewhere / "out" / "index.html").is_file()


@needs_symlinks
def test_links_inside_the_build_folder_are_replaced_never_written_through(tmp_path):
    """build/components -> a folder elsewhere, build/index.html -> a user's file, and a manifest
    naming files outside build/: the build writes real files in build/ and touches nothing else."""
    me = _keyed(tmp_path / "me")
    site = _site(tmp_path / "site")
    _build(site, me)
    clean = _clean_build(site, tmp_path / "clean", me)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n", encoding="utf-8")
    precious = tmp_path / "precious.txt"
    precious.write_text("do not overwrite\n", encoding="utf-8")
    shutil.rmtree(site / "build" / "components")
    (site / "build" / "components").symlink_to(elsewhere, target_is_directory=True)
    (site / "build" / "index.html").unlink()
    (site / "build" / "index.html").symlink_to(precious)
    with open(site / "build" / ".heliograph-manifest", "a", encoding="utf-8") as manifest:
        manifest.write("../../precious.txt\n" + str(precious) + "\n../elsewhere/keep.txt\n")
    _build(site, me)
    assert precious.read_text(encoding="utf-8") == "do not overwrite\n"
    assert sorted(os.listdir(elsewhere)) == ["keep.txt"]
    assert not (site / "build" / "components").is_symlink() and not (site / "build" / "index.html").is_symlink()
    assert _outputs(site / "build") == clean  # the manifest too: written anew, without those names
