"""`heliograph build`: read the site, compute the status, render every output, write what changed."""

from __future__ import annotations

import gc
import hashlib
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .files import write_atomically
from .parallel import fork_call
from .problems import InvalidInput, Problem, relative_file
from .reuse import KEEP, Ledger, NewFileWriter, Outputs, Written, fragment_store, output_key, save_fragments

# Imported where they are used: a large site's build forks a child to check build/ first, and
# the parent imports these (Jinja, the config and incident modules: about 60 ms) while it runs
# (see _build).
if TYPE_CHECKING:
    import jinja2

    from .config import Site
    from .incidents import Incident, IncidentSet
    from .status import PageStatus

MANIFEST = ".heliograph-manifest"
CACHE_DIR = ".heliograph-cache"  # in the site root, git-ignored; safe to delete at any time
# From this many incidents, a build forks (parallel.fork_call) to summarise the history while
# the incidents load, and to render the front page and the files other sites and tools read
# while the other pages render. A child costs more than its fork: each side copies the memory
# pages it then touches. Measured against the serial way, in process: at 10,000 incidents a
# check run's rebuild took 0.74-0.89 s against 0.84-1.0 s, an edit's 0.72-0.77 s against
# 0.78-0.84 s; at 4,000 it was even, and at 1,000 a loss (0.40-0.45 s against 0.37-0.40 s).
PARALLEL_MIN_INCIDENTS = 5000
# The ledger's size from which a build checks build/ in a child from its start: about 4,500
# outputs, a site of about 4,000 incidents. It is known before anything is loaded.
PARALLEL_MIN_LEDGER_BYTES = 1_000_000


class IncidentIndex:
    """What the outputs need of the incidents alone, each worked out once for all of them. On a
    large site a check run's history takes longer to summarise than the incidents to load, and
    the parent works these out while it waits for the history child (see
    _incidents_and_histories)."""

    def __init__(self, incidents: tuple[Incident, ...], site: Site, now: datetime):
        self.incidents, self.site, self.now = incidents, site, now

    @cached_property
    def by_component(self) -> dict[str, list[Incident]]:
        """Each component's incidents, newest first."""
        from .status import incidents_by_component
        return incidents_by_component(self.incidents, self.site.component_ids)

    @cached_property
    def facts_in_order(self) -> list[str | None]:
        """pages.incident_facts of every incident, in the incidents' order: what the keys of
        outputs listing them use."""
        from .pages import incident_facts
        now = self.now
        # Most incidents are resolved: their facts are their source_key (incident_facts' first
        # case, written out for 10,000 of them).
        return [incident.source_key if incident.resolved_at is not None and incident.source_key
                else incident_facts(incident, now) for incident in self.incidents]

    @cached_property
    def facts(self) -> dict[str, str | None]:
        """The same, by incident id."""
        return dict(zip([incident.id for incident in self.incidents], self.facts_in_order))

    @cached_property
    def day_notes(self) -> dict[str, dict]:
        """pages.incidents_by_day for each checked component: what its uptime bars note."""
        from .pages import incidents_by_day
        site = self.site
        checked = [c.id for c in site.components if c.check is not None]
        return incidents_by_day(self.incidents, site.component_ids, self.now, site.display.uptime_days,
                                with_history=checked)

    def work_out(self, until: Callable[[], bool]) -> None:
        """Work out each part now, unless `until()` says to stop: the rest is worked out when
        first asked for."""
        for part in ("by_component", "facts", "day_notes"):
            if until():
                return
            getattr(self, part)


@dataclass(frozen=True)
class BuildInputs:
    site: Site
    incidents: IncidentSet
    status: PageStatus
    now: datetime
    histories: dict[str, Any] = field(default_factory=dict)  # component id -> history.ComponentHistory
    index: IncidentIndex | None = field(default=None, compare=False, repr=False)  # of `incidents`, if made

    @cached_property
    def _index(self) -> IncidentIndex:
        return self.index or IncidentIndex(self.incidents.incidents, self.site, self.now)

    @property
    def incidents_by_component(self) -> dict[str, list[Incident]]:
        """Each component's incidents, newest first; worked out once for all the outputs that list them."""
        return self._index.by_component

    @property
    def incident_facts(self) -> dict[str, str | None]:
        """pages.incident_facts of every incident, by id: worked out once for all the keys that use them."""
        return self._index.facts

    @property
    def incident_facts_in_order(self) -> list[str | None]:
        """The same, in the order of `incidents`."""
        return self._index.facts_in_order

    @cached_property
    def day_notes(self) -> dict[str, dict]:
        """For each component's uptime bars: the incidents and maintenance of each day shown."""
        return {cid: notes for cid, notes in self._index.day_notes.items() if cid in self.histories}

    @cached_property
    def fingerprint(self) -> str:
        """What every output is made of besides its own data: the code and the site's settings."""
        from .reuse import code_fingerprint
        site = self.site
        return output_key(code_fingerprint(), site.info, site.components, site.display)


@dataclass(frozen=True)
class BuildReport:
    output: Path
    files: int
    written: int
    unchanged: int
    removed: int
    problems: tuple[Problem, ...]


def read_inputs(root: Path, *, now: datetime | None = None, base_url: str | None = None) -> BuildInputs:
    """The I/O edge: everything the pure rendering step needs."""
    return _read_inputs(root, now=now, base_url=base_url)


def _read_inputs(root: Path, *, now: datetime | None = None, base_url: str | None = None,
                 store_later: list[Callable[[], None]] | None = None) -> BuildInputs:
    """read_inputs; with `store_later`, the incidents' cache is written by the calls it is given."""
    from .incidents import IncidentSet
    from .status import page_status

    now = now or datetime.now(timezone.utc)
    site = _load_site(root)
    if base_url:
        from .config import _is_absolute_url  # the same rule as site.yaml's
        if not _is_absolute_url(base_url):
            raise InvalidInput([Problem("--base-url", None, None, f"{base_url!r} is not an absolute http(s) URL")])
        site = replace(site, info=replace(site.info, base_url=base_url.rstrip("/") + "/"))
    incidents, index, histories, history_problems = _incidents_and_histories(site, root, now, store_later)
    latest = {cid: h.latest for cid, h in histories.items() if h.latest is not None}
    status = page_status(site.components, incidents.incidents, now, latest)
    if history_problems:
        incidents = IncidentSet(incidents.incidents, incidents.problems + tuple(history_problems))
    return BuildInputs(site=site, incidents=incidents, status=status, now=now, histories=histories, index=index)


def _load_site(root: Path) -> Site:
    """config.load_site, kept in the cache while site.yaml's bytes and the code are the same:
    parsing and checking a large site.yaml, and importing PyYAML for it, took 30-45 ms of
    every rebuild. Only a site.yaml without problems is kept: any other is read again, and
    load_site says what is wrong with it."""
    from .config import CONFIG_FILE, Site, load_site, parse_site
    from .files import read_cache, write_cache
    from .reuse import code_fingerprint, installed_version

    try:
        data = (root / CONFIG_FILE).read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return load_site(root)
    key = ("site-1", code_fingerprint(), installed_version("yaml", "pyyaml"), str(root), hashlib.sha256(data).digest())
    path = root / CACHE_DIR / "site.pickle"
    site = read_cache(path, key)
    if type(site) is not Site:
        site = parse_site(text.replace("\r\n", "\n").replace("\r", "\n"), root=root, file=CONFIG_FILE)
        write_cache(path, key, site)
    return site


def _incidents_and_histories(site: Site, root: Path, now: datetime, store_later: list | None
                             ) -> tuple[IncidentSet, IncidentIndex, dict, list[Problem]]:
    """The incidents and their index, and the history with the problems found in it. The
    history needs only the maintenance notices: when every incident file is as the last build
    found it, or a few changed, load_incidents gives them first, and on a large site a forked
    child summarises the history (0.15-0.3 s at 10,000 incidents, longer as the day's results
    grow) while the other incidents load and the index is worked out."""
    from .incidents import load_incidents

    with ExitStack() as stack:
        summarizing: list[fork_call] = []

        def summarize_meanwhile(maintenance: tuple[Incident, ...]) -> None:
            summarizing.append(stack.enter_context(fork_call(lambda: _load_histories(site, maintenance, now))))

        incidents = load_incidents(site.incidents_dir, site.component_ids, now=now, relative_to=root,
                                   cache_dir=site.root / CACHE_DIR, maintenance_known=summarize_meanwhile,
                                   maintenance_from=PARALLEL_MIN_INCIDENTS, store_later=store_later)
        index = IncidentIndex(incidents.incidents, site, now)
        if summarizing:
            # Only while the child still works: after an edit it is soon done, and the outputs
            # child, forked next, should start at once.
            index.work_out(until=summarizing[0].done)
        histories, problems = summarizing[0].result() if summarizing else _load_histories(site, incidents.incidents, now)
    return incidents, index, histories, problems


def _load_histories(site: Site, incidents: tuple[Incident, ...], now: datetime) -> tuple[dict, list[Problem]]:
    """Each checked component's history; of the incidents, only the maintenance notices count."""
    checked = [c.id for c in site.components if c.check is not None]
    if not checked or not site.history_dir.is_dir():
        return {}, []
    from . import history  # imported late: a site with no checks never pays for it

    problems: list[Problem] = []
    windows = maintenance_windows(incidents, site.component_ids, now)
    histories = history.summarize(site.history_dir, checked, now=now, days=site.display.uptime_days,
                                  mode=site.display.uptime_mode, maintenance=windows, problems=problems,
                                  cache_dir=site.root / CACHE_DIR)
    # A corrupt history line is skipped and reported; only validate and --strict fail on it.
    return histories, [replace(p, severity="warning", file=relative_file(p.file, site.root)) for p in problems]


def maintenance_windows(incidents: tuple[Incident, ...], all_ids: tuple[str, ...], now: datetime) -> dict[str, list]:
    """Per component, the (start, end) spans of maintenance: expected downtime, not counted against uptime."""
    from .status import affected_ids

    windows: dict[str, list] = {}
    for incident in incidents:
        if not incident.is_maintenance or not incident.scheduled_for:
            continue
        end = incident.ended_at(now) or max(incident.scheduled_until or now, now)
        for component_id in affected_ids(incident, all_ids):
            windows.setdefault(component_id, []).append((incident.scheduled_for, end))
    return windows


def render_site(inputs: BuildInputs) -> dict[str, bytes]:
    """Every output file, by its path relative to the build directory. Pure: no file is touched."""
    return render_changed(inputs, {}).files


def render_changed(inputs: BuildInputs, reusable: Mapping[str, str],
                   fragments: Mapping[str, str] | None = None, cache_dir: Path | None = None,
                   writer: NewFileWriter | None = None, meanwhile: Callable[[], None] = lambda: None) -> Outputs:
    """Like render_site, but an output whose key is `reusable`'s (the file build/ holds was
    rendered from the same things) is left as KEEP instead of rendered again, and parts of pages
    found in `fragments` are used as they are. `cache_dir` keeps compiled templates; `writer`
    writes new pages as they are rendered (they are then `Written`). `meanwhile` is called while
    a child may be rendering the outputs other sites read."""
    from .pages import page_context, render_front_page, render_pages  # the HTML pages
    from .render import make_environment
    env = make_environment(inputs.site, cache_dir)
    fragments = fragments or {}
    with _render_outputs_meanwhile(env, inputs, reusable, fragments) as others:
        meanwhile()
        common = page_context(inputs)  # after the fork: the child needs none of it
        outputs = Outputs(reusable, fragments=fragments, writer=writer)
        render_front_page(env, inputs, common, outputs)
        render_pages(env, inputs, common, outputs)
        outputs.add(_static_assets(inputs.site))
        outputs.render_deferred()
        outputs.merge(others.result())
    return outputs


def _render_outputs_meanwhile(env: jinja2.Environment, inputs: BuildInputs, reusable: Mapping[str, str],
                              fragments: Mapping[str, str]) -> fork_call:
    """The badges, feeds, APIs and widget (what other sites and tools read), rendered apart from
    the pages: the result is their Outputs.rendered(). None is written: build/ holds them
    already, and such files are replaced only once everything has rendered. The front page
    stays with the other pages: with it, the child took 0.1-0.2 s longer than the parent after
    an edit at 10,000 incidents; without it, they end within 10-30 ms of each other."""
    def render() -> tuple:
        from .outputs import render_outputs  # imported where it runs: 7 ms less for the parent

        outputs = Outputs(reusable, fragments=fragments)
        render_outputs(env, inputs, outputs)
        outputs.render_deferred()
        return outputs.rendered()

    # A build with nothing to keep (a cold one) renders every page on every core already: a
    # child would only compete with those workers.
    return fork_call(render, fork=bool(reusable) and len(inputs.incidents.incidents) >= PARALLEL_MIN_INCIDENTS)


def _static_assets(site: Site) -> dict[str, bytes]:
    """templates/assets/* is copied as it is; a site's own file wins over the built-in one."""
    from .render import template_dirs

    files: dict[str, bytes] = {}
    for theme in reversed(template_dirs(site)):
        assets = theme / "assets"
        if not assets.is_dir():
            continue
        for path in sorted(assets.rglob("*")):
            if path.is_file():
                files["assets/" + path.relative_to(assets).as_posix()] = path.read_bytes()
    return files


def write_output(output: Path, files: dict[str, bytes]) -> tuple[int, int, int]:
    """Write files that changed (so static hosts re-upload less) and remove what an earlier build left.

    Only files listed in our manifest are ever removed: a user's own files in the folder are safe.
    """
    output.mkdir(parents=True, exist_ok=True)
    manifest_path = output / MANIFEST
    previous = _manifest(output)
    written = unchanged = removed = 0
    folders: set[str] = set()  # made or seen this build
    for relative, content in files.items():
        if content is KEEP:  # the file there is already this output
            unchanged += 1
            continue
        if type(content) is Written:  # written as it was rendered (NewFileWriter)
            written += 1
            continue
        target = output / relative
        try:
            if target.stat().st_size == len(content) and target.read_bytes() == content:
                unchanged += 1
                continue
            new = False
        except FileNotFoundError:
            folder = relative.rpartition("/")[0]
            if folder not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(folder)
            new = True
        write_atomically(target, content, new=new)
        written += 1
    for relative in sorted(previous - set(files)):
        stale = output / relative
        if stale.is_file():
            stale.unlink()
            removed += 1
            _remove_empty_parents(stale.parent, output)
    manifest_path.write_text("\n".join(sorted(files)) + "\n")
    return written, unchanged, removed


def _manifest(output: Path) -> set[str]:
    """The files an earlier build wrote to `output`: the only ones a build ever removes."""
    manifest_path = output / MANIFEST
    return set(manifest_path.read_text().splitlines()) if manifest_path.is_file() else set()


def _claim(output: Path, paths: list[str]) -> None:
    """Add `paths` to the manifest before they are written (see NewFileWriter)."""
    output.mkdir(parents=True, exist_ok=True)
    before = _manifest(output)
    if not before.issuperset(paths):
        write_atomically(output / MANIFEST, ("\n".join(sorted(before.union(paths))) + "\n").encode())


def _remove_empty_parents(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


# What a build made, kept by `build(..., process_ends=True)`: see there.
_KEPT_UNTIL_EXIT: list = []


def build(root: Path, output: Path | None = None, *, now: datetime | None = None, base_url: str | None = None,
          strict: bool = False, process_ends: bool = False) -> BuildReport:
    """Build the site at `root`; raises InvalidInput listing every error (and, with strict, every warning).

    A broken incident file fails the build rather than being left out: an active incident that
    silently vanished would tell readers all is well, while a failed deploy keeps the last good page.
    `process_ends` says the process ends after this build (`heliograph build`): what the build
    loaded and made is then never freed, which took 60-100 ms of a large site's rebuild.
    """
    try:
        return _build(root, output, now=now, base_url=base_url, strict=strict,
                      kept=_KEPT_UNTIL_EXIT if process_ends else None)
    finally:
        gc.unfreeze()  # what the caches loaded (files.gc_paused) can be collected again


def _build(root: Path, output: Path | None, *, now: datetime | None, base_url: str | None,
           strict: bool, kept: list | None = None) -> BuildReport:
    output = output or root / "build"
    cache_dir = root / CACHE_DIR

    def check_outputs() -> tuple[Ledger, dict[str, str]]:
        ledger = Ledger.load(cache_dir, output)
        return ledger, ledger.reusable()

    # What build/ still holds (12,000 stats at 10,000 incidents) is looked up by a forked child
    # while the parent loads the inputs, on a large site: one whose ledger is large.
    with fork_call(check_outputs, fork=Ledger.size(cache_dir) >= PARALLEL_MIN_LEDGER_BYTES) as checking:
        store_later: list[Callable[[], None]] = []  # the incidents' cache: written while a child renders
        inputs = _read_inputs(root, now=now, base_url=base_url, store_later=store_later)
        ledger, reusable = checking.result()
    if kept is not None:
        kept.append(inputs)
    problems = inputs.incidents.problems
    if any(p.severity == "error" for p in problems) or (strict and problems):
        raise InvalidInput(problems)
    writer = NewFileWriter(output, lambda paths: _claim(output, paths))
    fragments = fragment_store(cache_dir)
    outputs = render_changed(inputs, reusable, fragments.load(), cache_dir, writer,
                             meanwhile=lambda: [store() for store in store_later])
    written, unchanged, removed = write_output(output, outputs.files)
    ledger.save(outputs.files, outputs.keys)
    save_fragments(fragments, outputs)
    if kept is not None:
        kept.append((outputs, ledger))
    return BuildReport(output=output, files=len(outputs.files), written=written, unchanged=unchanged,
                       removed=removed, problems=problems)
