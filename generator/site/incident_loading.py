"""Loading incidents/: every file parsed once, in parallel when there are many, cached on disk.

The parse itself is `incidents.parse_incident`; this module decides which files need it.
"""

from __future__ import annotations

import hashlib
import os
from array import array
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, NamedTuple

from generator.engine.files import Buckets, ContentDigests, content_digest, read_cache, stamp, text_of, write_cache
from generator.engine.fingerprint import code_fingerprint
from generator.engine.parallel import spread
from generator.site.incidents import MAX_FILE_KB, Incident, IncidentSet, file_too_large, parse_incident
from generator.site.paths import is_inside, outside_problem
from generator.site.problems import InvalidInput, Problem


class Parsed(NamedTuple):
    """One file's parse, as the parse cache keeps it."""

    digest: str  # files.content_digest of the file's bytes
    incident: Incident
    warnings: list[Problem]


class Listing(NamedTuple):
    """What the last load found (see _as_last_time)."""

    files: IncidentFiles
    latest: datetime | None  # the newest update of any incident, maintenance aside
    order: list[str]  # each incident's shown file name, in the order a load sorts them
    problems: tuple[Problem, ...]


def load_incidents(directory: Path, component_ids: Iterable[str], *, now: datetime,
                   relative_to: Path | None = None, cache_dir: Path | None = None) -> IncidentSet:
    """Parse every incidents/*.md; a bad file is reported and left out, the others still load.

    With `cache_dir`, each file's parse (Markdown rendering is most of it) is kept there and reused
    while the file's bytes, its path, the site's component ids and the parsing code are the same.
    """
    problems: list[Problem] = []
    ids = tuple(component_ids)
    # What each file is called in problems and caches: relative to `relative_to`, else its path.
    if relative_to is None:
        prefix = os.path.join(directory, "")
    else:
        prefix = os.path.relpath(directory, relative_to) + os.sep
        prefix = "" if prefix == "." + os.sep else prefix
    latest_allowed = now + timedelta(minutes=5)  # as parse_incident allows
    parsed_first: dict[int, tuple] = {}  # by index: the few changed files' outcomes (see below)
    kept = parse_cache = cached = None
    if cache_dir is not None:
        kept = read_cache(cache_dir / "incidents" / _LISTING, (code_fingerprint(), ids))
        if type(kept) is not Listing or (kept.latest is not None and kept.latest > latest_allowed):
            kept = None  # none, or an update is later than `now` allows: parse_incident must say so
        parse_cache = _parse_cache(cache_dir, ids)
        cached = parse_cache.load()
    listing = IncidentFiles.find(directory)
    refused = _outside_the_site(directory, listing, relative_to)
    if refused:  # not read at all, and the build fails: its page would publish them
        return _incident_set((), tuple(refused))
    if cached is not None:
        unchanged = _as_last_time(kept, cached, listing)
        if unchanged is not None:
            return unchanged
    shown_names = [prefix + name for name in listing.names]
    paths = [os.path.join(directory, name) for name in listing.names]
    if cached is not None:
        few = _few_changed(kept, listing, prefix, paths, ids, now, latest_allowed, cached)
        if few is not None:
            parsed_first = few.outcomes
            patched = _with_few_changed(kept, few, parse_cache, cached, listing, shown_names, cache_dir, ids)
            if patched is not None:
                return patched
    # A file whose size, times and inode are unchanged is not even read: with 10,000 incidents,
    # reading and hashing them all was most of a rebuild's incident loading.
    digests = ContentDigests(cache_dir / "incidents" / "digests.pickle") if cache_dir is not None else None
    # Per file, in name order: (digest, incident, warnings), or None if it failed to parse.
    outcomes: list[tuple | None] = [None] * len(paths)
    failures: dict[int, list[Problem]] = {}
    work: list[tuple] = []  # what _parse_file needs, for the files the cache cannot answer
    slots: list[int] = []
    digest_later: dict[int, os.stat_result] = {}  # by slot: files a worker reads and digests
    for index, path in enumerate(paths):
        shown, stem = shown_names[index], listing.names[index][:-3]
        try:
            stat = os.stat(path)
            if stat.st_size > _max_bytes():  # not read at all: it could be gigabytes
                failures[index] = [_too_large(shown, stat.st_size)]
                continue
        except FileNotFoundError:  # gone since it was listed
            continue
        if index in parsed_first:
            outcomes[index] = parsed_first[index]
            digests.remember(shown, stat, parsed_first[index].digest)
            continue
        digest = data = None
        later = False  # whether the worker parsing it reads and digests it
        if digests is not None:
            digest = digests.lookup(shown, stat)
            hit = cached.get(shown)
            if digest is None and hit is None:  # nothing to compare with: a cold build
                later = True
                digest_later[len(work)] = stat
            elif digest is None:  # read once, for the digest and, on a miss, the parse
                data = _read(path)
                digest = digests.learn(shown, stat, data)
            if _answers(hit, digest, stem, latest_allowed):
                outcomes[index] = hit
                continue
        work.append((stem, shown, path if data is None else data, digest, later))
        slots.append(index)
    for slot, (index, (kind, value)) in enumerate(zip(slots, _parse_files(work, ids, now, cached is not None))):
        if kind == "parsed":
            outcomes[index] = value
            if slot in digest_later:
                digests.remember(shown_names[index], digest_later[slot], value.digest)
        else:
            failures[index] = value
    incidents: list[Incident] = []
    fresh: dict[str, tuple] = {}
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            problems.extend(failures.get(index, ()))  # none: gone since it was listed
            continue
        incidents.append(outcome.incident)
        problems.extend(outcome.warnings)
        fresh[shown_names[index]] = outcome
    incidents.sort(key=_listed_order, reverse=True)
    if digests is not None:
        digests.save()
        if work or parsed_first or fresh.keys() != cached.keys():
            parse_cache.save(fresh)
        if not failures:
            _write_listing(cache_dir, ids, listing, _latest_update(incidents), incidents, problems)
    return _incident_set(tuple(incidents), tuple(problems))


def _incident_set(incidents: tuple[Incident, ...], problems: tuple[Problem, ...]) -> IncidentSet:
    return IncidentSet(incidents, problems)


def _listed_order(incident: Incident) -> tuple:
    """What incidents are sorted by, newest first (reversed): when each began, then its id."""
    return (incident.scheduled_for or incident.started_at, incident.id)


# --- the listing: a rebuild whose incident files are all as they were -----------------------
#
# Most rebuilds (after a check run, or the hourly one) find every incident file as the last
# build left it. The listing records each file's stamp (size, times, inode) with the order the
# incidents sort in and their warnings; when every stamp is the same, the incidents come
# straight from the parse cache in that order, with no file looked up, compared or sorted
# (0.07 s of a rebuild at 10,000 incidents).

_LISTING = "listing.pickle"


def _as_last_time(kept: Listing | None, parsed: dict[str, Parsed], listing: IncidentFiles) -> IncidentSet | None:
    """The incidents the last build loaded (`kept`: its listing), from the parse cache
    (`parsed`), if every file is as it was then; else None."""
    if kept is None or kept.files != listing:
        return None
    try:
        incidents = tuple(parsed[shown].incident for shown in kept.order)
    except KeyError:  # the parse cache lost an entry: load the usual way
        return None
    return _incident_set(incidents, kept.problems)


# Up to this many files changed since the listing (an edit, a new incident) are parsed alone, and
# the others come from the parse cache as the listing orders them, with no file looked up,
# compared or sorted again (docs/performance.md has what it saves).
_FEW_CHANGED = 16


@dataclass(frozen=True)
class _FewChanged:
    """The parses of the few incident files that changed since the last build's listing."""

    outcomes: dict[int, Parsed]  # by index in the listing: each changed file's parse
    replaced: frozenset[str]  # the files the last build's listing knew that changed or are gone


def _few_changed(kept: Listing | None, listing: IncidentFiles, prefix: str, paths: list[str],
                 ids: tuple[str, ...], now: datetime, latest_allowed: datetime, parsed: dict) -> _FewChanged | None:
    """When only a few files changed since the last build's listing (`kept`), and all of them
    parse: what they are now. Else None: the load goes the usual way and says what is wrong.
    A file with new times but the same bytes (touched, checked out again) is not parsed again."""
    if kept is None:
        return None
    changed, gone = listing.changed_since(kept.files, limit=_FEW_CHANGED)
    if not (changed or gone) or len(changed) + len(gone) > _FEW_CHANGED:
        return None
    outcomes: dict[int, tuple] = {}
    for index in changed:
        shown, stem = prefix + listing.names[index], listing.names[index][:-3]
        try:
            data = _read(paths[index])
        except (FileNotFoundError, _TooLarge):  # gone since it was listed; the usual way says it is too large
            return None
        digest = content_digest(data)
        hit = parsed.get(shown)
        if _answers(hit, digest, stem, latest_allowed):
            outcomes[index] = hit
            continue
        kind, outcome = _parse_file((stem, shown, data, digest, False), ids, now, True)
        if kind != "parsed":
            return None
        outcomes[index] = outcome
    replaced = frozenset(prefix + name for name in gone + [listing.names[index] for index in changed])
    return _FewChanged(outcomes, replaced)


def _with_few_changed(kept: Listing, few: _FewChanged, parse_cache: Buckets, parsed: dict[str, Parsed],
                      listing: IncidentFiles, shown_names: list[str], cache_dir: Path,
                      ids: tuple[str, ...]) -> IncidentSet | None:
    """The last build's incidents (`kept`: its listing) with the few changed files as they are
    now; None, with `parsed` untouched, if the parse cache cannot give the others. Only the
    changed files' entries of the parse cache are written again (files.Buckets.update)."""
    try:
        incidents = [parsed[shown].incident for shown in kept.order if shown not in few.replaced]
        before = [parsed[shown].incident for shown in few.replaced if shown in parsed]
    except KeyError:  # the parse cache lost an entry: load the usual way
        return None
    changes: dict[str, Parsed | None] = dict.fromkeys(few.replaced)  # None: gone
    for index, outcome in few.outcomes.items():
        changes[shown_names[index]] = outcome
        _insert_in_order(incidents, outcome.incident)
    for shown, outcome in changes.items():
        if outcome is None:
            parsed.pop(shown, None)
        else:
            parsed[shown] = outcome
    problems: list[Problem] = []
    for shown in shown_names:  # in name order, as a load gives them
        problems.extend(parsed[shown].warnings)
    parse_cache.update(changes)
    # The newest update of all stays the last build's unless a changed file had it.
    if any(incident.updated_at == kept.latest for incident in before if not incident.is_maintenance):
        latest = _latest_update(incidents)
    else:
        latest = _latest_update([outcome.incident for outcome in few.outcomes.values()], kept.latest)
    _write_listing(cache_dir, ids, listing, latest, incidents, problems)
    return _incident_set(tuple(incidents), tuple(problems))


def _insert_in_order(incidents: list[Incident], incident: Incident) -> None:
    """Put `incident` where sorting `incidents` (by _listed_order, newest first) would."""
    key = _listed_order(incident)
    low, high = 0, len(incidents)
    while low < high:
        middle = (low + high) // 2
        if _listed_order(incidents[middle]) > key:
            low = middle + 1
        else:
            high = middle
    incidents.insert(low, incident)


def _latest_update(incidents: Iterable[Incident], latest: datetime | None = None) -> datetime | None:
    """The newest update of any incident (maintenance aside), or `latest` if that is newer."""
    times = [incident.updated_at for incident in incidents if not incident.is_maintenance]
    if latest is not None:
        times.append(latest)
    return max(times, default=None)


def _write_listing(cache_dir: Path, ids: tuple[str, ...], listing: IncidentFiles, latest: datetime | None,
                   incidents: list[Incident], problems: list[Problem]) -> None:
    order = [incident.source for incident in incidents]
    write_cache(cache_dir / "incidents" / _LISTING, (code_fingerprint(), ids),
                Listing(listing, latest, order, tuple(problems)))


def _parse_files(work: list[tuple], ids: tuple[str, ...], now: datetime, for_cache: bool) -> list[tuple]:
    """`_parse_file` of each, on every core when there are many (a cold build of a large site)."""
    return spread(lambda item: _parse_file(item, ids, now, for_cache), work, "incident_files")


@dataclass(frozen=True)
class IncidentFiles:
    """incidents/*.md but a README, in name order, with each file's size, times and inode
    (files.stamp) packed in `stamps`: two listings compare in one step, and one travels from a
    child in one piece (10,000 stamps as tuples took 5-9 ms to unpickle)."""

    directory: str = field(compare=False)  # the same files, moved with their folder, are as they were
    names: tuple[str, ...]
    stamps: bytes  # _STAMP_BYTES per file, in the order of `names`
    linked: tuple[str, ...] = ()  # those of `names` that are symlinks: each is checked (sitepaths)

    @classmethod
    def find(cls, directory: Path | str) -> IncidentFiles:
        try:
            with os.scandir(directory) as entries:
                found = sorted((e for e in entries if e.name.endswith(".md") and e.name.lower() != "readme.md"
                                and e.is_file()), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return cls(os.fspath(directory), (), b"")
        numbers = array("q")
        for entry in found:
            size, modified, changed, inode = stamp(entry.stat())
            numbers.extend((size, modified, changed, inode & 0x7FFF_FFFF_FFFF_FFFF))  # an inode may need 64 bits
        # is_symlink() costs nothing here (the folder listing says so): only links are resolved.
        linked = tuple(entry.name for entry in found if entry.is_symlink())
        return cls(os.fspath(directory), tuple(e.name for e in found), numbers.tobytes(), linked)

    def changed_since(self, before: IncidentFiles, limit: int) -> tuple[list[int], list[str]]:
        """The indexes of files new or changed since `before`, and the names of those gone;
        more than `limit` in all may be cut short at `limit` + 1."""
        width, now, then = _STAMP_BYTES, self.stamps, before.stamps
        if self.names == before.names:
            changed = []
            for index in range(len(self.names)):
                at = index * width
                if now[at:at + width] != then[at:at + width]:
                    changed.append(index)
                    if len(changed) > limit:
                        break
            return changed, []
        seen = {name: index for index, name in enumerate(before.names)}
        changed = []
        for index, name in enumerate(self.names):
            earlier = seen.pop(name, None)
            if earlier is None or now[index * width:(index + 1) * width] != then[earlier * width:(earlier + 1) * width]:
                changed.append(index)
        return changed, list(seen)


_STAMP_BYTES = 4 * 8


def _outside_the_site(directory: Path, listing: IncidentFiles, root: Path | None) -> list[Problem]:
    """A problem for the incidents folder, or each incident file, whose real path leaves the site."""
    root = Path(directory).parent if root is None else root
    if listing.linked or os.path.islink(directory):
        if not is_inside(directory, root):
            return [outside_problem(directory, root)]
        return [outside_problem(os.path.join(directory, name), root) for name in listing.linked
                if not is_inside(os.path.join(directory, name), root)]
    return []


class _TooLarge(Exception):
    def __init__(self, size: int):
        self.size = size


def _read(path: str) -> bytes:
    """The file's bytes, or _TooLarge past the limit of an incident file (before reading it)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > _max_bytes():
            raise _TooLarge(size)
        return handle.read(_max_bytes() + 1)  # bounded even if it grows meanwhile


def _max_bytes() -> int:
    return MAX_FILE_KB * 1024


def _too_large(shown: str, size: int) -> Problem:
    """What incidents.parse_incident says of such a file, said before it is read."""
    return file_too_large(shown, size)


def _parse_file(item: tuple, ids: tuple[str, ...], now: datetime, for_cache: bool) -> tuple:
    """("parsed", (digest, incident, warnings)) or ("failed", problems) for one file: `item` is
    (stem, shown name, its bytes or its path, its digest, whether to work the digest out here)."""
    stem, shown, source, digest, to_digest = item
    try:
        data = source if isinstance(source, bytes) else _read(source)
    except _TooLarge as exc:
        return ("failed", [_too_large(shown, exc.size)])
    if to_digest:
        digest = content_digest(data)
    try:
        text = text_of(data)
    except UnicodeDecodeError as exc:
        return ("failed", [Problem(shown, None, None, f"not UTF-8 text ({exc.reason}); save the file as UTF-8")])
    try:
        incident, warnings = parse_incident(text, incident_id=stem, file=shown, component_ids=ids, now=now)
    except InvalidInput as exc:
        return ("failed", list(exc.problems))
    if for_cache:
        source = hashlib.sha256(repr((code_fingerprint(), ids, shown, digest)).encode()).hexdigest()
        incident = replace(incident, source_key=source)
    return ("parsed", Parsed(digest, incident.with_derived_facts(), list(warnings)))


# --- the parse cache -------------------------------------------------------------------------

def _answers(hit: Parsed | None, digest: str | None, stem: str, latest_allowed: datetime) -> bool:
    """Whether a parse cache entry (`hit`) is the parse of the file with this digest and name now."""
    return (hit is not None and hit.digest == digest and hit.incident.id == stem
            and _still_valid(hit.incident, latest_allowed))


def _still_valid(incident: Incident, latest_allowed: datetime) -> bool:
    """The one check of parse_incident that depends on `now`: an incident cannot be in the future."""
    return incident.is_maintenance or incident.updated_at <= latest_allowed


# The cache is split by file name into buckets, so that editing one incident rewrites 1/64 of
# it: the whole of it is 26 MB for 10,000 incidents, and writing that took 0.3 s a rebuild.
_BUCKETS = 64


def _parse_cache(cache_dir: Path, ids: tuple[str, ...]) -> Buckets:
    """Each file's parse, (digest, incident, warnings) by its shown name, made from `ids` and
    this code; an entry made from others reads as missing."""
    return Buckets(cache_dir / "incidents", (code_fingerprint(), ids), count=_BUCKETS)
