"""Check history kept in git: append-only JSON Lines, compacted to daily aggregates, rolled up for the page.

Layout of ``history/`` (the history dir)::

    .gitattributes              "*.jsonl merge=union": two runners' branches merge without conflicts
    raw/YYYY/MM/DD.jsonl        one line per check result, every component, one file per UTC day
    daily/YYYY-MM.jsonl         one line per (day, component, location) for days older than raw_days

Why one raw file per UTC day for all components: a run (one commit) appends one line per
component to a single file, so its diff is those lines and git stores one new blob version,
which it packs as a delta of a few lines against the previous one. A day of 5-minute runs for
20 components is ~5,800 lines (~0.6 MB, ~108 bytes a result), and past days stop changing.
Measured by replaying 14 days of 5-minute runs for 20 components as one commit each, then
`git repack -adf`: ~45 bytes per result including commits and trees, so ~93 MB for a year.
One file per component per month measured ~7.7 KB per result: 20 blobs change per commit, and
all components' files share a name, which defeats git's delta search. Readers load only the
days a window needs, by file name, and a closed day's shard never changes again, which is
what a per-shard cache of `aggregate_day` can key on.

Raw line, schema v1 -- exactly ``CheckResult.to_json()`` (generator/checks/result.py) after
`codec.for_storage` (time truncated to milliseconds, latency rounded to 0.1 ms, details kept
only for results that are not up)::

    {"v":1,"c":"api","t":"2025-03-01T12:05:03.412Z","s":"up","r":"ok","loc":"ci","m":"HTTP 200","ms":123.4}

v schema version; c component id; t UTC time, ISO 8601 with "Z"; s "up"|"degraded"|"down";
r reason; loc location; m message (left out when empty); ms latency in ms (left out when
unknown); d details object (left out when empty). A result is identified by (c, t, loc):
readers sort by time and keep one line per identity, so the duplicates a union merge can
leave behind are harmless.

Daily line, schema v1 (`aggregate.SeriesDay.to_line`)::

    {"v":1,"day":"2025-01-02","c":"api","loc":"ci","n":288,"up":285,"deg":2,"down":1,"maint":0,
     "cov_s":86400.0,"down_s":300.0,"lat_n":287,"lat_sum":35210.4,"lat_min":98.1,"lat_max":950.2,
     "p50":118.7,"p95":180.2,"mean":122.7,"first":"2025-01-02T00:02:01Z","last":"2025-01-02T23:57:03Z",
     "last_s":"up","hold":"2025-01-03T00:12:03Z","h":[[241,3],[242,10],...]}

n checks counted (outside maintenance); maint results inside maintenance windows; cov_s and
down_s seconds of the day held by counted / by down results; lat_* over up and degraded
results; h the latency histogram as [bucket, count] with bucket = ceil(ln(ms) / ln(1.02));
p50/p95/mean are derived, for people (readers recompute them); first/last/last_s/hold let
the next day pick up the last result's hold past midnight. Lines are deterministic, so two
branches that compact the same raw data write identical lines, and union merges collapse.

Uptime semantics (see `rollup`):

- mode "results": share of counted results that are up or degraded (degraded is up, and
  reported separately).
- mode "duration": share of time not down. Each result holds until the next one of its
  series, but at most 3 of the component's configured check intervals (`interval` in
  site.yaml, 300 s by default, so 15 minutes), whatever spacing the day's results show:
  longer gaps are no data, neither up nor down. The intervals are an input of
  `aggregate_day`, so they are part of the cache keys.
- Several locations are independent observers with equal weight: each result is one vote
  (mode results), each location's time counts once (mode duration), and a day's
  downtime_seconds is the average over the locations that reported.
- Results inside a component's maintenance windows count neither way (DayStats.maintenance
  counts them). Days with no counted results have uptime None, never 100%.
- Days are UTC days. "24h" is the rolling 24 hours before `now` from raw results; "7d", "30d"
  and "90d" are today so far plus the previous 6/29/89 UTC days (the last 7/30/90 day bars),
  so they agree with the bars.
- Latency figures come from up and degraded results only: a failure's latency is usually
  the timeout. The response time is the exact (lower) median of the last 24 hours' raw
  latencies; a day's p50/p95 come from its histogram, within 1% of the exact ones.
- Published ratios are rounded down (`readings.floor_units`), so an outage never reads as 100%.
- Problems with history files are warnings: the page still builds from what could be read.

Cache (`history.cache`): `heliograph build` keeps what each closed raw shard (a past UTC day)
contributes -- its `aggregate_day` results, newest record per component, the latencies the
chart needs -- in `.heliograph-cache/history/`, keyed by the shard's path, size, mtime, ctime
and inode, the maintenance windows clipped to that day, the check intervals, and a hash of
the code.
A cold build reads the shards nobody cached yet on every core. Output is identical with or
without the cache (tests/test_incremental_build.py).
"""

import importlib

# What each name here is, found in its module when first asked for (PEP 562): a rebuild's
# parent process needs only `rollup`, to take the histories a child summed up.
_WHERE = {
    "SeriesDay": "aggregate", "aggregate_day": "aggregate",
    "Record": "codec", "parse_raw": "codec",
    "CompactReport": "compaction", "compact": "compaction", "due_shards": "compaction",
    "MODES": "rollup", "UPTIME_WINDOWS": "rollup", "ComponentHistory": "rollup", "DayStats": "rollup",
    "rollup_component": "rollup",
    "summarize": "summary",
    "append_results": "store", "daily_path": "store", "ensure_gitattributes": "store",
    "raw_shard_path": "store", "read_results": "store", "validate": "store",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "MODES",
    "UPTIME_WINDOWS",
    "CompactReport",
    "ComponentHistory",
    "DayStats",
    "Record",
    "SeriesDay",
    "aggregate_day",
    "append_results",
    "compact",
    "daily_path",
    "due_shards",
    "ensure_gitattributes",
    "parse_raw",
    "raw_shard_path",
    "read_results",
    "rollup_component",
    "summarize",
    "validate",
]
