"""The runner: concurrency, retries, secrets, and results for every check no matter what."""

from __future__ import annotations

import json
import time

from checkservers import http_server, run_one, spec_from  # noqa: F401  (fixture)

from generator.checks import CheckResult, HttpCheck, run_checks_sync

SECRET = "tok-3f9a1c77e2"


def test_fifty_slow_endpoints_take_about_as_long_as_one(http_server):
    started = time.perf_counter()
    run_one({"url": http_server.url("/slow?ms=300")})
    single = time.perf_counter() - started

    targets = [(f"svc{i}", spec_from({"url": http_server.url(f"/slow?ms=300&n={i}")})) for i in range(50)]
    started = time.perf_counter()
    results = run_checks_sync(targets, location="test", env={})
    elapsed = time.perf_counter() - started

    assert [r.component for r in results] == [f"svc{i}" for i in range(50)]
    assert all(r.status == "up" for r in results), {r.reason for r in results}
    assert elapsed < 3 * single, (elapsed, single)


def test_concurrency_limit_is_respected(http_server):
    targets = [(f"svc{i}", spec_from({"url": http_server.url(f"/slow?ms=200&c={i}")})) for i in range(4)]
    started = time.perf_counter()
    run_checks_sync(targets, location="test", env={}, concurrency=2)
    assert time.perf_counter() - started >= 0.4  # two rounds of two


def test_retry_turns_a_flaky_first_failure_into_up(http_server):
    result = run_one({"url": http_server.url("/flaky/one"), "retries": 1})
    assert (result.status, result.reason) == ("up", "ok")
    assert result.details["attempts"] == 2


def test_without_retries_a_flaky_failure_is_down(http_server):
    result = run_one({"url": http_server.url("/flaky/two"), "retries": 0})
    assert (result.status, result.reason) == ("down", "status_503")
    assert "attempts" not in result.details


def test_persistent_failure_uses_every_attempt(http_server):
    result = run_one({"url": http_server.url("/status/500"), "retries": 2})
    assert (result.status, result.reason, result.details["attempts"]) == ("down", "status_500", 3)


def test_degraded_is_not_retried(http_server):
    before = len(http_server.requests)
    result = run_one({"url": http_server.url("/slow?ms=200&x=deg"), "degraded_after": 0.05, "retries": 3})
    assert result.status == "degraded"
    assert len(http_server.requests) - before == 1


def test_secret_from_env_is_used_but_never_recorded(http_server):
    env = {"TOKEN": SECRET, "USER_PASS": "hunter2-" + SECRET}
    checks = [
        # The secret reaches the server (the echo proves it), but the failure recorded must not show it.
        {"url": http_server.url("/echo?status=500&key=${TOKEN}"), "headers": {"Authorization": "Bearer ${TOKEN}"}},
        {"url": http_server.url("/redirect?to=/status/503%3Fapi_key%3D${TOKEN}")},
        {"url": http_server.url("/echo?status=401").replace("://", "://admin:${USER_PASS}@")},
        {"url": http_server.url("/json"), "expect": {"json": {"data.status": "${TOKEN}"}}},
        {"url": http_server.url("/ok"), "expect": {"body_contains": "${TOKEN}"}},
        {"url": http_server.url("/loop/a?token=${TOKEN}")},
        {"url": http_server.url("/echo"), "headers": {"Authorization": "Bearer ${TOKEN}"},
         "expect": {"json": {"headers.Authorization": "nope"}}},
    ]
    results = run_checks_sync(
        [(f"c{i}", spec_from({**check, "retries": 0})) for i, check in enumerate(checks)], location="test", env=env
    )
    assert all(r.status == "down" for r in results), [(r.reason, r.message) for r in results]
    serialized = json.dumps([r.to_json() for r in results])
    assert SECRET not in serialized and "hunter2" not in serialized
    assert "${TOKEN}" in serialized  # redacted to the reference, so the message still makes sense
    assert "admin:" not in serialized  # userinfo is hidden as a whole


def test_secret_is_sent_to_the_server(http_server):
    result = run_one(
        {"url": http_server.url("/echo"), "headers": {"Authorization": "Bearer ${TOKEN}"},
         "expect": {"json": {"headers.Authorization": "Bearer ${TOKEN}"}}},
        env={"TOKEN": SECRET},
    )
    assert (result.status, result.reason) == ("up", "ok")


def test_missing_env_variable_is_secret_missing_not_a_crash(http_server):
    result = run_one({"url": http_server.url("/ok?key=${API_KEY}"), "headers": {"X-Other": "${OTHER}"}}, env={})
    assert (result.status, result.reason) == ("down", "secret_missing")
    assert '"API_KEY"' in result.message and '"OTHER"' in result.message
    assert result.latency_ms is None


def test_one_broken_check_does_not_stop_the_others(http_server):
    broken = HttpCheck(url="http://[::1/", retries=0)  # unparseable URL that slipped past parsing
    targets = [("good", spec_from({"url": http_server.url("/ok")})), ("broken", broken),
               ("also-good", spec_from({"url": http_server.url("/json")}))]
    seen: list[str] = []

    def on_result(result: CheckResult) -> None:
        seen.append(result.component)
        raise RuntimeError("a failing callback is logged, not raised")

    results = run_checks_sync(targets, location="test", env={}, on_result=on_result)
    assert [(r.component, r.status) for r in results] == [("good", "up"), ("broken", "down"), ("also-good", "up")]
    assert results[1].reason == "error"
    assert sorted(seen) == ["also-good", "broken", "good"]


def test_result_json_round_trip(http_server):
    result = run_one({"url": http_server.url("/ok")})
    data = json.loads(json.dumps(result.to_json()))
    assert data["v"] == 1
    assert CheckResult.from_json(data) == result
