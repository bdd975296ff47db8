"""`heliograph build`, as its stages: read the inputs, decide what is reusable, render, write,
save the caches (`build` below reads top to bottom as them; docs/architecture.md explains each)."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from stat import S_ISREG
from typing import Mapping

from generator.engine.atomic import remove_temporaries, write_atomically
from generator.engine.files import make_real_folders
from generator.engine.inputs import CACHE_DIR, BuildInputs, read_inputs
from generator.engine.parallel import spread
from generator.engine.reuse import KEEP, Ledger, NewFileWriter, Outputs, Written, fragment_store, save_fragments
from generator.render.environment import make_environment, template_dirs
from generator.render.outputs import render_outputs
from generator.render.pages import LanguageOutputs, page_context, render_front_page, render_pages, render_site_files
from generator.site.config import Site
from generator.site.paths import behind_a_link, is_inside, is_link, shown_name
from generator.site.problems import InvalidInput, Problem

MANIFEST = ".heliograph-manifest"
# In build/ while a build writes there: found by the next build, it says the last one was killed.
UNFINISHED = ".heliograph-unfinished"


@dataclass(frozen=True)
class BuildReport:
    """What a build did: how many files build/ holds, and how many were written, kept and removed."""

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
                   writer: NewFileWriter | None = None) -> Outputs:
    """Like render_site, but an output whose key is `reusable`'s (the file build/ holds was
    rendered from the same things) is left as KEEP instead of rendered again, and parts of pages
    found in `fragments` are used as they are. `cache_dir` keeps compiled templates; `writer`
    writes new pages as they are rendered (they are then `Written`)."""
    outputs = Outputs(reusable, fragments=fragments or {}, writer=writer)
    site = inputs.site
    env = make_environment(site, cache_dir, keep=outputs.fragment)
    languages = {tag: env if tag == site.info.language else make_environment(site, cache_dir, outputs.fragment, tag)
                 for tag in site.info.page_languages}
    common = page_context(inputs)
    render_front_page(env, inputs, common, outputs)
    render_pages(env, inputs, common, outputs)
    for tag, language_env in languages.items():
        if language_env is not env:  # the first language's pages are the ones above, at the root
            in_language = LanguageOutputs(outputs, site.info.language_prefix(tag))
            render_front_page(language_env, inputs, common, in_language)
            render_pages(language_env, inputs, common, in_language)
    render_site_files(env, inputs, common, outputs)
    outputs.add(_static_assets(site))
    render_outputs(env, inputs, outputs, languages)
    outputs.render_deferred()
    return outputs


def _static_assets(site: Site) -> dict[str, bytes]:
    """templates/assets/* is copied as it is; a site's own file wins over the built-in one."""
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
    made_real: set[str] = set()  # folders in build/ known to be real ones (make_real_folders)
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
    for was_written in spread(lambda item: _write_if_changed(output, *item, made_real), to_compare, "writes"):
        written += was_written
        unchanged += not was_written
    linked: dict[str, bool] = {}
    # Only names that stay in build/ are removed: the manifest may come from anywhere.
    for relative in sorted(name for name in previous - files.keys() if _stays_inside(name)):
        stale = output / relative
        # A file behind a link to a folder is not in build/, whatever the manifest says; a link
        # in a file's place is removed itself, what it leads to never.
        if behind_a_link(stale.parent, output, linked):
            continue
        try:
            found = os.lstat(stale)
        except OSError:
            continue
        if S_ISREG(found.st_mode) or is_link(found):
            stale.unlink()
            removed += 1
            _remove_empty_parents(stale.parent, output)
    if previous != files.keys():
        write_atomically(manifest_path, ("\n".join(sorted(files)) + "\n").encode())
    return written, unchanged, removed


def _write_if_changed(output: Path, relative: str, content: bytes, made_real: set[str]) -> bool:
    """Write `content` to output/relative unless the file there holds it already; whether it wrote.
    Never through a link: one on the way, or in the file's place, is replaced (write_atomically
    renames over the link itself), and only a regular file is read to compare."""
    target = output / relative
    make_real_folders(target.parent, output, made_real)
    try:
        found = os.lstat(target)
        if S_ISREG(found.st_mode) and found.st_size == len(content) and target.read_bytes() == content:
            return False
        new = False
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        new = True
    write_atomically(target, content, new=new)
    return True


def _manifest(output: Path) -> set[str]:
    """The files an earlier build wrote to `output`: the only ones a build ever removes (those of
    them that `_stays_inside`). A build/ may come from anywhere (a repository can commit one):
    only a regular file is read."""
    manifest_path = output / MANIFEST
    try:
        if not S_ISREG(os.lstat(manifest_path).st_mode):
            return set()
        names = manifest_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return set()
    return set(names)


def _stays_inside(name: str) -> bool:
    """Whether a manifest's name is a plain relative path: no root, drive, "." or ".." part."""
    return bool(name) and "\0" not in name and not name.startswith(("/", "\\")) \
        and not os.path.splitdrive(name)[0] \
        and all(part not in ("", ".", "..") for part in name.replace("\\", "/").split("/"))


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


def _refuse_output_outside(root: Path, output: Path) -> None:
    """A build/ in the site that is a link leading out of it (committed, or made by hand) would
    have the build write, and remove, files wherever it leads: refused before anything is read.
    An --output outside the site is the user's choice, and taken as it is."""
    lexical, site = os.path.abspath(output), os.path.abspath(root)
    if (lexical == site or lexical.startswith(os.path.join(site, ""))) and not is_inside(output, root):
        raise InvalidInput([Problem(shown_name(output, root), None, None,
                                    "refusing to write the page here (a symlink to outside the site): the build "
                                    "would write and remove files where it leads; make it a real folder, or "
                                    "give --output the folder to write to")])


def _remove_empty_parents(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


# What a build made, kept by `build(..., process_ends=True)`: see there.
_KEPT_UNTIL_EXIT: list = []


def build(root: Path, output: Path | None = None, *, now: datetime | None = None, base_url: str | None = None,
          strict: bool = False, process_ends: bool = False, keep_in: list | None = None) -> BuildReport:
    """Build the site at `root`; raises InvalidInput listing every error (and, with strict, every warning).

    A broken incident file fails the build rather than being left out: an active incident that
    silently vanished would tell readers all is well, while a failed deploy keeps the last good page.
    `process_ends` says the process ends after this build (`heliograph build`): what the build
    loaded and made is then never freed, which took 60-100 ms of a large site's rebuild.
    `keep_in`, a list, holds it instead until the caller empties it (`serve`, after it has
    told the browser to reload).
    """
    try:
        return _build(root, output, now=now, base_url=base_url, strict=strict,
                      kept=_KEPT_UNTIL_EXIT if process_ends else keep_in)
    finally:
        gc.unfreeze()  # what the caches loaded (memory.gc_paused) can be collected again


def _build(root: Path, output: Path | None, *, now: datetime | None, base_url: str | None,
           strict: bool, kept: list | None = None) -> BuildReport:
    output = output or root / "build"
    _refuse_output_outside(root, output)
    cache_dir = root / CACHE_DIR
    # 1. Read the inputs. Any error stops the build here, before build/ is touched.
    inputs = read_inputs(root, now=now, base_url=base_url)
    problems = inputs.incidents.problems
    if any(p.severity == "error" for p in problems) or (strict and problems):
        raise InvalidInput(problems)
    # 2. Decide what is reusable: the outputs build/ still holds as the last build left them.
    ledger = Ledger.check(cache_dir, output)
    fragments = fragment_store(cache_dir)
    # 3. Render what changed, writing new files as they are rendered; 4. write the others.
    _start_writing(output)
    try:
        writer = NewFileWriter(output, lambda paths: _claim(output, paths))
        outputs = render_changed(inputs, ledger.reusable, fragments.load(), cache_dir, writer)
        written, unchanged, removed = write_output(output, outputs.files)
    finally:  # not after SIGKILL, which is the point: a build that fails cleans up after itself
        (output / UNFINISHED).unlink(missing_ok=True)
    # 5. Save the caches.
    ledger.save(outputs.files, outputs.keys)
    save_fragments(fragments, outputs)
    if kept is not None:
        kept.append((inputs, outputs, ledger))
    return BuildReport(output=output, files=len(outputs.files), written=written, unchanged=unchanged,
                       removed=removed, problems=problems)
