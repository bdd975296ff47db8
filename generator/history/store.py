"""Files of the history directory: where shards live, appending to them safely, reading them back."""

from __future__ import annotations

import errno
import getpass
import hashlib
import os
import tempfile
import re
from collections import defaultdict
from datetime import date, datetime, timezone
from json import loads
from pathlib import Path
from typing import TYPE_CHECKING, Collection, Iterable


from generator.checks.result import CheckResult
from generator.history.aggregate import SeriesDay, parse_daily
from generator.engine import atomic
from generator.history.codec import Record, Shard, encode_result, for_storage, parse_raw, parse_raw_shard
from generator.site.paths import NotARegularFile, read_regular_file
from generator.site.problems import Problem, did_you_mean

RAW_DIR = "raw"
DAILY_DIR = "daily"
GITATTRIBUTES = ".gitattributes"
UNION_RULE = "*.jsonl merge=union"
_GITATTRIBUTES_TEXT = (
    "# Written by Heliograph. History files are sets of lines, so when two runners' branches\n"
    "# both append, git keeps both sides' lines instead of reporting a conflict; readers sort\n"
    "# and de-duplicate.\n" + UNION_RULE + "\n"
)
_RAW_NAME = re.compile(r"(\d{4})/(\d{2})/(\d{2})\.jsonl\Z")
_DAILY_NAME = re.compile(r"(\d{4})-(\d{2})\.jsonl\Z")


def raw_shard_path(history_dir: Path, day: date) -> Path:
    return Path(history_dir) / RAW_DIR / f"{day.year:04d}" / f"{day.month:02d}" / f"{day.day:02d}.jsonl"


def daily_path(history_dir: Path, year: int, month: int) -> Path:
    return Path(history_dir) / DAILY_DIR / f"{year:04d}-{month:02d}.jsonl"


def raw_shards(history_dir: Path, problems: list | None = None, misnamed: list | None = None) -> dict[date, Path]:
    """Every raw shard by day; files that do not look like shards are not ours to read. A
    folder where a shard belongs is reported in `problems`; a shard named for no real day
    (13/01.jsonl, 11/99.jsonl) in `misnamed`, else in `problems` too."""
    misnamed = problems if misnamed is None else misnamed
    root = Path(history_dir) / RAW_DIR
    shards = {}
    for path in root.glob("*/*/*.jsonl"):
        match = _RAW_NAME.search(path.relative_to(root).as_posix())
        if match:
            try:
                day = date(*map(int, match.groups()))
            except ValueError:
                if misnamed is not None:
                    misnamed.append(Problem(str(path), None, None, "left out: no such day; a raw shard is named "
                                            "raw/YYYY/MM/DD.jsonl for the UTC day its results are from", "warning"))
                continue
            if path.is_dir():  # read_history_file says so where a reader asks for this day's shard
                if problems is not None:
                    problems.append(Problem(str(path), None, None, "left out: this is a folder, not a file", "warning"))
                continue
            shards[day] = path
    return dict(sorted(shards.items()))


def daily_files(history_dir: Path) -> dict[tuple[int, int], Path]:
    shards = {}
    for path in (Path(history_dir) / DAILY_DIR).glob("*.jsonl"):
        match = _DAILY_NAME.fullmatch(path.name)
        if match:
            shards[(int(match[1]), int(match[2]))] = path
    return dict(sorted(shards.items()))


# --- writing ---------------------------------------------------------------------------------


def ensure_gitattributes(history_dir: Path) -> Path:
    """Make `<history_dir>/.gitattributes` carry the union-merge rule, keeping anything else in it."""
    path = Path(history_dir) / GITATTRIBUTES
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if any(line.split() == UNION_RULE.split() for line in text.splitlines()):
        return path
    if text and not text.endswith("\n"):
        text += "\n"
    write_atomically(path, (text + _GITATTRIBUTES_TEXT).encode("utf-8"))
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """History files are replaced in one step and reach the disk before the old one goes."""
    atomic.write_atomically(path, data, durable=True, mode=0o644)


def append_results(history_dir: Path, results: Iterable[CheckResult]) -> list[Path]:
    """Append results to their days' raw shards; returns the shards written, oldest first.

    Nothing already written is rewritten. Each shard gets one write() of the whole batch on an
    O_APPEND descriptor under the shard's exclusive lock (`lock_shard`), so concurrent
    appenders on one machine interleave whole batches and lose nothing.
    """
    history_dir = Path(history_dir)
    batches: dict[date, list[tuple[tuple, bytes]]] = defaultdict(list)
    for result in results:
        stored = for_storage(result)
        # Sorted within a batch so that a run's diff reads in time order whatever the check order.
        batches[stored.time.date()].append(((stored.time, stored.component, stored.location), encode_result(stored)))
    if not batches:
        return []
    ensure_gitattributes(history_dir)
    written = []
    for day in sorted(batches):
        path = raw_shard_path(history_dir, day)
        _append_locked(path, b"".join(line for _, line in sorted(batches[day], key=lambda entry: entry[0])))
        written.append(path)
    return written


def _append_locked(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Under the shard's lock compaction cannot remove the file between our open and our write,
    # so the batch always lands in the file at `path`, the one readers see.
    with lock_shard(path):
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)
        try:
            size = os.fstat(descriptor).st_size
            if size and _byte_at(descriptor, size - 1) != b"\n":
                # A writer died mid-line: end that line so ours stays whole; readers report it.
                payload = b"\n" + payload
            _write_all(descriptor, payload)
        finally:
            os.close(descriptor)


_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def _byte_at(descriptor: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(descriptor, 1, offset)
    os.lseek(descriptor, offset, os.SEEK_SET)  # Windows has no pread; O_APPEND writes go to the end anyway
    return os.read(descriptor, 1)


def _write_all(descriptor: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        try:
            written = os.write(descriptor, view)
        except InterruptedError:
            continue
        except OSError as error:  # pragma: no cover - disk full and friends
            if error.errno == errno.EINTR:
                continue
            raise
        view = view[written:]


if TYPE_CHECKING:
    from filelock import BaseFileLock as ShardLock


def lock_shard(path: Path) -> ShardLock:
    """The shard's exclusive lock, held (blocks appenders); `release()` it, or use it in `with`.

    The lock is a file of its own (filelock: flock on Linux and macOS, LockFileEx on Windows),
    not the shard: a lock file in the history directory would end up in git, and a shard
    cannot be removed on Windows while it is open. It is in the temporary directory, named by
    the shard's absolute path, so every process of this user on this machine finds the same one."""
    name = hashlib.sha256(os.path.normcase(str(Path(path).resolve())).encode("utf-8")).hexdigest()[:32]
    folder = Path(tempfile.gettempdir()) / f"heliograph-locks-{_user()}"
    folder.mkdir(parents=True, exist_ok=True)
    # Imported here: 11 ms of every build, which reads the history and never locks it.
    import filelock  # not at the top: 16 ms of imports, paid only here

    lock = filelock.FileLock(folder / f"{name}.lock")
    lock.acquire()
    return lock


def _user() -> str:
    """A folder of locks per user: another user's lock files could not be opened for writing."""
    try:
        return "".join(c for c in getpass.getuser() if c.isalnum() or c in "-_") or "user"
    except Exception:  # no name for this user id (some containers)
        return str(getattr(os, "getuid", lambda: "user")())


# --- reading ---------------------------------------------------------------------------------


def read_history_file(path: Path, problems: list | None) -> bytes | None:
    """A history file's bytes; None when there is none, or when it cannot be read (a folder
    where a shard belongs, say): that is reported in `problems`, like a bad line, and the
    file is left out."""
    try:
        return read_regular_file(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # IsADirectoryError; PermissionError for a folder on Windows; a pipe
        if problems is not None:
            what = ("a folder, not a file" if os.path.isdir(path) else "a pipe, device or socket, not a file"
                    if isinstance(exc, NotARegularFile) else f"unreadable ({exc.strerror or exc})")
            problems.append(Problem(str(path), None, None, f"left out: this is {what}", "warning"))
        return None


def read_raw_shard(path: Path, day: date, problems: list | None = None) -> list[Record]:
    data = read_history_file(path, problems)
    if data is None:
        return []
    return parse_raw(data, str(path), problems, day=day)


def read_raw_columns(path: Path, day: date, problems: list | None = None) -> Shard:
    """`read_raw_shard` as a Shard: the same results and problems, several times faster."""
    data = read_history_file(path, problems)
    if data is None:
        return Shard({})
    return parse_raw_shard(data, str(path), problems, day=day)


def read_daily_file(path: Path, problems: list | None = None) -> dict[tuple[str, str, date], SeriesDay]:
    data = read_history_file(path, problems)
    if data is None:
        return {}
    return parse_daily(data, str(path), problems)


def read_results(
    history_dir: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    components: Collection[str] | None = None,
    problems: list | None = None,
) -> list[CheckResult]:
    """Raw results with since <= time < until, sorted by (time, component, location), each once.

    Days already compacted have no individual results left; see `summarize` for those.
    """
    for bound in (since, until):
        if bound is not None and bound.tzinfo is None:
            raise ValueError("since and until must be timezone-aware")
    first = since.astimezone(timezone.utc).date() if since else date.min
    last = until.astimezone(timezone.utc).date() if until else date.max
    low = since.timestamp() if since else float("-inf")
    high = until.timestamp() if until else float("inf")
    wanted = None if components is None else set(components)
    results = []
    for day, path in raw_shards(history_dir).items():
        if not first <= day <= last:
            continue
        for record in read_raw_shard(path, day, problems):
            if low <= record.time < high and (wanted is None or record.component in wanted):
                results.append(record.to_result())
    return results


def validate(history_dir: Path, problems: list, component_ids: Collection[str] | None = None,
             notices: list | None = None) -> None:
    """Read every raw and daily file, reporting each unreadable line into `problems`. Into
    `notices` (else `problems`) go what is left out but not broken: a shard named for no real
    day, and, with `component_ids`, the first line of each component not among them."""
    notices = problems if notices is None else notices
    for day, path in sorted(raw_shards(history_dir, problems, notices).items()):
        data = read_history_file(path, problems)
        if data is not None:
            parse_raw(data, str(path), problems, day=day)
            if component_ids is not None:
                notices.extend(unknown_components(data, str(path), component_ids))
    for _, path in sorted(daily_files(history_dir).items()):
        read_daily_file(path, problems)


def unknown_components(data: bytes, source: str, component_ids: Collection[str]) -> list[Problem]:
    """A warning at the first line of each component id in a shard's `data` that site.yaml
    does not have (a typo, or a component since removed), with how many lines name it."""
    first: dict[str, int] = {}
    count: dict[str, int] = defaultdict(int)
    for number, line in enumerate(data.split(b"\n"), 1):
        try:
            component = loads(line).get("c")
        except (ValueError, AttributeError):
            continue  # parse_raw reports it
        if type(component) is str and component not in component_ids:
            first.setdefault(component, number)
            count[component] += 1
    return [Problem(source, line, None, f"component {component!r} is not in site.yaml"
                    f"{did_you_mean(component, component_ids)}; its {count[component]} result(s) here are "
                    "not shown anywhere", "warning") for component, line in first.items()]
