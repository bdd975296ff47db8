"""TCP checks: open, refused and filtered ports on 127.0.0.1."""

from __future__ import annotations

import time

from checkservers import closed_port, filtered_port, http_server, run_one  # noqa: F401  (fixture)


def test_open_port_is_up_with_connect_time(http_server):
    result = run_one({"type": "tcp", "host": "127.0.0.1", "port": http_server.port})
    assert (result.status, result.reason) == ("up", "ok")
    assert result.details["address"] == "127.0.0.1"
    assert "connect" in result.details["phases"]


def test_closed_port_is_connect_refused():
    result = run_one({"type": "tcp", "host": "127.0.0.1", "port": closed_port(), "retries": 0})
    assert (result.status, result.reason) == ("down", "connect_refused")


def test_closed_port_by_name_is_connect_refused():
    # "localhost" may resolve to ::1 and 127.0.0.1; both refuse, and that is what must be reported.
    result = run_one({"type": "tcp", "host": "localhost", "port": closed_port(), "retries": 0})
    assert (result.status, result.reason) == ("down", "connect_refused")


def test_filtered_port_times_out():
    with filtered_port() as port:
        started = time.perf_counter()
        result = run_one({"type": "tcp", "host": "127.0.0.1", "port": port, "timeout": 0.3, "retries": 0})
    assert (result.status, result.reason) == ("down", "timeout")
    assert "filtered" in result.message
    assert time.perf_counter() - started < 1.5


def test_unknown_host_is_dns_failure():
    result = run_one({"type": "tcp", "host": "no-such-host.invalid", "port": 80, "retries": 0, "timeout": 3})
    assert result.status == "down"
    assert result.reason in ("dns_nxdomain", "dns_servfail", "dns_timeout", "timeout")
