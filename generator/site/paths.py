"""The one rule for every file read from a site: its real path stays inside the site's folder.

A symlink in templates/assets/ to /proc/self/environ, or an incident linked from a home
directory, would otherwise be published as it is. Links that stay inside the site keep
working. Only links are resolved: a plain file under a folder already found inside cannot
leave it, and resolving every one of 10,000 incidents would cost a rebuild for nothing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from generator.site.problems import InvalidInput, Problem

OUTSIDE = "a symlink to outside the site"


def is_inside(path: Path | str, root: Path | str) -> bool:
    """Whether `path`, every link on the way resolved, is `root` or somewhere under it."""
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    return real == real_root or real.startswith(os.path.join(real_root, ""))


def shown_name(path: Path | str, root: Path | str) -> str:
    """`path` as people know it: relative to the site's folder, with forward slashes."""
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive (Windows)
        return os.fspath(path)


def outside_problem(path: Path | str, root: Path | str) -> Problem:
    what = OUTSIDE if os.path.islink(path) else "outside the site"
    return Problem(shown_name(path, root), None, None,
                   f"refusing to read this ({what}); put what it holds in the site's own folder instead")


def check_inside(path: Path | str, root: Path | str) -> None:
    """Raise InvalidInput unless `path` (which need not exist) stays inside `root`."""
    if not is_inside(path, root):
        raise InvalidInput([outside_problem(path, root)])


def links_outside(directory: Path | str, root: Path | str) -> list[Problem]:
    """A problem for `directory` itself, or for each link anywhere under it, that leads out
    of `root`. Links are not followed while walking: a linked folder is checked as a whole."""
    directory = os.fspath(directory)
    if not os.path.lexists(directory):
        return []
    if not is_inside(directory, root):
        return [outside_problem(directory, root)]
    problems = []
    pending = [directory]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        if not is_inside(entry.path, root):
                            problems.append(outside_problem(entry.path, root))
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        except (NotADirectoryError, FileNotFoundError, PermissionError):
            continue
    return sorted(problems, key=lambda p: p.file)


def refuse_links_outside(directory: Path | str, root: Path | str) -> None:
    """Raise InvalidInput naming every link under `directory` that leads out of `root`."""
    problems = links_outside(directory, root)
    if problems:
        raise InvalidInput(problems)


class NotARegularFile(OSError):
    """A named pipe, a device or a socket where a file of the site belongs: reading it could wait
    forever (a FIFO with no writer) or never end (/dev/zero)."""


def is_link(found: os.stat_result) -> bool:
    """Whether an lstat result is a symlink, or on Windows a junction (which islink misses)."""
    return stat.S_ISLNK(found.st_mode) or bool(getattr(found, "st_file_attributes", 0)
                                              & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0))


def behind_a_link(folder: Path, top: Path, seen: dict[str, bool]) -> bool:
    """Whether a folder from `top` (not included) down to `folder` is a link: a file there is
    not in `top` at all. `seen`: the answers so far in this build."""
    name = os.fspath(folder)
    if folder == top or folder == folder.parent:
        return False
    if name not in seen:
        try:
            linked = is_link(os.lstat(folder))
        except FileNotFoundError:
            linked = False
        except OSError:
            linked = True  # cannot tell: do not go through it
        seen[name] = linked or behind_a_link(folder.parent, top, seen)
    return seen[name]


def read_regular_file(path: Path | str, *, follow_links: bool = True) -> bytes:
    """The bytes of the regular file at `path`; NotARegularFile for anything else, found without
    waiting: the file is opened without blocking and examined before a byte is read. With
    `follow_links=False` a link at `path` is not a regular file either (an OSError)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_links:
        if not hasattr(os, "O_NOFOLLOW") and is_link(os.lstat(path)):  # Windows: look first
            raise NotARegularFile(f"{path} is a link")
        flags |= getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotARegularFile(f"{path} is not a regular file (a pipe, device or socket)")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(descriptor)
