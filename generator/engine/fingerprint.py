"""One fingerprint of the code, for every cache under .heliograph-cache.

A cache entry is only right while the code that made it is the code that would make it again.
Lists of "the modules that matter" go stale as soon as a helper moves (the incident cache once
left out text.py, so a change to how incidents are summed up in plain text rebuilt nothing).
So the fingerprint hashes the bytes of every file of the installed package, the default theme as
it ships, the versions of the libraries that parse and write for it, and Python's version: any
change to any of them misses every cache, with nobody having to remember anything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import stat
import sys
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Iterable, NamedTuple

from generator.engine.atomic import write_atomically
from generator.engine.cache_trust import reached_through_a_link

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # generator/, two levels up from generator/engine/
PACKAGE_THEME = "theme"  # generator/theme when installed; the repository's templates/ in a checkout

# (import name, distribution name as in its .dist-info folder): what turns inputs into outputs
# or caches, so another version may give other bytes or other pickles.
LIBRARIES = (
    ("yaml", "pyyaml"),
    ("markdown", None),
    ("nh3", None),
    ("orjson", None),
    ("jinja2", None),
    ("markupsafe", None),
    ("babel", None),  # CLDR's dates, numbers and units on every page
)


class CodeSources(NamedTuple):
    """Where the code to fingerprint is: the package's folder and its default theme's."""

    package: Path
    theme: Path


def default_theme_dir(package: Path = PACKAGE_DIR) -> Path:
    """The theme shipped with Heliograph, used for any template a site's templates/ lacks."""
    checkout = package.parent / "templates"
    if (checkout / "base.html").is_file():
        return checkout
    return package / PACKAGE_THEME


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The fingerprint of the code running now, worked out once per process."""
    versions = [(library, installed_version(library, distribution)) for library, distribution in LIBRARIES]
    return fingerprint_of(CodeSources(PACKAGE_DIR, default_theme_dir()), versions)


def fingerprint_of(sources: CodeSources, versions: Iterable[tuple[str, str]]) -> str:
    """A digest of every source file's name and bytes, the libraries' versions and Python's."""
    digest = hashlib.blake2b(b"heliograph-code-1", digest_size=20)
    try:
        for label, folder in (("package", sources.package), ("theme", sources.theme)):
            for name, path in _source_files(folder):
                with open(path, "rb") as source:
                    digest.update(f"{label}/{name}\0".encode() + source.read() + b"\0")
    except OSError:  # sources that cannot be read (a frozen install): never trust a cache entry
        return uuid.uuid4().hex
    for library, version in versions:
        digest.update(f"{library}={version}\0".encode())
    implementation = sys.implementation
    digest.update(f"python={implementation.name}-{sys.version_info[:3]}\0".encode())
    return digest.hexdigest()


def _source_files(folder: Path) -> list[tuple[str, str]]:
    """(name relative to `folder`, path) of every file below it but compiled bytecode, by name:
    the package's modules and the data it reads (such as generator/schema/), or the theme's
    templates, assets and catalogs. (Installed, the theme is inside the package: its files are
    hashed twice, harmlessly.) os.walk rather than Path.rglob: this runs on every build, and
    pathlib took four times as long over the same 156 files."""
    found = []
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        relative = os.path.relpath(directory, folder).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        for name in names:
            path = os.path.join(directory, name)
            if not name.endswith(".pyc") and os.path.isfile(path):
                found.append((prefix + name, path))
    return sorted(found)


def installed_version(library: str, distribution: str | None = None) -> str:
    """The version in the name of a package's .dist-info folder, found without importing the
    package or importlib.metadata (slow to import). Not file times: a fresh CI runner installs
    the same versions anew, and its restored cache must still match."""
    spec = importlib.util.find_spec(library)
    if spec is None or not spec.origin:
        return "none"
    origin = Path(spec.origin)
    folder = origin.parent.parent if spec.submodule_search_locations else origin.parent
    try:
        for name in _listing(str(folder)):
            if name.endswith(".dist-info"):
                name_found, _, version = name.removesuffix(".dist-info").partition("-")
                if name_found.lower().replace(".", "_") == (distribution or library):
                    return version
    except OSError:
        pass
    stat = os.stat(origin)  # no metadata beside it: the package's own file will have to do
    return f"{origin}:{stat.st_size}:{stat.st_mtime_ns}"


@lru_cache(maxsize=8)
def _listing(folder: str) -> list[str]:
    """The names in `folder`: site-packages holds most libraries, so it is listed once."""
    return os.listdir(folder)


# --- the cache folder as a whole ---------------------------------------------------------------

CACHE_STAMP = "code-fingerprint.txt"  # in the cache folder: the fingerprint of the code that last wrote it


def cache_miss_reason(cache_dir: Path) -> str | None:
    """Why every cache in `cache_dir` will miss, or None when they may hit: "absent" (no cache
    yet, or --clean), "fingerprint" (other code or libraries wrote them), "corrupt" (the stamp
    cannot be read). An entry's own format is part of the code, so it is the fingerprint too."""
    path = cache_dir / CACHE_STAMP
    try:
        # Never through a link, nor from a pipe or device (/dev/zero would never end): the
        # folder is in the site, and a repository may hold anything there.
        if reached_through_a_link(path) or not stat.S_ISREG(os.lstat(path).st_mode):
            return "corrupt"
        with open(path, "rb") as handle:
            stamp = handle.read(200).decode("ascii").strip()
    except FileNotFoundError:
        return "absent"
    except (OSError, UnicodeDecodeError):
        return "corrupt"
    return None if stamp == code_fingerprint() else "fingerprint"


def stamp_cache(cache_dir: Path) -> None:
    """Record that the code running now wrote `cache_dir`'s caches."""
    path = cache_dir / CACHE_STAMP
    try:
        if not cache_dir.is_dir() or reached_through_a_link(path) or cache_miss_reason(cache_dir) is None:
            return
        # write_atomically renames over a link at the stamp's place instead of writing into what it leads to.
        write_atomically(path, (code_fingerprint() + "\n").encode("ascii"))
    except OSError:
        pass  # a read-only checkout builds without caches


def forget_caches(cache_dir: Path) -> None:
    """Remove every cache, so that the next build computes and writes all of them again."""
    if cache_dir.is_symlink() or cache_dir.is_file():
        cache_dir.unlink()
    elif cache_dir.exists():
        shutil.rmtree(cache_dir)
