"""Outputs a rebuild can keep as they are, without rendering them again.

Most of a large site's outputs are the 10,000 incident pages, and one check run or one edited
incident changes few of them. A renderer that can say cheaply what an output is made of gives
it a key (`output_key`). The build records, for each file it leaves in build/, the key it was
rendered from and a digest of its bytes (`.heliograph-cache/outputs/`, the `Ledger`). On
the next build an output whose key is the same, and whose file still holds those bytes, is
neither rendered nor compared again: `Outputs.wants` says so and leaves `KEEP` in its place.

A key must cover everything its output is made of, or a rebuild would keep a stale file:
tests/test_incremental_build.py renders a site in many states and checks that equal keys always
mean equal bytes. Outputs without a key are rendered on every build.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from stat import S_ISREG
from pathlib import Path
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from generator.engine.atomic import write_atomically
from generator.engine.files import Buckets, content_digest, make_real_folders, stamp
from generator.site.paths import behind_a_link
from generator.engine.parallel import spread
from generator.engine.fingerprint import code_fingerprint, installed_version  # noqa: F401 (installed_version: for callers)

if TYPE_CHECKING:
    from generator.site.incidents import Incident

LEDGER = "outputs"  # a folder of files.Buckets
_LEDGER_FORMAT = "outputs-3"  # (key, digest, stamp) by path
FRAGMENTS = "fragments"  # a folder of files.Buckets
_FRAGMENTS_FORMAT = "fragments-2"


class _Keep:
    """In render_site's result: the file build/ holds is already this output."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True)
class Written:
    """In render_changed's result, with a writer: the output, new in build/, was written there while rendering."""

    digest: str  # files.content_digest of its bytes


class NewFileWriter:
    """Writes outputs that build/ does not hold yet, in the worker that rendered them.

    A cold build of a large site writes 12,000 new files: writing them where they are rendered
    spreads that over every core and spares sending their bytes back. A file already there is
    left to the build's last step, so a build that fails while rendering changes none of them;
    and every path is claimed in the manifest first, so the next build removes a new file that
    a failed one left and no build makes any more."""

    def __init__(self, output: Path, claim: Callable[[Sequence[str]], None]):
        self.output, self.claim = output, claim
        self.made_real: set[str] = set()  # folders in build/ known to be real (files.make_real_folders)

    def write(self, path: str, content: bytes) -> bytes | Written:
        target = self.output / path
        # Before looking: a linked folder on the way (build/incidents -> /etc) is replaced by a
        # real one, or the file would be written where it leads.
        make_real_folders(target.parent, self.output, self.made_real)
        if os.path.lexists(target):
            return content
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, content, new=True)
        return Written(content_digest(content))


def output_key(*parts: Any) -> str:
    """A digest of everything an output is made of. Parts are pickled: two equal values that
    pickle differently (shared or copied sub-objects) only cost a needless render."""
    return hashlib.blake2b(pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL), digest_size=20).hexdigest()


@dataclass
class Outputs:
    """What render_site collects: each output's bytes (or KEEP) and, where it has one, its key."""

    reusable: Mapping[str, str] = field(default_factory=dict)  # path -> key of the file build/ holds
    files: dict[str, Any] = field(default_factory=dict)  # path -> bytes or KEEP
    keys: dict[str, str] = field(default_factory=dict)
    fragments: Mapping[str, str] = field(default_factory=dict)  # key -> a part of a page, from earlier builds
    fragments_used: dict[str, str] = field(default_factory=dict)  # key -> part: used or kept by this build
    deferred: list[Callable[[], Mapping[str, bytes]]] = field(default_factory=list)
    writer: NewFileWriter | None = None  # writes new files as they are rendered; else all are returned

    def wants(self, path: str, key: str | None, *, fragments: Sequence[str | None] = ()) -> bool:
        """Whether `path` must be rendered; if not, it is KEEP. The caller fills in what it renders.

        `fragments`: the keys of the parts the output is made of. A kept output's parts are kept
        for the build that next renders it: a page left as it was by one rebuild (an incident
        edit) is often rendered by the next (a check run), and without them it would render
        all its parts again (a second at 10,000 incidents)."""
        if key is None:
            return True
        self.keys[path] = key
        if self.reusable.get(path) == key:
            self.files[path] = KEEP
            self._keep(fragments)
            return False
        return True

    def fragment(self, key: str | None, render: Callable[[], str], *, parts: Sequence[str | None] = ()) -> str:
        """A part of a page that changes less often than the page: kept by key, like an output.
        `parts`: the keys of the fragments it is made of, kept with it when it is kept."""
        if key is None:
            return render()
        html = self.fragments.get(key) or self.fragments_used.get(key)  # kept, or made earlier this build
        if html is None:
            html = render()
        else:
            self._keep(parts)
        self.fragments_used[key] = html
        return html

    def _keep(self, fragments: Sequence[str | None]) -> None:
        for fragment in fragments:
            html = self.fragments.get(fragment) if fragment else None
            if html is not None:
                self.fragments_used[fragment] = html

    def defer(self, paths: Sequence[str], render: Callable[[], Mapping[str, bytes]]) -> None:
        """Render `paths` later, with every other deferred output: on every core when there are
        many (a cold build, or every component page after a check run)."""
        for path in paths:
            self.files[path] = b""  # keeps the order; filled in by render_deferred
        self.deferred.append(render)

    def render_deferred(self) -> None:
        jobs, self.deferred = self.deferred, []
        used = self.fragments_used
        writer = self.writer
        if writer is not None and jobs:
            writer.claim(list(self.files))

        def run(render: Callable[[], Mapping[str, bytes]]) -> tuple[Mapping[str, Any], dict[str, str]]:
            # Each job starts a fresh record of the fragments it uses: a forked worker's goes back
            # with its files, and all of them are merged into `used` below.
            self.fragments_used = {}
            files = render()
            if writer is not None:
                files = {path: writer.write(path, content) for path, content in files.items()}
            return files, self.fragments_used

        for files, fragments in spread(run, jobs, "render_jobs"):
            self.files.update(files)
            used.update(fragments)
        self.fragments_used = used

    def add(self, files: Mapping[str, bytes]) -> None:
        """Outputs without keys: rendered on every build, and written only if their bytes changed."""
        self.files.update(files)


# --- the ledger: the I/O edge ----------------------------------------------------------------


@dataclass
class Ledger:
    """Each keyed file in one output folder: the key it was rendered from, a digest of its bytes,
    and its stamp (size, times, inode) when that digest was known. A file whose stamp is the
    same is not read; one with a new stamp but the same bytes (a build/ restored from a CI
    cache, a copied site) is still that output. Kept in buckets (files.Buckets).

    `check` looks build/ up against it, and keeps only what the build needs: each reusable
    output's key, and the few entries to change."""

    def __init__(self, cache_dir: Path, output: Path):
        self.folder, self.output = cache_dir / LEDGER, output
        self.reusable: dict[str, str] = {}  # path -> key: the outputs still exactly as the ledger says
        self.changes: dict[str, tuple | None] = {}  # path -> its entry now, or None: to forget

    @classmethod
    def check(cls, cache_dir: Path, output: Path) -> Ledger:
        """The ledger, with what build/ still holds of it."""
        ledger = cls(cache_dir, output)
        folder = str(output) + os.sep
        linked: dict[str, bool] = {}
        for path, (key, digest, seen) in ledger._store().load().items():
            try:
                # lstat: a link where the file was (to /dev/zero, say) is never read; it is
                # not the file written, so the output is rendered and written in its place.
                found = os.lstat(folder + path)
                if stamp(found) == seen:
                    ledger.reusable[path] = key
                    continue
                if S_ISREG(found.st_mode) and not behind_a_link(Path(folder + path).parent, output, linked) \
                        and content_digest(Path(folder + path).read_bytes()) == digest:
                    ledger.reusable[path] = key
                    ledger.changes[path] = (key, digest, stamp(found))
                    continue
            except OSError:
                pass  # not a file: render it again
            ledger.changes[path] = None
        return ledger

    def save(self, files: Mapping[str, Any], keys: Mapping[str, str]) -> None:
        """Remember the key of every keyed file now in the folder. A kept file was not touched,
        so its entry stays; a written one's digest comes from the bytes written. Only the
        buckets of entries that changed are read and written again."""
        changes = dict(self.changes)
        folder = str(self.output) + os.sep
        for path, key in keys.items():
            content = files.get(path)
            if content is KEEP:
                continue
            try:
                digest = content.digest if type(content) is Written else content_digest(content)
                changes[path] = (key, digest, stamp(os.lstat(folder + path)))
            except (OSError, TypeError):
                changes[path] = None
        for path in self.reusable.keys() - keys.keys():
            changes[path] = None
        self._store().update(changes)

    def _store(self) -> Buckets:
        return Buckets(self.folder, (_LEDGER_FORMAT, code_fingerprint()))


def fragment_store(cache_dir: Path) -> Buckets:
    """Where the fragments of pages are kept between builds (see Outputs.fragment)."""
    return Buckets(cache_dir / FRAGMENTS, (_FRAGMENTS_FORMAT, code_fingerprint()))


def save_fragments(store: Buckets, outputs: Outputs) -> None:
    """Keep the fragments this build used: those it did not are for inputs that are gone."""
    store.save(outputs.fragments_used)

def _now_facts(incident: Incident, now: datetime) -> tuple:
    if incident.resolved_at is not None:
        return ()  # its end is written down: nothing about it changes with time any more
    return (incident.status_at(now), incident.is_open(now), incident.ended_at(now), incident.duration(now))

def incident_facts(incident: Incident, now: datetime) -> str | None:
    """What any output shows of an incident: its source and the facts of it that move with time;
    None when its source is unknown (then nothing showing it is kept between builds)."""
    if not incident.source_key:
        return None
    moving = _now_facts(incident, now)
    return incident.source_key + (repr(moving) if moving else "")
