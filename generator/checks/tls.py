"""TLS checks: does the handshake verify, and how long until the certificate expires?"""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import datetime, timezone
from typing import Any

from generator.checks.certs import certificate_details, certificate_mismatch, classify_tls_error, fetch_certificate, judge_expiry, validity_from_der, verifying_context
from generator.checks.errors import classify_connection_error
from generator.checks.result import Outcome, down
from generator.checks.spec import TlsCheck
from generator.checks.tcp import Stage, close_quietly, open_tcp, timeout_message


async def probe_tls(spec: TlsCheck, clients: object = None) -> Outcome:
    try:
        context = verifying_context(spec.ca_file)
    except (OSError, ssl.SSLError) as exc:
        return down("error", f"cannot load ca_file {spec.ca_file}: {getattr(exc, 'strerror', None) or exc}")
    stage = Stage()
    started = time.perf_counter()
    details: dict[str, Any] = {}
    try:
        async with asyncio.timeout(spec.timeout):
            connection = await open_tcp(spec.host, spec.port, stage)
            details["address"] = connection.address
            stage.current = "tls"
            try:
                await connection.writer.start_tls(context, server_hostname=spec.host)
            except BaseException:
                # After a failed or cancelled start_tls, wait_closed() never returns: just drop the socket.
                connection.writer.transport.abort()
                raise
            stage.done("tls", "done")
            ssl_object = connection.writer.get_extra_info("ssl_object")
            not_after, facts = _certificate_facts(ssl_object)
            details.update(facts)
            der = ssl_object.getpeercert(binary_form=True)
        await close_quietly(connection.writer)
        outcome = _judge(spec, not_after)
        if spec.expect_certificate is not None and outcome.status != "down":
            problem = certificate_mismatch(spec.expect_certificate, der, datetime.now(timezone.utc))
            if problem is not None:
                outcome = down("certificate_mismatch", problem)
    except TimeoutError:
        outcome = down("timeout", timeout_message(stage, spec.host, spec.port, spec.timeout))
    except ssl.SSLError as exc:
        reason, message = classify_tls_error(exc, spec.host)
        outcome = await _explain(reason, message, spec, spec.timeout - (time.perf_counter() - started))
    except OSError as exc:
        outcome = down(*classify_connection_error(exc, spec.host, spec.port))
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    details = {**details, **outcome.details}
    if stage.phases:
        details["phases"] = stage.phases
    return Outcome(outcome.status, outcome.reason, outcome.message, latency_ms, details)


def _certificate_facts(ssl_object: ssl.SSLObject) -> tuple[datetime, dict[str, Any]]:
    """The certificate's expiry, and what the result records of the connection and certificate."""
    validity = validity_from_der(ssl_object.getpeercert(binary_form=True))
    details: dict[str, Any] = {"tls_version": ssl_object.version(), **certificate_details(validity.not_after)}
    issuer = dict(item for rdn in ssl_object.getpeercert().get("issuer", ()) for item in rdn)
    if issuer:
        details["issuer"] = issuer.get("organizationName") or issuer.get("commonName")
    return validity.not_after, details


def _judge(spec: TlsCheck, not_after: datetime) -> Outcome:
    verdict = judge_expiry(spec.host, not_after, datetime.now(timezone.utc), spec.warn_days)
    if verdict is not None:
        return Outcome(*verdict)
    return Outcome("up", "ok", f"certificate valid until {not_after:%Y-%m-%d}")


async def _explain(reason: str, message: str, spec: TlsCheck, time_left: float) -> Outcome:
    """Add the expiry of a certificate that failed verification, from an unverified handshake."""
    der = await fetch_certificate(spec.host, spec.port, min(time_left, 5.0))
    if der is None:
        return down(reason, message)
    try:
        not_after = validity_from_der(der).not_after
    except (ValueError, IndexError):
        return down(reason, message)
    if reason == "tls_expired":
        message = f"certificate for {spec.host} expired on {not_after:%Y-%m-%d}"
    return down(reason, message, **certificate_details(not_after))
