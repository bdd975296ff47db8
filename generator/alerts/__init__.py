"""Alerts to the team when a check changes state, through Apprise channels named in site.yaml.

- `settings`: the `alerts:` schema (channels, thresholds, `on`, reminders).
- `rules`: pure, from results to transitions (rounds, thresholds, the locations' majority).
- `ledger`: `history/alerts.jsonl`, what was claimed, and which transitions are due.
- `message`: the text a person reads.
- `send`: Apprise, every channel at once, each with a timeout; the only network I/O.
- `announce`: telling readers of each new incident update, once (`history/announced.jsonl`).

State between runs is derived from `history/` itself (the last two days of raw results), so a
lost build cache changes nothing and a late run still finds every transition; only what was
sent is recorded, in the ledger, committed beside the history. See docs/alerts.md.
"""
