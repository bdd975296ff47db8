"""Files written so that no reader ever sees half of one, and the temporaries a killed writer leaves."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path
from stat import S_IMODE, S_ISREG


def write_atomically(path: Path, data: bytes, *, durable: bool = False, mode: int | None = None,
                     new: bool = False) -> None:
    """Replace `path` in one step: a crash mid-write, or a reader right now, sees the old file or the new.

    `durable` also waits for the disk (history must survive a crash; a page or a cache need not).
    The file keeps its mode, or gets `mode`, or, when new, the mode a plain open would give it.
    `new` says the caller knows the file is not there and its folder is (12,000 files of a cold
    build then cost a syscall or two less each).
    """
    if not new:
        path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per writer: two processes writing the same file must not share a temporary.
    # (remove_temporaries knows this name.)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "xb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        elif not new:
            # The mode of the file replaced, never of what a link there leads to (the rename
            # below replaces the link itself: nothing is ever written through one).
            with contextlib.suppress(FileNotFoundError):
                found = os.lstat(path)
                if S_ISREG(found.st_mode):
                    os.chmod(temporary, S_IMODE(found.st_mode))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


_TEMPORARY_NAME = re.compile(r"\..+\.[0-9]+\.[0-9a-f]{8}\.tmp")


def remove_temporaries(folder: Path) -> int:
    """Remove, in `folder` and below, the temporaries write_atomically leaves when its process is
    killed mid-write (nothing else can clean up after SIGKILL); how many. Not while another
    process may be writing into `folder`: its temporaries are not told apart from a dead one's."""
    removed = 0
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            elif _TEMPORARY_NAME.fullmatch(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed
