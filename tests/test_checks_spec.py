"""Parsing check settings: defaults, accepted spellings, and problems that say what to do."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from generator.checks import CheckResult, DnsCheck, HttpCheck, TcpCheck, TlsCheck, parse_check, parse_duration, parse_size
from generator.checks.secrets import Redactor, redact_url


def parse(raw):
    problems: list[tuple[tuple, str]] = []
    spec = parse_check(raw, lambda path, message: problems.append((path, message)))
    return spec, problems


# ---------------------------------------------------------------- durations and sizes


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(10, 10.0), (1.5, 1.5), ("500ms", 0.5), ("10s", 10.0), ("5m", 300.0), ("1h", 3600.0), ("1.5s", 1.5),
     ("1m30s", 90.0), ("10", 10.0), (" 2S ", 2.0)],
)
def test_parse_duration_accepts(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["10 sec", "fast", "", "-1s", -3, True, None, [1], "5m10"])
def test_parse_duration_rejects_with_help(value):
    with pytest.raises(ValueError, match="500ms, 10s, 5m, 1h"):
        parse_duration(value)


def test_parse_size():
    assert parse_size(100) == 100
    assert parse_size("64KB") == 64 * 1024
    assert parse_size("1MB") == parse_size("1MiB") == 1024 * 1024
    with pytest.raises(ValueError, match="64KB"):
        parse_size("lots")


# ---------------------------------------------------------------- valid checks


def test_http_defaults():
    spec, problems = parse({"type": "http", "url": "https://example.com/health"})
    assert problems == []
    assert spec == HttpCheck(url="https://example.com/health")
    assert (spec.type, spec.timeout, spec.retries, spec.interval) == ("http", 10.0, 1, 300.0)
    assert (spec.method, spec.follow_redirects, spec.verify_tls, spec.tls_warn_days) == ("GET", True, True, 14)
    assert spec.expect_status == [(200, 399)] and spec.max_body == 1024 * 1024
    assert spec.headers == {} and spec.expect_json == {} and spec.body is None and spec.degraded_after is None


def test_http_everything():
    spec, problems = parse(
        {
            "type": "http",
            "url": "https://api.example.com/v1/status?key=${API_KEY}",
            "method": "post",
            "headers": {"Authorization": "Bearer ${TOKEN}", "X-Count": 3},
            "body": "ping",
            "timeout": "5s",
            "retries": 2,
            "interval": "1m",
            "follow_redirects": False,
            "degraded_after": "800ms",
            "verify_tls": False,
            "tls_warn_days": 30,
            "max_body": "64KB",
            "ca_file": "certs/ca.pem",
            "expect": {"status": [200, "3xx", "400-404"], "body_contains": "ok", "body_regex": "v\\d+",
                       "json": {"data.status": "ok", "items.0.ok": True}},
        }
    )
    assert problems == []
    assert spec.method == "POST" and spec.headers == {"Authorization": "Bearer ${TOKEN}", "X-Count": "3"}
    assert spec.url.endswith("${API_KEY}")  # expanded only when the check runs
    assert spec.expect_status == [(200, 200), (300, 399), (400, 404)]
    assert (spec.timeout, spec.retries, spec.interval, spec.degraded_after) == (5.0, 2, 60.0, 0.8)
    assert spec.expect_json == {"data.status": "ok", "items.0.ok": True}
    assert (spec.max_body, spec.ca_file, spec.tls_warn_days) == (65536, "certs/ca.pem", 30)


def test_type_is_inferred_from_url_and_a_bare_url_is_shorthand():
    assert parse({"url": "https://example.com"})[0] == HttpCheck(url="https://example.com")
    assert parse("https://example.com")[0] == HttpCheck(url="https://example.com")


def test_json_body_gets_a_content_type():
    spec, problems = parse({"url": "https://x.test", "method": "POST", "body": {"query": "{ status }"}})
    assert problems == []
    assert spec.body == '{"query":"{ status }"}' and spec.headers == {"Content-Type": "application/json"}


def test_tcp_dns_tls():
    assert parse({"type": "tcp", "host": "db.internal", "port": 5432})[0] == TcpCheck(host="db.internal", port=5432)
    dns, problems = parse({"type": "dns", "name": "example.com", "record": "mx", "nameserver": "[2620:fe::fe]:53",
                           "expect": "10 mx.example.com"})
    assert problems == []
    assert dns == DnsCheck(name="example.com", record="MX", nameserver="[2620:fe::fe]:53", expect=["10 mx.example.com"])
    tls, _ = parse({"type": "tls", "host": "example.com"})
    assert tls == TlsCheck(host="example.com") and (tls.port, tls.warn_days) == (443, 14)


# ---------------------------------------------------------------- problems


def test_unknown_key_suggests_the_right_one_and_lists_allowed_keys():
    spec, problems = parse({"type": "http", "url": "https://x.test", "timeot": 5})
    assert spec is None
    [(path, message)] = problems
    assert path == ("timeot",)
    assert 'unknown key "timeot" in http check (did you mean "timeout"?)' in message
    assert "allowed keys:" in message and "follow_redirects" in message


def test_every_problem_is_reported_not_just_the_first():
    spec, problems = parse(
        {"type": "http", "url": "ftp://x.test", "timeout": "soon", "retries": -1, "method": "GRT",
         "expect": {"status": ["2xx", 700, "abc"], "body_regexp": "x", "body_regex": "(unclosed"}}
    )
    assert spec is None
    paths = [path for path, _ in problems]
    assert ("url",) in paths and ("timeout",) in paths and ("retries",) in paths and ("method",) in paths
    assert ("expect", "status", 1) in paths and ("expect", "status", 2) in paths
    assert ("expect", "body_regexp") in paths and ("expect", "body_regex") in paths
    messages = dict(problems)
    assert "http:// or https://" in messages[("url",)]
    assert 'did you mean "GET"' in messages[("method",)]
    assert 'did you mean "body_regex"' in messages[("expect", "body_regexp")]
    assert "between 100 and 599" in messages[("expect", "status", 1)]


def test_expectations_at_top_level_point_to_expect():
    _, problems = parse({"url": "https://x.test", "status": 200, "expect_json": {}})
    messages = dict(problems)
    assert 'put it under "expect:"' in messages[("status",)]
    assert "expect: {json: ...}" in messages[("expect_json",)]


def test_missing_and_unknown_type():
    assert parse({"host": "x"})[1] == [(("type",), 'check needs a "type": one of http, tcp, dns, tls, heartbeat, udp, smtp, imap, pop3, ping, websocket, ssh, grpc')]
    _, problems = parse({"type": "htp", "url": "https://x.test"})
    assert 'unknown check type "htp" (did you mean "http"?)' in problems[0][1]
    _, problems = parse({"type": "tcp", "host": "x"})
    assert problems == [(("port",), 'tcp check needs "port", e.g. host: db.example.com and port: 5432')]
    assert parse(["not", "a", "mapping"])[1][0][0] == ()


def test_bad_env_references_are_reported_at_parse_time():
    _, problems = parse({"url": "https://x.test/?k=${API KEY}", "headers": {"X-Token": "${TOKEN"}})
    paths = dict(problems)
    assert "not a valid environment variable reference" in paths[("url",)]
    assert 'unclosed "${"' in paths[("headers", "X-Token")]
    assert parse({"url": "https://x.test/?k=$${literal}"})[1] == []


def test_url_from_the_environment_is_not_judged_at_parse_time():
    assert parse({"url": "${STATUS_URL}"})[1] == []


def test_degraded_after_must_be_below_timeout():
    _, problems = parse({"url": "https://x.test", "timeout": 2, "degraded_after": "3s"})
    assert problems[0][0] == ("degraded_after",) and "less than timeout" in problems[0][1]


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        ({"type": "tcp", "host": "db:5432", "port": 5432}, ("host",), 'put the port under "port:"'),
        ({"type": "tcp", "host": "https://db", "port": 1}, ("host",), "without a scheme"),
        ({"type": "tcp", "host": "db", "port": 70000}, ("port",), "from 1 to 65535"),
        ({"type": "tcp", "host": "db", "port": "80"}, ("port",), "whole number"),
        ({"type": "dns", "name": "x.test", "record": "AAA"}, ("record",), 'did you mean "AAAA"'),
        ({"type": "dns", "name": "x.test", "nameserver": "dns.google"}, ("nameserver",), "IP address"),
        ({"type": "dns", "name": "x.test", "nameserver": "1.1.1.1:99999"}, ("nameserver",), "invalid port"),
        ({"type": "dns", "name": "https://x.test"}, ("name",), "not a URL"),
        ({"url": "https://x.test", "body": "hi"}, ("body",), "method: POST"),
        ({"url": "https://x.test", "headers": {"Bad Name": "x"}}, ("headers", "Bad Name"), "not valid"),
        ({"url": "https://x.test", "headers": {"X-On": True}}, ("headers", "X-On"), "quote it"),
        ({"url": "https://x.test", "verify_tls": "no"}, ("verify_tls",), "true or false"),
        ({"url": "https://x.test", "max_body": "huge"}, ("max_body",), "64KB"),
        ({"url": "https://x.test", "timeout": None}, ("timeout",), "is empty"),
        ({"url": "https://x.test", "expect": {"json": {"a..b": 1}}}, ("expect", "json", "a..b"), "dotted paths"),
        ({"url": "https://x.test", "expect": {"status": []}}, ("expect", "status"), "empty"),
        ({"url": "https://x.test", "expect": {"status": "299-200"}}, ("expect", "status"), "backwards"),
        ({"url": "https://x.test", "expect": "200"}, ("expect",), "must be a mapping"),
        ({"url": "https://", "retries": 11}, ("retries",), "from 0 to 10"),
    ],
)
def test_specific_problems(raw, path, fragment):
    spec, problems = parse(raw)
    assert spec is None
    assert any(p == path and fragment in m for p, m in problems), problems


# ---------------------------------------------------------------- results and redaction


def test_result_json_is_compact_and_round_trips():
    result = CheckResult(
        component="api", time=datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=timezone.utc), status="down",
        reason="status_503", message="HTTP 503", latency_ms=12.5, location="eu", details={"status_code": 503},
    )
    data = result.to_json()
    assert data == {"v": 1, "c": "api", "t": "2026-01-02T03:04:05.123Z", "s": "down", "r": "status_503",
                    "loc": "eu", "m": "HTTP 503", "ms": 12.5, "d": {"status_code": 503}}
    assert CheckResult.from_json(data) == result
    bare = CheckResult("api", datetime(2026, 1, 2, tzinfo=timezone.utc), "up", "ok", "", None, "eu", {})
    assert bare.to_json() == {"v": 1, "c": "api", "t": "2026-01-02T00:00:00Z", "s": "up", "r": "ok", "loc": "eu"}
    assert CheckResult.from_json(bare.to_json()) == bare
    with pytest.raises(ValueError, match="version"):
        CheckResult.from_json({**data, "v": 2})


def test_redact_url():
    assert redact_url("https://user:pw@example.com:8443/a?token=abc&x=&flag") == "https://***@example.com:8443/a?token=***&x=&flag"
    assert redact_url("https://example.com/plain") == "https://example.com/plain"


def test_redactor_hides_secret_values_and_url_credentials_everywhere():
    redactor = Redactor({"TOKEN": "s3cr3t", "EMPTY": ""})
    assert redactor.text("bad token s3cr3t!") == "bad token ${TOKEN}!"
    assert redactor.value({"url": "http://a:b@h/?k=v", "list": ["s3cr3t"], "s3cr3t": 1}) == {
        "url": "http://***@h/?k=***", "list": ["${TOKEN}"], "${TOKEN}": 1}
