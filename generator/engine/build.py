"""`heliograph build`: read the site (`inputs`), render every output, write what changed."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from generator.engine import inputs as _inputs
from generator.engine.files import remove_temporaries, write_atomically
from generator.engine.inputs import CACHE_DIR, BuildInputs, read_inputs
from generator.engine.parallel import fork_call
from generator.site.problems import InvalidInput, Problem
from generator.engine.reuse import KEEP, Ledger, NewFileWriter, Outputs, Written, fragment_store, save_fragments

# Jinja is imported where it is used: a large site's build forks a child to check build/ first,
# and the parent imports it (and the config and incident modules: about 60 ms) while it runs
# (see _build).
if TYPE_CHECKING:
    import jinja2

    from generator.site.config import Site
    from generator.site.incident_loading import IncidentFiles

MANIFEST = ".heliograph-manifest"
# In build/ while a build writes there: found by the next build, it says the last one was killed.
UNFINISHED = ".heliograph-unfinished"
# The ledger's size from which a build checks build/ in a child from its start: about 4,500
# outputs, a site of about 4,000 incidents. It is known before anything is loaded.
PARALLEL_MIN_LEDGER_BYTES = 1_000_000


@dataclass(frozen=True)
class BuildReport:
    output: Path
    files: int
    written: int
    unchanged: int
    removed: int
    problems: tuple[Problem, ...]


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
    from generator.render.pages import page_context, render_front_page, render_pages  # the HTML pages
    from generator.render.environment import make_environment
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
        from generator.render.outputs import render_outputs  # imported where it runs: 7 ms less for the parent

        outputs = Outputs(reusable, fragments=fragments)
        render_outputs(env, inputs, outputs)
        outputs.render_deferred()
        return outputs.rendered()

    # A build with nothing to keep (a cold one) renders every page on every core already: a
    # child would only compete with those workers.
    return fork_call(render, fork=bool(reusable) and len(inputs.incidents.incidents) >= _inputs.PARALLEL_MIN_INCIDENTS)


def _static_assets(site: Site) -> dict[str, bytes]:
    """templates/assets/* is copied as it is; a site's own file wins over the built-in one."""
    from generator.render.environment import template_dirs

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
    from generator.engine.parallel import fork_map

    output.mkdir(parents=True, exist_ok=True)
    manifest_path = output / MANIFEST
    previous = _manifest(output)
    written = unchanged = removed = 0
    to_compare = []  # (path, bytes): what may differ from the file there
    for relative, content in files.items():
        if content is KEEP:  # the file there is already this output
            unchanged += 1
        elif type(content) is Written:  # written as it was rendered (NewFileWriter)
            written += 1
        else:
            to_compare.append((relative, content))
    # Many files (a check run that changes the page's status rewrites 600 at 10,000 incidents)
    # are written on every core: replacing a file costs the file system more than writing it.
    for was_written in fork_map(lambda item: _write_if_changed(output, *item), to_compare,
                                minimum=_PARALLEL_MIN_WRITES):
        written += was_written
        unchanged += not was_written
    for relative in sorted(previous - set(files)):
        stale = output / relative
        if stale.is_file():
            stale.unlink()
            removed += 1
            _remove_empty_parents(stale.parent, output)
    if previous != files.keys():
        write_atomically(manifest_path, ("\n".join(sorted(files)) + "\n").encode())
    return written, unchanged, removed


_PARALLEL_MIN_WRITES = 200  # below this, starting processes costs more than it saves


def _write_if_changed(output: Path, relative: str, content: bytes) -> bool:
    """Write `content` to output/relative unless the file there holds it already; whether it wrote."""
    target = output / relative
    try:
        if target.stat().st_size == len(content) and target.read_bytes() == content:
            return False
        new = False
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        new = True
    write_atomically(target, content, new=new)
    return True


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


def _start_writing(output: Path) -> None:
    """Mark `output` as being written. If the mark is there already, the last build was killed
    while writing: every file it wrote is whole (write_atomically), but its temporaries are left
    behind, and go now. The files it did not get to are written by this build as usual."""
    marker = output / UNFINISHED
    try:
        open(marker, "xb").close()
    except FileNotFoundError:  # no build/ yet
        output.mkdir(parents=True, exist_ok=True)
        open(marker, "xb").close()
    except FileExistsError:
        remove_temporaries(output)


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
        gc.unfreeze()  # what the caches loaded (memory.gc_paused) can be collected again


def _build(root: Path, output: Path | None, *, now: datetime | None, base_url: str | None,
           strict: bool, kept: list | None = None) -> BuildReport:
    output = output or root / "build"
    cache_dir = root / CACHE_DIR

    def incident_files() -> IncidentFiles:
        from generator.site.incident_loading import IncidentFiles
        return IncidentFiles.find(root / "incidents")

    # On a large site (one whose ledger is large), a child forked first looks up the incident
    # files (10,000 stats), then what build/ still holds (12,000 more), while the parent loads
    # the inputs.
    large = Ledger.size(cache_dir) >= PARALLEL_MIN_LEDGER_BYTES
    with fork_call(lambda: Ledger.check(cache_dir, output), fork=large, first=incident_files) as checking:
        store_later: list[Callable[[], None]] = []  # the incidents' cache: written while a child renders
        inputs = read_inputs(root, now=now, base_url=base_url, store_later=store_later,
                             incident_files=checking.first_result)
        fragments = fragment_store(cache_dir)
        kept_fragments = fragments.load()
        if inputs.index is not None:  # what the pages need of the incidents, while the child still works
            inputs.index.work_out(until=checking.done)
        ledger = checking.result()
    if kept is not None:
        kept.append(inputs)
    problems = inputs.incidents.problems
    if any(p.severity == "error" for p in problems) or (strict and problems):
        raise InvalidInput(problems)
    _start_writing(output)
    try:
        writer = NewFileWriter(output, lambda paths: _claim(output, paths))
        outputs = render_changed(inputs, ledger.reusable, kept_fragments, cache_dir, writer,
                                 meanwhile=lambda: [store() for store in store_later])
        written, unchanged, removed = write_output(output, outputs.files)
    finally:  # not after SIGKILL, which is the point: a build that fails cleans up after itself
        (output / UNFINISHED).unlink(missing_ok=True)
    ledger.save(outputs.files, outputs.keys)
    save_fragments(fragments, outputs)
    if kept is not None:
        kept.append((outputs, ledger))
    return BuildReport(output=output, files=len(outputs.files), written=written, unchanged=unchanged,
                       removed=removed, problems=problems)
