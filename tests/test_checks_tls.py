"""HTTPS and TLS checks against local servers with certificates from a trustme test CA."""

from __future__ import annotations

import pytest

from checkservers import Certificates, certificates, run_one, serving  # noqa: F401  (fixture)

KINDS = ("valid", "expired", "expiring", "wrong_host", "self_signed")


@pytest.fixture(scope="module")
def servers(certificates: Certificates):
    contexts = {
        "valid": certificates.valid(),
        "expired": certificates.expired(),
        "expiring": certificates.expiring_in(5),
        "wrong_host": certificates.wrong_host(),
        "self_signed": certificates.self_signed(),
    }
    with (
        serving(contexts["valid"]) as valid,
        serving(contexts["expired"]) as expired,
        serving(contexts["expiring"]) as expiring,
        serving(contexts["wrong_host"]) as wrong_host,
        serving(contexts["self_signed"]) as self_signed,
    ):
        yield {"valid": valid, "expired": expired, "expiring": expiring, "wrong_host": wrong_host, "self_signed": self_signed}


def https(servers, kind: str, certificates: Certificates, **extra):
    return run_one({"url": servers[kind].url("/ok"), "ca_file": certificates.ca_file, "retries": 0, **extra})


def tls(servers, kind: str, certificates: Certificates, **extra):
    check = {"type": "tls", "host": "127.0.0.1", "port": servers[kind].port, "ca_file": certificates.ca_file, "retries": 0}
    return run_one({**check, **extra})


# ---------------------------------------------------------------- http checks over https


def test_https_with_trusted_certificate_is_up_and_records_expiry(servers, certificates):
    result = https(servers, "valid", certificates)
    assert (result.status, result.reason) == ("up", "ok")
    assert result.details["cert_expires"].startswith("3000-")
    assert "tls" in result.details["phases"]


def test_https_with_unknown_ca_is_tls_invalid(servers):
    result = run_one({"url": servers["valid"].url("/ok"), "retries": 0})
    assert (result.status, result.reason) == ("down", "tls_invalid")
    assert "ca_file" in result.message


def test_https_expired_certificate(servers, certificates):
    result = https(servers, "expired", certificates)
    assert (result.status, result.reason) == ("down", "tls_expired")
    assert "expired on" in result.message and result.details["cert_days_left"] < 0


def test_https_certificate_expiring_soon_is_degraded(servers, certificates):
    result = https(servers, "expiring", certificates)
    assert (result.status, result.reason) == ("degraded", "tls_expiring")
    assert "expires in 5 days" in result.message


def test_https_expiring_certificate_outside_warn_window_is_up(servers, certificates):
    result = https(servers, "expiring", certificates, tls_warn_days=3)
    assert (result.status, result.reason) == ("up", "ok")


def test_https_wrong_host_certificate(servers, certificates):
    result = https(servers, "wrong_host", certificates)
    assert (result.status, result.reason) == ("down", "tls_hostname")


def test_https_self_signed_certificate(servers, certificates):
    result = https(servers, "self_signed", certificates)
    assert (result.status, result.reason) == ("down", "tls_self_signed")


def test_verify_tls_false_accepts_bad_certificates_but_still_records_expiry(servers):
    result = run_one({"url": servers["expired"].url("/ok"), "verify_tls": False})
    assert (result.status, result.reason) == ("up", "ok")
    assert result.details["cert_days_left"] < 0


def test_missing_ca_file_is_down_error(servers, tmp_path):
    result = run_one({"url": servers["valid"].url("/ok"), "ca_file": str(tmp_path / "nope.pem"), "retries": 0})
    assert (result.status, result.reason) == ("down", "error")
    assert "ca_file" in result.message


# ---------------------------------------------------------------- tls checks


def test_tls_check_valid(servers, certificates):
    result = tls(servers, "valid", certificates)
    assert (result.status, result.reason) == ("up", "ok")
    assert result.details["tls_version"].startswith("TLS")
    assert set(result.details["phases"]) == {"dns", "connect", "tls"}


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("expired", "down", "tls_expired"),
        ("expiring", "degraded", "tls_expiring"),
        ("wrong_host", "down", "tls_hostname"),
        ("self_signed", "down", "tls_self_signed"),
    ],
)
def test_tls_check_problems(servers, certificates, kind, status, reason):
    result = tls(servers, kind, certificates)
    assert (result.status, result.reason) == (status, reason)
    assert "cert_expires" in result.details


def test_tls_check_warn_days(servers, certificates):
    assert tls(servers, "expiring", certificates, warn_days=2).status == "up"


def test_tls_check_handshake_that_never_finishes_times_out(http_server_plain_hang):
    result = run_one({"type": "tls", "host": "127.0.0.1", "port": http_server_plain_hang, "timeout": 0.3, "retries": 0})
    assert (result.status, result.reason) == ("down", "timeout")
    assert "TLS handshake" in result.message


@pytest.fixture
def http_server_plain_hang():
    """A TCP listener that accepts and then says nothing, so a TLS handshake waits forever."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(1)
    for conn in accepted:
        conn.close()
    listener.close()
