"""Turning network exceptions into a result reason and a short message."""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Iterator

from generator.checks.certs import classify_tls_error


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and contexts, and members of exception groups; each once."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(getattr(current, "exceptions", ()) or ())
        pending.extend((current.__cause__, current.__context__))


def find(error: BaseException, kind: type) -> BaseException | None:
    return next((e for e in exception_chain(error) if isinstance(e, kind)), None)


def classify_connection_error(error: BaseException, host: str, port: int | None) -> tuple[str, str]:
    """(reason, message) for a failure while connecting, resolving or handshaking."""
    where = f"{host}:{port}" if port else host
    tls_error = find(error, ssl.SSLCertVerificationError) or find(error, ssl.SSLError)
    if tls_error is not None:
        return classify_tls_error(tls_error, host)
    resolve_error = find(error, socket.gaierror)
    if resolve_error is not None:
        return classify_resolve_error(resolve_error, host)
    if find(error, ConnectionRefusedError) is not None:
        return "connect_refused", f"connection to {where} refused"
    if find(error, ConnectionResetError) is not None or find(error, BrokenPipeError) is not None:
        return "reset", f"connection to {where} reset by peer"
    if find(error, TimeoutError) is not None:
        return "timeout", f"connecting to {where} timed out"
    os_error = find(error, OSError)
    if isinstance(os_error, OSError) and os_error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "connect_error", f"{where} is unreachable ({os_error.strerror})"
    return "connect_error", f"cannot connect to {where}: {short_error(error)}"


def classify_resolve_error(error: socket.gaierror, host: str) -> tuple[str, str]:
    if error.errno == socket.EAI_NONAME:
        return "dns_nxdomain", f"host name {host} not found"
    if error.errno == socket.EAI_AGAIN:
        # glibc uses EAI_AGAIN for both SERVFAIL and resolver timeouts.
        return "dns_servfail", f"temporary failure resolving {host}"
    if error.errno == getattr(socket, "EAI_NODATA", None):
        return "dns_no_answer", f"{host} has no address records"
    return "connect_error", f"cannot resolve {host}: {error.strerror or error}"


def short_error(error: BaseException, limit: int = 160) -> str:
    text = str(error).strip() or error.__class__.__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
