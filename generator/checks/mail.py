"""SMTP, IMAP and POP3 checks: the server's greeting, then TLS (STARTTLS, STLS, or from the first
byte) with its certificate verified and its expiry judged as the tls check does, then a polite
QUIT or LOGOUT. Nothing is sent beyond that: no login, no message."""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import datetime, timezone
from typing import Any

from generator.checks.certs import certificate_details, certificate_mismatch, classify_tls_error, judge_expiry, validity_from_der, verifying_context
from generator.checks.errors import classify_connection_error
from generator.checks.result import Outcome, clip, down
from generator.checks.spec import MailCheck
from generator.checks.tcp import Stage, close_quietly, open_tcp, timeout_message

MAX_LINE = 4096
# What each protocol says first, the command that starts TLS and its good answer, and goodbye.
_GREETING_OK = {"smtp": b"220", "imap": b"* OK", "pop3": b"+OK"}
_STARTTLS = {"smtp": (b"EHLO heliograph.invalid\r\n", b"STARTTLS\r\n", b"220"),
             "imap": (None, b"a1 STARTTLS\r\n", b"a1 OK"),
             "pop3": (None, b"STLS\r\n", b"+OK")}
_GOODBYE = {"smtp": b"QUIT\r\n", "imap": b"a2 LOGOUT\r\n", "pop3": b"QUIT\r\n"}


class _Refused(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


async def probe_mail(spec: MailCheck, clients: object = None) -> Outcome:
    try:
        context = None if spec.tls == "none" else verifying_context(spec.ca_file) if spec.verify_tls else _unverified()
    except (OSError, ssl.SSLError) as exc:
        return down("error", f"cannot load ca_file {spec.ca_file}: {getattr(exc, 'strerror', None) or exc}")
    stage = Stage()
    started = time.perf_counter()
    details: dict[str, Any] = {}
    outcome: Outcome | None = None
    try:
        async with asyncio.timeout(spec.timeout):
            connection = await open_tcp(spec.host, spec.port, stage)
            details["address"] = connection.address
            try:
                reader, writer = connection.reader, connection.writer
                if spec.tls == "implicit":
                    stage.current = "tls"
                    await _start_tls(writer, context, spec.host)
                    stage.done("tls", "greeting")
                stage.current = "greeting"
                banner = await _greeting(reader, spec)
                details["banner"] = clip(banner, 120)
                if spec.expect_banner is not None and spec.expect_banner.lower() not in banner.lower():
                    raise _Refused("banner_mismatch", f"the greeting {clip(banner, 80)!r} does not contain "
                                                      f"{spec.expect_banner!r}")
                if spec.tls == "starttls":
                    stage.current = "starttls"
                    await _starttls(reader, writer, spec)
                    stage.current = "tls"
                    await _start_tls(writer, context, spec.host)
                    stage.done("tls", "done")
                if spec.tls != "none":
                    ssl_object = writer.get_extra_info("ssl_object")
                    not_after = validity_from_der(ssl_object.getpeercert(binary_form=True)).not_after
                    details.update({"tls_version": ssl_object.version(), **certificate_details(not_after)})
                    verdict = judge_expiry(spec.host, not_after, datetime.now(timezone.utc), spec.warn_days)
                    if verdict is not None:
                        outcome = Outcome(*verdict)
                    if spec.expect_certificate is not None and (outcome is None or outcome.status != "down"):
                        problem = certificate_mismatch(spec.expect_certificate, ssl_object.getpeercert(binary_form=True),
                                                       datetime.now(timezone.utc))
                        if problem is not None:
                            outcome = down("certificate_mismatch", problem)
                writer.write(_GOODBYE[spec.type])
                await writer.drain()
            finally:
                await close_quietly(connection.writer)
        if outcome is None:
            secured = {"starttls": ", STARTTLS", "implicit": ", TLS"}.get(spec.tls, "")
            outcome = Outcome("up", "ok", f"{spec.type.upper()} greeting from {spec.host}:{spec.port}{secured}")
    except _Refused as refused:
        outcome = down(refused.reason, refused.message)
    except TimeoutError:
        outcome = down("timeout", timeout_message(stage, spec.host, spec.port, spec.timeout)
                       if stage.current in ("dns", "connect", "tls") else
                       f"{spec.host}:{spec.port} sent no {stage.current} answer within {spec.timeout:g}s")
    except ssl.SSLError as exc:
        outcome = down(*classify_tls_error(exc, spec.host))
    except OSError as exc:
        outcome = down(*classify_connection_error(exc, spec.host, spec.port))
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    details = {**details, **outcome.details, **({"phases": stage.phases} if stage.phases else {})}
    return Outcome(outcome.status, outcome.reason, outcome.message, latency_ms, details)


async def _greeting(reader: asyncio.StreamReader, spec: MailCheck) -> str:
    """The greeting (every line of a multi-line SMTP one), checked for the protocol's good start."""
    lines = [await _line(reader)]
    while spec.type == "smtp" and lines[-1][3:4] == b"-":
        lines.append(await _line(reader))
    text = " ".join(line.decode("utf-8", errors="replace").strip() for line in lines)
    if not lines[0].startswith(_GREETING_OK[spec.type]):
        raise _Refused("banner_mismatch", f"{spec.type.upper()} server answered {clip(text, 80)!r} instead of a greeting")
    return text


async def _starttls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, spec: MailCheck) -> None:
    hello, command, good = _STARTTLS[spec.type]
    if hello is not None:
        writer.write(hello)
        await writer.drain()
        while True:
            line = await _line(reader)
            if line[3:4] != b"-":
                break
    writer.write(command)
    await writer.drain()
    answer = await _line(reader)
    if not answer.startswith(good):
        raise _Refused("starttls_refused", f"{spec.host} does not offer STARTTLS: "
                                           f"{clip(answer.decode('utf-8', errors='replace').strip(), 80)!r}")


async def _start_tls(writer: asyncio.StreamWriter, context: ssl.SSLContext, host: str) -> None:
    try:
        await writer.start_tls(context, server_hostname=host)
    except BaseException:
        writer.transport.abort()  # a failed start_tls leaves a writer whose close never returns
        raise


async def _line(reader: asyncio.StreamReader) -> bytes:
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("the server closed the connection")
    return line[:MAX_LINE]


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
