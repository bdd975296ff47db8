"""HTTP checks against a real server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import time

from checkservers import http_server, run_one  # noqa: F401  (fixture)


def test_healthy_endpoint_is_up_with_status_code_and_timings(http_server):
    result = run_one({"url": http_server.url("/ok")})
    assert (result.status, result.reason) == ("up", "ok")
    assert result.details["status_code"] == 200
    assert result.latency_ms is not None and result.latency_ms > 0
    assert set(result.details["phases"]) >= {"connect", "ttfb", "body"}
    assert result.time.tzinfo is not None and result.location == "test"


def test_slow_answer_over_degraded_after_is_degraded(http_server):
    result = run_one({"url": http_server.url("/slow?ms=300"), "degraded_after": "150ms", "timeout": 2})
    assert (result.status, result.reason) == ("degraded", "slow")
    assert "degraded after 0.15s" in result.message


def test_answer_slower_than_timeout_is_down_timeout(http_server):
    started = time.perf_counter()
    result = run_one({"url": http_server.url("/slow?ms=2000"), "timeout": "300ms", "retries": 0})
    assert (result.status, result.reason) == ("down", "timeout")
    assert "no response within 0.3s" in result.message
    assert time.perf_counter() - started < 1.5


def test_server_that_accepts_but_never_answers_times_out(http_server):
    result = run_one({"url": http_server.url("/hang"), "timeout": 0.3, "retries": 0})
    assert (result.status, result.reason) == ("down", "timeout")


def test_unexpected_status_is_down_with_the_code_in_the_reason(http_server):
    result = run_one({"url": http_server.url("/status/503"), "retries": 0})
    assert (result.status, result.reason) == ("down", "status_503")
    assert "503 Service Unavailable" in result.message and "200-399" in result.message
    assert result.details["status_code"] == 503


def test_expected_status_ranges_and_classes(http_server):
    assert run_one({"url": http_server.url("/status/404"), "expect": {"status": [404, "5xx"]}}).status == "up"
    assert run_one({"url": http_server.url("/status/503"), "expect": {"status": "500-503"}}).status == "up"
    result = run_one({"url": http_server.url("/ok"), "expect": {"status": "3xx"}, "retries": 0})
    assert (result.status, result.reason) == ("down", "status_200")


def test_body_contains_and_regex(http_server):
    good = run_one({"url": http_server.url("/ok"), "expect": {"body_contains": "operational", "body_regex": r"all \w+"}})
    assert (good.status, good.reason) == ("up", "ok")
    wrong = run_one({"url": http_server.url("/ok"), "expect": {"body_contains": "maintenance"}, "retries": 0})
    assert (wrong.status, wrong.reason) == ("down", "body_mismatch")
    assert '"maintenance"' in wrong.message
    regex = run_one({"url": http_server.url("/ok"), "expect": {"body_regex": "^down"}, "retries": 0})
    assert (regex.status, regex.reason) == ("down", "body_mismatch")


def test_json_paths_match(http_server):
    result = run_one(
        {"url": http_server.url("/json"), "expect": {"json": {"data.status": "ok", "data.version": 3, "items.0.ok": True}}}
    )
    assert (result.status, result.reason) == ("up", "ok")


def test_json_nested_mapping_matches_as_a_subset(http_server):
    result = run_one({"url": http_server.url("/json"), "expect": {"json": {"data": {"status": "ok"}}}})
    assert result.status == "up"


def test_json_mismatch_names_the_path_and_both_values(http_server):
    result = run_one({"url": http_server.url("/json"), "expect": {"json": {"items.1.ok": True}}, "retries": 0})
    assert (result.status, result.reason) == ("down", "json_mismatch")
    assert result.message == "JSON items.1.ok is false, expected true"


def test_json_missing_path_and_non_json_body(http_server):
    missing = run_one({"url": http_server.url("/json"), "expect": {"json": {"data.uptime": 1}}, "retries": 0})
    assert (missing.reason, missing.message) == ("json_mismatch", "JSON has no data.uptime")
    not_json = run_one({"url": http_server.url("/ok"), "expect": {"json": {"a": 1}}, "retries": 0})
    assert (not_json.status, not_json.reason) == ("down", "json_mismatch")


def test_json_true_is_not_one(http_server):
    result = run_one({"url": http_server.url("/json"), "expect": {"json": {"items.0.ok": 1}}, "retries": 0})
    assert result.reason == "json_mismatch"


def test_connection_reset_mid_body_is_down_reset(http_server):
    result = run_one({"url": http_server.url("/reset"), "retries": 0})
    assert (result.status, result.reason) == ("down", "reset")


def test_redirect_loop_is_detected_quickly(http_server):
    result = run_one({"url": http_server.url("/loop/a"), "retries": 0})
    assert (result.status, result.reason) == ("down", "redirect_loop")
    assert "/loop/" in result.message


def test_redirects_are_followed_or_not(http_server):
    target = "/redirect?to=/ok"
    followed = run_one({"url": http_server.url(target)})
    assert (followed.status, followed.details["status_code"], followed.details["redirects"]) == ("up", 200, 1)
    kept = run_one({"url": http_server.url(target), "follow_redirects": False, "expect": {"status": 302}})
    assert (kept.status, kept.details["status_code"]) == ("up", 302)


def test_endless_body_is_cut_at_max_body(http_server):
    started = time.perf_counter()
    result = run_one({"url": http_server.url("/endless"), "max_body": "64KB", "timeout": 5})
    assert (result.status, result.reason) == ("up", "ok")
    assert result.details["body_bytes"] == 64 * 1024 and result.details["body_truncated"] is True
    assert time.perf_counter() - started < 2


def test_endless_body_with_unmet_matcher_is_body_too_large(http_server):
    result = run_one(
        {"url": http_server.url("/endless"), "max_body": "64KB", "expect": {"body_contains": "never"}, "retries": 0}
    )
    assert (result.status, result.reason) == ("down", "body_too_large")
    assert "max_body" in result.message


def test_endless_body_matcher_satisfied_within_max_body_is_up(http_server):
    result = run_one({"url": http_server.url("/endless"), "max_body": "64KB", "expect": {"body_contains": "no play"}})
    assert (result.status, result.reason) == ("up", "ok")


def test_closed_port_is_connect_refused():
    from checkservers import closed_port

    result = run_one({"url": f"http://127.0.0.1:{closed_port()}/", "retries": 0})
    assert (result.status, result.reason) == ("down", "connect_refused")


def test_method_headers_and_body_are_sent(http_server):
    result = run_one(
        {
            "url": http_server.url("/echo"),
            "method": "post",
            "headers": {"X-Probe": "heliograph"},
            "body": {"ping": 1},
            "expect": {"json": {"headers.X-Probe": "heliograph", "headers.Content-Type": "application/json"}},
        }
    )
    assert (result.status, result.reason) == ("up", "ok"), result.message
