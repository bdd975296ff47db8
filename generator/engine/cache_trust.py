"""What makes a file under .heliograph-cache/ safe to load: the one place caches are signed.

The caches are pickles (and Jinja's compiled templates, marshalled code), and loading either
runs whatever the file says. The folder lives in the site, so a repository that commits a
crafted `.heliograph-cache/`, or a pull request that adds one and is built by CI, would run its
code in `heliograph build`. So every cache file is signed with an HMAC whose key no repository
can hold: a random key per user, in the user's cache folder outside any site (`key_file`),
created readable by its owner only. A file whose signature does not check out was not written
by this user's Heliograph (another user's or machine's, damaged, or crafted) and is treated as
absent: a cold build, never a crash, and its bytes are never unpickled.

The key's secrecy is what matters on one machine. In CI, where the key is restored with the
caches (see .github/workflows/deploy.yml), what matters instead is that only the branch's own
runs can write that cache, and that the workflow removes any committed `.heliograph-cache/`
before restoring it.

Also here: whether a cache path is reached through a link. The folders under the cache are
created by builds; a link among them (committed, or made by hand) would have a build write
and delete files wherever it leads, so a cache behind a link is neither read nor written.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import sys
import uuid
from pathlib import Path

from generator.site.paths import behind_a_link

CACHE_DIR = ".heliograph-cache"  # in the site root, git-ignored; safe to delete at any time

# A signed file: MAGIC, then HMAC-SHA256(key, payload), then the payload. SHA-256 because CPUs
# with SHA instructions (this machine's, CI runners') do it at 1.5 GB/s: a no-op rebuild of a
# 1,000-incident site checks about 8 MB of cache, ~5 ms.
MAGIC = b"heliograph-signed-1\n"
_DIGEST = "sha256"
_MAC_BYTES = 32
HEADER_BYTES = len(MAGIC) + _MAC_BYTES
KEY_BYTES = 32
KEY_NAME = "cache-key"

_key: bytes | None = None  # loaded once per process; forked workers inherit it


def key_folder() -> Path:
    """The user's cache folder for Heliograph, as each platform names it: never inside a site
    (a repository cannot put a file in the user's home), and not synchronised between machines."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "heliograph"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "heliograph"
    base = os.environ.get("XDG_CACHE_HOME")
    # The XDG rule: a relative XDG_CACHE_HOME is to be ignored (it would name a folder in the
    # directory the build runs in, which may be the site).
    return (Path(base) if base and os.path.isabs(base) else Path.home() / ".cache") / "heliograph"


def key_file() -> Path:
    return key_folder() / KEY_NAME


def signing_key() -> bytes:
    """This user's key, made on first use. If it can be neither read nor made (no home, a
    read-only one), a key for this process only: caches then never carry over, but builds work."""
    global _key
    if _key is None:
        try:
            _key = _read_or_make_key(key_file())
        except (OSError, RuntimeError):  # RuntimeError: Path.home() without a home
            _key = os.urandom(KEY_BYTES)
    return _key


def _read_or_make_key(path: Path) -> bytes:
    found = _read_key(path)
    if found is not None:
        return found
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole to a temporary, then linked into place: a second process making its key at
    # the same moment either wins or reads the winner's, and nobody reads half a key. The
    # temporary is created 0600, so the key is never readable by others, not even briefly.
    temporary = path.with_name(f".{KEY_NAME}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(os.urandom(KEY_BYTES))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # a file system without hard links: renaming never overwrites on Windows;
            with contextlib.suppress(FileExistsError):  # elsewhere a racing process's key may be
                os.rename(temporary, path)             # replaced, costing it one cold build
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    found = _read_key(path)
    if found is None:
        raise OSError(f"{path}: not a key")
    return found


def _read_key(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(KEY_BYTES + 1)
    except FileNotFoundError:
        return None
    return data if len(data) == KEY_BYTES else None


def sign(payload: bytes) -> bytes:
    """`payload` as a signed file holds it."""
    return MAGIC + hmac.digest(signing_key(), payload, _DIGEST) + payload


def verified(data: bytes) -> memoryview | None:
    """The payload of a signed file's bytes if its signature is this user's, else None."""
    if len(data) < HEADER_BYTES or not data.startswith(MAGIC):
        return None
    payload = memoryview(data)[HEADER_BYTES:]
    if not hmac.compare_digest(hmac.digest(signing_key(), payload, _DIGEST), data[len(MAGIC):HEADER_BYTES]):
        return None
    return payload


def reached_through_a_link(path: Path) -> bool:
    """Whether a folder between the cache folder (the nearest `.heliograph-cache` above `path`,
    itself included) and `path` is a link. Folders that are not there yet are not links: they
    will be made as real ones. A path in no cache folder (a test's) has its parent checked."""
    top = path.parent.parent
    for folder in path.parents:
        if folder.name == CACHE_DIR:
            top = folder.parent
            break
    return behind_a_link(path.parent, top, {})
