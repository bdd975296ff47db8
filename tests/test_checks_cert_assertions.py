"""`expect: {certificate: ...}` on https, tls and mail checks (issue #21 part 4): the issuer,
subject, names, days left and SHA-256 fingerprint of the certificate a real server presents."""

from __future__ import annotations

import hashlib
import ssl

import pytest
from checkservers import Certificates, certificates, run_one, serving  # noqa: F401  (fixture)
from clirun import invoke
from conftest import write_site
from test_checks_udp_mail import _LineServer


@pytest.fixture(scope="module")
def https(certificates: Certificates):
    with serving(certificates.valid()) as server:
        yield server


def _fingerprint(url: str) -> str:
    """The server's certificate's SHA-256, read here with the standard library."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate((host, int(port))))).hexdigest()


def test_an_https_certificate_holds_what_expect_asks(https, certificates):
    url = https.url("/ok").replace("http://", "https://")
    good = {"issuer": "Trustme", "names": ["localhost"], "min_days": 30,
            "fingerprint": "SHA256:" + ":".join(_hex_pairs(_fingerprint(url)))}
    result = run_one({"url": url, "ca_file": certificates.ca_file, "expect": {"certificate": good}})
    assert (result.status, result.reason) == ("up", "ok"), result.message
    for wrong, words in (({"issuer": "Let's Encrypt"}, "issuer"), ({"names": ["status.example.com"]}, "not for"),
                         ({"fingerprint": "0" * 64}, "is not the expected SHA256:" + "0" * 64)):
        bad = run_one({"url": url, "ca_file": certificates.ca_file, "expect": {"certificate": wrong}, "retries": 0})
        assert (bad.status, bad.reason) == ("down", "certificate_mismatch") and words in bad.message, bad.message
    with serving(certificates.expiring_in(40)) as soon:  # 40 days left: warn_days (14) is content, min_days not
        short = run_one({"url": soon.url("/ok").replace("http://", "https://"), "ca_file": certificates.ca_file,
                         "expect": {"certificate": {"min_days": 60}}, "retries": 0})
    assert (short.status, short.reason) == ("down", "certificate_mismatch") and "fewer than min_days 60" in short.message


def test_a_tls_check_and_a_mail_check_assert_their_certificates(https, certificates):
    port = int(https.url("/ok").split(":")[2].split("/")[0])
    tls = run_one({"type": "tls", "host": "127.0.0.1", "port": port, "ca_file": certificates.ca_file,
                   "expect": {"certificate": {"names": ["localhost"], "subject": "Trustme"}}})
    assert tls.status == "up", tls.message
    wrong = run_one({"type": "tls", "host": "127.0.0.1", "port": port, "ca_file": certificates.ca_file,
                     "expect": {"certificate": {"names": ["mail.example.com"]}}, "retries": 0})
    assert (wrong.status, wrong.reason) == ("down", "certificate_mismatch")
    server = _LineServer("imap", certificates.expiring_in(40), implicit=True)
    try:
        mail = run_one({"type": "imap", "host": "127.0.0.1", "port": server.port, "tls": "implicit",
                        "ca_file": certificates.ca_file, "expect": {"certificate": {"min_days": 60}}, "retries": 0})
        assert (mail.status, mail.reason) == ("down", "certificate_mismatch")
    finally:
        server.close()


def test_certificate_keys_are_validated_with_their_place(tmp_path):
    site = write_site(tmp_path / "site", "site: {title: T, base_url: \"https://s.example/\"}\ncomponents:\n"
                                         "  - id: web\n    name: Web\n    check:\n      type: tls\n"
                                         "      host: example.com\n      expect:\n        certificate:\n"
                                         "          fingerprint: nope\n          issuerr: X\n")
    ran = invoke("--site", str(site), "validate")
    assert ran.code == 1
    assert "site.yaml:10:" in ran.stderr and 'fingerprint "nope" is not a SHA-256' in ran.stderr
    assert "site.yaml:11:" in ran.stderr and 'did you mean "issuer"' in ran.stderr.replace("'", '"')


def _hex_pairs(hexed: str) -> list[str]:
    return [hexed[i:i + 2].upper() for i in range(0, len(hexed), 2)]
