"""Reading the results the rules need from `history/`, quickly: the alert step runs after every
check, and two days of a large site are hundreds of thousands of results.

A component whose results in the window are all up cannot have a transition (not even a
resolved one: that needs an episode, which needs failures). So each day's shard is first
searched as bytes for results that are not up, which finds the few components worth reading;
only their lines are parsed, by the history's own parser (same validation, same de-duplication).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Collection, Iterator

from generator.history.codec import parse_raw_shard
from generator.history.store import raw_shards, read_history_file

_NOT_UP = re.compile(rb'"s"\s*:\s*"(?:down|degraded)"')
_COMPONENT = re.compile(rb'"c"\s*:\s*"([^"\\]+)"')
_TIME = re.compile(rb'"t"\s*:\s*"([^"\\]+)"')
# Results this long before a component's first failure in the window are read too, so the
# rounds around it are grouped as a reader of the whole window would group them.
LEAD = timedelta(hours=1)


Scanned = dict  # Path -> (its day, the shard's bytes, the (component, time) of each result in them not up)


def scan_shards(history_dir: Path, *, since: datetime, until: datetime) -> Scanned:
    """Each raw shard of the days from since to until, read and searched for results not up."""
    found: Scanned = {}
    for day, path in sorted(raw_shards(history_dir).items()):
        if not since.date() <= day <= until.date():
            continue
        data = read_history_file(path, None)
        if data:
            found[path] = (day, data, list(_failures(data)))
    return found


def results_that_may_alert(history_dir: Path, *, since: datetime, until: datetime,
                           components: Collection[str]) -> list:
    """The CheckResults with since <= time <= until of every component with a result that is not
    up, from a little before its first such result (up rounds before it cannot change anything)."""
    wanted = {component.encode() for component in components}
    shards = []
    first_failure: dict[bytes, float] = {}
    for path, (day, data, failures) in scan_shards(history_dir, since=since, until=until).items():
        shards.append((day, path, data))
        for component, moment in failures:
            if component in wanted and moment >= since.timestamp() and moment < first_failure.get(component, math.inf):
                first_failure[component] = moment
    if not first_failure:
        return []
    ids = b"|".join(re.escape(component) for component in sorted(first_failure))
    # Anchored on the component's key, which every line has once: a search for a literal prefix,
    # where a pattern starting at each line would try every position of every line.
    their_lines = re.compile(rb'"c"\s*:\s*"(?:' + ids + rb')"')
    high, lead = until.timestamp(), LEAD.total_seconds()
    # A day's shard (UTC days) that ends before the earliest result wanted holds nothing wanted:
    # most runs' failures are recent, so most of the window is never searched line by line.
    earliest = datetime.fromtimestamp(min(first_failure.values()) - lead, tz=timezone.utc).date()
    results = []
    for day, path, data in shards:
        if day < earliest:
            continue
        shard = parse_raw_shard(b"".join(_lines_of(data, their_lines)), str(path), None, day=day)
        records = shard.records_at((key, index) for key, series in shard.series.items()
                                   for index, time in enumerate(series.times)
                                   if first_failure[key[0].encode()] - lead <= time <= high)
        results.extend(record.to_result() for record in records)
    return results


def _lines_of(data: bytes, pattern: re.Pattern) -> Iterator[bytes]:
    """The whole lines (newline included) in which `pattern` matches."""
    end = 0
    for match in pattern.finditer(data):
        if match.start() < end:
            continue  # a second match on a line already given
        start = data.rfind(b"\n", 0, match.start()) + 1
        end = data.find(b"\n", match.end())
        end = len(data) if end < 0 else end + 1
        yield data[start:end]


def _not_up_lines(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each line with a result that is not up. The words are
    found first by a plain search, which runs at memory speed where a regular expression over a
    day of results is several times slower; only the lines that have them are matched."""
    for word in (b'down"', b'degraded"'):
        at = data.find(word)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            if _NOT_UP.search(data, start, end):
                yield start, end
            at = data.find(word, end)


def _failures(data: bytes) -> Iterator[tuple[bytes, float]]:
    """(component, time) of each result not up (a line may be given twice)."""
    for start, end in _not_up_lines(data):
        component, moment = _COMPONENT.search(data, start, end), _TIME.search(data, start, end)
        if component and moment:
            try:
                yield component.group(1), datetime.fromisoformat(moment.group(1).decode().replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue  # not a time: the history's own reader reports the line
