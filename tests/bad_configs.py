"""Bad site.yaml files from the validator's own test cases (tests/test_config.py,
tests/test_checks_spec.py), shared so that test_schema.py holds the schema to the same cases.

SHAPES: mistakes of shape that the JSON Schema can say, so both it and `heliograph validate`
reject them. BEYOND_THE_SCHEMA: mistakes only the validator catches, each with the reason.
"""

from __future__ import annotations

import json
from typing import NamedTuple

HEAD = "site: {title: T, base_url: 'https://s.example/'}\n"


class Bad(NamedTuple):
    name: str
    text: str
    why: str = ""  # for BEYOND_THE_SCHEMA: what the schema would need to know


def with_check(check: object) -> str:
    """A site whose one component has this check (written as JSON, which is YAML)."""
    return HEAD + f"components:\n  - id: api\n    name: API\n    check: {json.dumps(check)}\n"


def with_component(lines: str) -> str:
    return HEAD + "components:\n  - id: api\n    name: API\n" + lines


SHAPES = [
    # test_config.py
    Bad("unknown site key", "site:\n  title: T\n  base_url: https://s.example/\n  timezon: UTC\ncomponents: []\n"),
    Bad("theme not a choice", "site: {title: T, base_url: 'https://s.example/', theme: purple}\ncomponents: []\n"),
    Bad("show_uptime not true/false", with_component("    show_uptime: maybe\n")),
    Bad("component without id", HEAD + "components:\n  - name: No id\n"),
    Bad("component id not a slug", HEAD + "components:\n  - {id: API, name: API}\n"),
    Bad("site is text and components missing", "site: just a string\n"),
    Bad("link not a URL", "site: {title: T, base_url: 'https://s.example/', links: {docs: not-a-url}}\ncomponents: []\n"),
    Bad("name is a list", HEAD + "components:\n  - id: a\n    name: [1, 2]\n"),
    Bad("unknown check key", with_check({"type": "http", "url": "https://api.example/health", "timeot": "5s"})),
    Bad("raw_days below the latency chart's", HEAD + "history: {raw_days: 3}\ncomponents: []\n"),
    # the bounds and choices of the other declared sections
    Bad("uptime_days above 365", HEAD + "display: {uptime_days: 400}\ncomponents: []\n"),
    Bad("uptime_mode not a choice", HEAD + "display: {uptime_mode: minutes}\ncomponents: []\n"),
    Bad("badge style not a choice", HEAD + "badges: {style: round}\ncomponents: []\n"),
    Bad("concurrency 0", HEAD + "checks: {concurrency: 0}\ncomponents: []\n"),
    Bad("unknown top-level key", HEAD + "components: []\ndisplays: {}\n"),
    Bad("unknown alerts key", HEAD + "components: []\nalerts: {failure_treshold: 3}\n"),
    Bad("unknown subscribe key", HEAD + "components: []\nsubscribe: {mailinglist: https://x.test/}\n"),
    # test_checks_spec.py
    Bad("tcp port above 65535", with_check({"type": "tcp", "host": "db", "port": 70000})),
    Bad("tcp port as text", with_check({"type": "tcp", "host": "db", "port": "80"})),
    Bad("tcp without port", with_check({"type": "tcp", "host": "x"})),
    Bad("dns record not a type", with_check({"type": "dns", "name": "x.test", "record": "AAA"})),
    Bad("verify_tls as text", with_check({"url": "https://x.test", "verify_tls": "no"})),
    Bad("max_body not a size", with_check({"url": "https://x.test", "max_body": "huge"})),
    Bad("timeout empty", with_check({"url": "https://x.test", "timeout": None})),
    Bad("timeout not a duration", with_check({"url": "https://x.test", "timeout": "soon"})),
    Bad("expect not a mapping", with_check({"url": "https://x.test", "expect": "200"})),
    Bad("retries above 10", with_check({"url": "https://x.test", "retries": 11})),
    Bad("retries below 0", with_check({"url": "https://x.test", "retries": -1})),
    Bad("method not a method", with_check({"url": "https://x.test", "method": "GRT"})),
    Bad("unknown key under expect", with_check({"url": "https://x.test", "expect": {"body_regexp": "x"}})),
    Bad("status outside expect", with_check({"url": "https://x.test", "status": 200})),
    Bad("expect_json outside expect", with_check({"url": "https://x.test", "expect_json": {}})),
    Bad("no type and no url", with_check({"host": "x"})),
    Bad("unknown check type", with_check({"type": "htp", "url": "https://x.test"})),
    Bad("check is a list", with_check(["not", "a", "mapping"])),
    Bad("heartbeat without every", with_check({"type": "heartbeat", "grace": "10m"})),
    Bad("heartbeat with a timeout", with_check({"type": "heartbeat", "every": "1h", "timeout": "5s"})),
]

BEYOND_THE_SCHEMA = [
    Bad("duplicate component id", HEAD + "components:\n  - {id: web, name: Web}\n  - {id: web, name: Again}\n",
        "ids unique across the list: JSON Schema's uniqueItems compares whole items"),
    Bad("unknown time zone", "site: {title: T, base_url: 'https://s.example/', timezone: Mars/Olympus}\ncomponents: []\n",
        "the IANA time zone database"),
    Bad("base_url not http(s)", "site: {title: T, base_url: 'ftp://nope'}\ncomponents: []\n",
        "the validator's URL rules (scheme, host, no query)"),
    Bad("degraded_after above timeout", with_check({"url": "https://x.test", "timeout": 2, "degraded_after": "3s"}),
        "comparing two durations"),
    Bad("body with GET", with_check({"url": "https://x.test", "body": "hi"}), "the method decides"),
    Bad("bad header name", with_check({"url": "https://x.test", "headers": {"Bad Name": "x"}}), "header name rules"),
    Bad("port inside host", with_check({"type": "tcp", "host": "db:5432", "port": 5432}), "host name parsing"),
    Bad("nameserver a name", with_check({"type": "dns", "name": "x.test", "nameserver": "dns.google"}),
        "IP address parsing"),
    Bad("status range backwards", with_check({"url": "https://x.test", "expect": {"status": "299-200"}}),
        "comparing the two codes"),
    Bad("status code 700", with_check({"url": "https://x.test", "expect": {"status": 700}}), "status code bounds"),
    Bad("bad regular expression", with_check({"url": "https://x.test", "expect": {"body_regex": "(unclosed"}}),
        "compiling the expression"),
    Bad("bad ${} reference", with_check({"url": "https://x.test/?k=${API KEY}"}), "secret reference syntax"),
]
