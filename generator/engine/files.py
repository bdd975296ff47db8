"""Files written so that no reader ever sees half of one, and caches that are only ever a hint."""

from __future__ import annotations

import hashlib
import os
import pickle
import zlib
from collections import Counter
from pathlib import Path
from stat import S_ISREG
from typing import Any, Mapping

from generator.engine.atomic import write_atomically
from generator.engine.cache_trust import HEADER_BYTES, MAGIC, reached_through_a_link, sign, verified
from generator.engine.fingerprint import code_fingerprint
from generator.engine.memory import gc_paused
from generator.engine.parallel import spread
from generator.site.paths import is_link, read_regular_file


def _remove_link(path: Path) -> None:
    """Remove the link at `path`, never what it leads to."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass  # another worker removed it first
    except (IsADirectoryError, PermissionError):  # Windows: a link to a folder, or a junction
        os.rmdir(path)


def make_real_folders(folder: Path, top: Path, done: set[str]) -> None:
    """Before writing into `folder` (`top` or below it): a link on the way from `top` down to it
    (build/incidents -> /etc, made by hand or committed) is removed, only the link, so that the
    folder is made anew as a real one and nothing is written, or removed, where it leads.
    `done`: the folders checked already in this build (a build writes thousands of files into a
    few folders each)."""
    name = os.fspath(folder)
    if name in done or folder == top or folder == folder.parent:
        return
    make_real_folders(folder.parent, top, done)
    try:
        if is_link(os.lstat(folder)):
            _remove_link(folder)
    except FileNotFoundError:
        pass
    done.add(name)




# What each cache read found since the last `CacheReads.clear()`, for `heliograph -v build`:
# (cache, outcome) -> count, where cache names the folder or file and outcome is "kept",
# "absent", "corrupt", "unsigned" (not signed with this user's key: another user's or machine's,
# damaged, or crafted; see cache_trust) or "other inputs" (made from other files, settings,
# code or format).
CACHE_READS: Counter[tuple[str, str]] = Counter()

def read_signed(path: Path) -> tuple[str, memoryview | None]:
    """A signed cache file's payload, with what was found ("kept", "absent", "corrupt",
    "unsigned"); the payload only when it is "kept". Every cache file is read here: nothing
    under .heliograph-cache/ is unpickled (or run) before its signature is checked, and
    nothing is read through a link or from a pipe or device (which could block or never end)."""
    if reached_through_a_link(path):
        return "corrupt", None
    try:
        data = read_regular_file(path, follow_links=False)
    except FileNotFoundError:
        return "absent", None
    except OSError:  # a link, a folder, a pipe or device (NotARegularFile), no permission
        return "corrupt", None
    payload = verified(data)
    if payload is None:  # signed by someone else (or damaged after the header), or not signed at all
        return "unsigned" if len(data) >= HEADER_BYTES and data.startswith(MAGIC) else "corrupt", None
    return "kept", payload


def write_signed(path: Path, payload: bytes) -> None:
    """Write a cache file, signed (see read_signed). Not through a link on the way: the link is
    left as it is, and the cache goes unwritten. A read-only checkout still builds, without it."""
    if reached_through_a_link(path):
        return
    try:
        write_atomically(path, sign(payload))
    except OSError:
        pass


def read_cache(path: Path, key: Any) -> Any:
    """The value stored with `key`; None when the entry is missing, corrupt, unsigned, or was made
    from other inputs. Caches are read by builds only, so what they hold is frozen for the build
    (`gc_paused`)."""
    outcome, payload = read_signed(path)
    try:
        if payload is None:
            return None
        # The key is pickled first and apart: a cache made from other inputs costs only its key.
        key_end = 4 + int.from_bytes(payload[:4], "little")
        with gc_paused(freeze=True):
            if pickle.loads(payload[4:key_end]) != key:
                outcome = "other inputs"
                return None
            return pickle.loads(payload[key_end:])
    except Exception:  # signed, yet unreadable: written by another version's code
        outcome = "corrupt"
        return None
    finally:
        note_read(path, outcome)


def note_read(path: Path, outcome: str) -> None:
    """Count what a read of the cache file `path` found (CACHE_READS)."""
    CACHE_READS[_cache_name(path), outcome] += 1


def _cache_name(path: Path) -> str:
    """The cache an entry belongs to, e.g. "incidents (parsed files)" or "history (closed-days)"."""
    stem = path.name.split(".")[0]
    if path.parent.name == "jinja":
        return "jinja (compiled templates)"
    if path.parent.name not in _CACHE_FOLDERS:
        return stem
    part = "buckets" if stem.isdigit() else "days" if stem[:4].isdigit() else stem
    return f"{path.parent.name} ({part})"


_CACHE_FOLDERS = frozenset({"history", "incidents", "outputs", "fragments"})


def write_cache(path: Path, key: Any, value: Any) -> None:
    key_bytes = pickle.dumps(key, protocol=pickle.HIGHEST_PROTOCOL)
    write_signed(path, len(key_bytes).to_bytes(4, "little") + key_bytes
                 + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


class Buckets:
    """A large dict kept in `count` files, each key in the one a hash of it names, so that a
    change rewrites only the files of the keys that changed: an incident edit changes 14 of a
    large site's 12,000 outputs, and rewriting the whole ledger of them took 30 ms. Like
    read_cache, a file that is missing, corrupt or from other inputs (`key`) reads as empty."""

    def __init__(self, folder: Path, key: Any, count: int = 32):
        self.folder, self.key, self.count = folder, key, count
        self.held: list[dict] = [{} for _ in range(count)]  # what each file held when loaded

    def load(self) -> dict:
        """Every entry, from all the files."""
        entries: dict = {}
        for number in range(self.count):
            found = read_cache(self._path(number), self.key)
            self.held[number] = found if type(found) is dict else {}
            entries.update(self.held[number])
        return entries

    def save(self, entries: Mapping[str, Any]) -> None:
        """Keep exactly `entries`, rewriting the files whose part of them changed."""
        parts: list[dict] = [{} for _ in range(self.count)]
        for name, value in entries.items():
            parts[self._number(name)][name] = value
        for number, part in enumerate(parts):
            if part != self.held[number]:
                write_cache(self._path(number), self.key, part)
                self.held[number] = part

    def update(self, changes: Mapping[str, Any]) -> None:
        """Set each entry of `changes`, or remove it where its value is None, reading and
        rewriting only the files they are in."""
        parts: dict[int, dict] = {}
        for name, value in changes.items():
            parts.setdefault(self._number(name), {})[name] = value
        for number, changed in parts.items():
            found = read_cache(self._path(number), self.key)
            part = dict(found) if type(found) is dict else {}
            for name, value in changed.items():
                if value is None:
                    part.pop(name, None)
                else:
                    part[name] = value
            if part != found:
                write_cache(self._path(number), self.key, part)
            self.held[number] = part

    def _number(self, name: str) -> int:
        return zlib.crc32(name.encode("utf-8")) % self.count

    def _path(self, number: int) -> Path:
        return self.folder / f"{number:02d}.pickle"


def text_of(data: bytes) -> str:
    """A text file's bytes as Path.read_text(encoding="utf-8") reads them: UTF-8 (else
    UnicodeDecodeError), every newline made "\\n". For files read as bytes to be digested too."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def content_digest(data: bytes) -> str:
    # SHA-256, not BLAKE2: CPUs with SHA instructions (this machine's, CI runners') hash twice as
    # fast with it, and a cold build of a large site digests 300 MB of history.
    return hashlib.sha256(data).hexdigest()[:40]


class ContentDigests:
    """Digests of files' bytes, kept with each file's size, times and inode, so that a file whose
    stat is as last seen is not read again.

    Caches keyed on stats alone miss after a fresh clone or a restored CI cache, where every
    file has new times and inodes but the same bytes; keyed on these digests, they still hit.
    """

    def __init__(self, store: Path) -> None:
        self.store = store
        known = read_cache(store, self._key())
        self.known: dict[str, tuple[tuple, str]] = known if type(known) is dict else {}
        self.used: set[str] = set()  # names asked about or learned this run; `save` keeps only these
        self.changed = False

    @staticmethod
    def _key() -> tuple[str, str]:
        # like every cache: other code, other digests (code_fingerprint)
        return ("content-digests-1", code_fingerprint())

    def digest(self, path: Path | str, name: str, stat: os.stat_result | None = None) -> str | None:
        """The digest of `path`'s bytes (kept under `name`), or None if there is no such file.
        `stat`: the file's, when the caller has it already (from os.scandir)."""
        if stat is None:
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                return None
        if not S_ISREG(stat.st_mode):  # a folder where a file belongs: as good as none (its reader says so)
            return None
        digest = self.lookup(name, stat)
        if digest is None:
            with open(path, "rb") as handle:
                digest = self.learn(name, stat, handle.read())
        return digest

    def prefetch(self, files: list[tuple[str, Path]]) -> None:
        """Learn the digests of those (name, path) not known yet: on every core when there are many
        (a cold build reads and digests a year of history shards)."""
        unknown = []
        for name, path in files:
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            if S_ISREG(stat.st_mode) and self.lookup(name, stat) is None:
                unknown.append((name, path, stat))
        digests = spread(lambda item: content_digest(Path(item[1]).read_bytes()), unknown, "digests")
        for (name, _, stat), digest in zip(unknown, digests):
            self.remember(name, stat, digest)

    def remember(self, name: str, stat: os.stat_result, digest: str) -> None:
        """The digest of the file `name`, whose stat is `stat`, worked out elsewhere (a worker)."""
        self.used.add(name)
        self.known[name] = (stamp(stat), digest)
        self.changed = True

    def lookup(self, name: str, stat: os.stat_result) -> str | None:
        """The digest kept for `name` if its file's stat is still `stat`, else None."""
        self.used.add(name)
        entry = self.known.get(name)
        return entry[1] if entry is not None and entry[0] == stamp(stat) else None

    def learn(self, name: str, stat: os.stat_result, data: bytes) -> str:
        """The digest of `data`, just read from the file `name` whose stat is `stat`."""
        digest = content_digest(data)
        self.remember(name, stat, digest)
        return digest

    def record(self, path: Path | str, name: str, digest: str) -> None:
        """What a file just written holds, known without reading it back."""
        stat = os.stat(path)
        if self.lookup(name, stat) != digest:
            self.remember(name, stat, digest)

    def save(self) -> None:
        """Store what is known of the files asked about this run. The others (an incident
        deleted, a shard out of the window, an output gone) are forgotten, or the store would
        keep every file it ever saw."""
        if self.known.keys() - self.used:
            self.known = {name: entry for name, entry in self.known.items() if name in self.used}
            self.changed = True
        if self.changed:
            write_cache(self.store, self._key(), self.known)
            self.changed = False


def stamp(stat: os.stat_result) -> tuple:
    """What says a file may have changed: its size, times and inode."""
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
