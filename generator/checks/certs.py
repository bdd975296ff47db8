"""Certificates: expiry from raw DER (works without verification), TLS error wording, SSL contexts."""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx

from generator.checks.result import DEGRADED, DOWN
from generator.checks.spec import CertificateExpect


@dataclass(frozen=True)
class CertValidity:
    """When a certificate is valid: what tls checks and http's `certificate:` assertions judge."""

    not_before: datetime
    not_after: datetime


def validity_from_der(der: bytes) -> CertValidity:
    """The validity period of an X.509 certificate in DER form.

    The stdlib only decodes certificates it has verified; parsing the few fields we need
    keeps expiry visible for verify_tls: false and for certificates that failed verification.
    """
    _, certificate, _ = _tlv(der, 0)
    _, tbs, _ = _tlv(der, certificate)
    position = tbs
    if der[position] == 0xA0:  # explicit [0] version
        position = _tlv(der, position)[2]
    for _skipped in ("serialNumber", "signature", "issuer"):
        position = _tlv(der, position)[2]
    tag, validity, _ = _tlv(der, position)
    if tag != 0x30:
        raise ValueError("certificate validity not found")
    not_before, after_start, _ = _time(der, validity)
    not_after, _, _ = _time(der, after_start)
    return CertValidity(not_before, not_after)


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at offset."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated certificate")
    return tag, start, end


def _time(data: bytes, offset: int) -> tuple[datetime, int, int]:
    tag, start, end = _tlv(data, offset)
    text = data[start:end].decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime: two-digit years, 50-99 meaning 19xx (RFC 5280)
        year = int(text[:2])
        text = str(1900 + year if year >= 50 else 2000 + year) + text[2:]
    elif tag != 0x18:  # GeneralizedTime
        raise ValueError("unexpected time encoding in certificate")
    moment = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    return moment, end, end


def days_left(not_after: datetime, now: datetime) -> float:
    return (not_after - now).total_seconds() / 86400


def certificate_details(not_after: datetime) -> dict[str, object]:
    """What a result records of a certificate's expiry, for http and tls checks alike."""
    return {
        "cert_expires": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cert_days_left": round(days_left(not_after, datetime.now(timezone.utc)), 1),
    }


def judge_expiry(host: str, not_after: datetime, now: datetime, warn_days: int) -> tuple[str, str, str] | None:
    """(status, reason, message) when the certificate is expired or expiring within warn_days, else None."""
    left = days_left(not_after, now)
    date = not_after.strftime("%Y-%m-%d")
    if left < 0:
        return DOWN, "tls_expired", f"certificate for {host} expired {_days(-left)} ago ({date})"
    if left < warn_days:
        return DEGRADED, "tls_expiring", f"certificate for {host} expires in {_days(left)} ({date})"
    return None


def _days(days: float) -> str:
    if days < 1:
        hours = max(1, round(days * 24))
        return f"{hours} hour{'s' if hours != 1 else ''}"
    whole = round(days)
    return f"{whole} day{'s' if whole != 1 else ''}"


# OpenSSL X509_V_ERR_* codes, see `man openssl-verify`.
_EXPIRED = {10}
_SELF_SIGNED = {18, 19}
_HOSTNAME = {62, 64}
_NOT_YET_VALID = {9}


def classify_tls_error(error: ssl.SSLError, host: str) -> tuple[str, str]:
    """(reason, message) for a failed TLS handshake."""
    if isinstance(error, ssl.SSLCertVerificationError):
        code = error.verify_code
        detail = (error.verify_message or error.reason or "verification failed").rstrip(".")
        if code in _EXPIRED:
            return "tls_expired", f"certificate for {host} has expired"
        if code in _SELF_SIGNED:
            return "tls_self_signed", f"certificate for {host} is self-signed ({detail}); set ca_file to trust it"
        if code in _HOSTNAME:
            return "tls_hostname", f"certificate is not valid for {host} ({detail})"
        if code in _NOT_YET_VALID:
            return "tls_invalid", f"certificate for {host} is not valid yet"
        return "tls_invalid", f"certificate for {host} is not trusted ({detail}); for a private CA set ca_file"
    reason = error.reason or error.__class__.__name__
    return "tls_invalid", f"TLS handshake with {host} failed ({reason})"


def verifying_context(ca_file: str | None, alpn: tuple[str, ...] = ()) -> ssl.SSLContext:
    """The same trust store httpx uses (certifi, or SSL_CERT_FILE), plus ca_file if given. One
    context per trust store and process: loading the store takes tens of milliseconds, paid once
    for all the checks of a run, and again only when ca_file changes (a long-running checker)."""
    stamp = None
    if ca_file:
        try:
            found = os.stat(ca_file)
            stamp = (found.st_size, found.st_mtime_ns)
        except OSError:
            stamp = None  # load_verify_locations says what is wrong with it
    return _verifying_context(ca_file, stamp, alpn)


@lru_cache(maxsize=32)
def _verifying_context(ca_file: str | None, stamp: tuple | None, alpn: tuple[str, ...]) -> ssl.SSLContext:
    context = httpx.create_ssl_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def unverified_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def fetch_certificate(host: str, port: int, timeout: float) -> bytes | None:
    """The server's certificate (DER) without verifying it, to say *why* verification failed; None on any error."""
    if timeout <= 0:
        return None
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(
                host, port, ssl=unverified_context(), server_hostname=host or None
            )
            try:
                ssl_object = writer.get_extra_info("ssl_object")
                return ssl_object.getpeercert(binary_form=True) if ssl_object else None
            finally:
                writer.transport.abort()  # nothing to say to this server; skip the TLS goodbye
    except (OSError, TimeoutError, ssl.SSLError, ValueError):
        return None


def certificate_mismatch(expect: CertificateExpect, der: bytes, now: datetime) -> str | None:
    """Why the certificate (DER) is not what `expect` asks, or None. Read from the certificate
    itself, so it works whether or not the chain was verified."""
    from cryptography import x509  # not at the top: 30 ms of imports, paid only here

    certificate = x509.load_der_x509_certificate(der)
    if expect.fingerprint is not None:
        found = hashlib.sha256(der).hexdigest()
        if found != expect.fingerprint:
            return f"certificate fingerprint SHA256:{found} is not the expected SHA256:{expect.fingerprint}"
    if expect.issuer is not None and expect.issuer.lower() not in certificate.issuer.rfc4514_string().lower():
        return f"certificate issuer {certificate.issuer.rfc4514_string()!r} does not contain {expect.issuer!r}"
    if expect.subject is not None and expect.subject.lower() not in certificate.subject.rfc4514_string().lower():
        return f"certificate subject {certificate.subject.rfc4514_string()!r} does not contain {expect.subject!r}"
    if expect.names:
        try:
            names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            covered = {name.lower() for name in names.get_values_for_type(x509.DNSName)}
        except x509.ExtensionNotFound:
            covered = set()
        missing = [name for name in expect.names if name.lower() not in covered]
        if missing:
            return f"certificate is not for {', '.join(missing)} (it names {', '.join(sorted(covered)) or 'no DNS name'})"
    if expect.min_days is not None:
        left = days_left(certificate.not_valid_after_utc, now)
        if left < expect.min_days:
            return f"certificate has {left:.0f} days left, fewer than min_days {expect.min_days}"
    return None
