"""DNS checks against a tiny DNS server on a local UDP port."""

from __future__ import annotations

import pytest

from checkservers import dns_server, run_one  # noqa: F401  (fixture)


def dns_check(server, name, **extra):
    return run_one({"type": "dns", "name": name, "nameserver": server.address, "retries": 0, **extra})


def test_a_record_resolves_and_values_are_recorded(dns_server):
    result = dns_check(dns_server, "ok.test", expect=["192.0.2.2"])
    assert (result.status, result.reason) == ("up", "ok")
    assert result.details["values"] == ["192.0.2.1", "192.0.2.2"]
    assert result.details["ttl"] == 60


def test_nxdomain(dns_server):
    result = dns_check(dns_server, "missing.test")
    assert (result.status, result.reason) == ("down", "dns_nxdomain")


def test_servfail(dns_server):
    result = dns_check(dns_server, "broken.test")
    assert (result.status, result.reason) == ("down", "dns_servfail")


def test_silent_server_times_out(dns_server):
    result = dns_check(dns_server, "silent.test", timeout=0.4)
    assert (result.status, result.reason) == ("down", "dns_timeout")
    assert result.latency_ms < 1500


def test_no_answer_for_existing_name(dns_server):
    result = dns_check(dns_server, "empty.test")
    assert (result.status, result.reason) == ("down", "dns_no_answer")


def test_expected_value_missing_is_mismatch(dns_server):
    result = dns_check(dns_server, "ok.test", expect=["192.0.2.1", "192.0.2.99"])
    assert (result.status, result.reason) == ("down", "dns_mismatch")
    assert "192.0.2.99" in result.message


@pytest.mark.parametrize(
    ("name", "record", "expect"),
    [
        ("mail.test", "MX", ["MX1.test.", "20 mx2.test"]),  # case, trailing dot, with or without preference
        ("txt.test", "TXT", ["v=spf1 -all"]),
        ("alias.test", "CNAME", ["ok.test"]),
        ("v6.test", "AAAA", ["2001:0db8:0:0::1"]),  # any spelling of the same IPv6 address
    ],
)
def test_other_record_types_compare_leniently(dns_server, name, record, expect):
    result = dns_check(dns_server, name, record=record, expect=expect)
    assert (result.status, result.reason) == ("up", "ok"), result.message


def test_nameserver_with_nothing_listening_times_out():
    from checkservers import closed_port

    # Nothing listens: UDP gets an ICMP port unreachable (or nothing); either way, no answer.
    result = run_one(
        {"type": "dns", "name": "ok.test", "nameserver": f"127.0.0.1:{closed_port()}", "timeout": 0.4, "retries": 0}
    )
    assert result.status == "down"
    assert result.reason in ("dns_timeout", "dns_servfail")
