"""TCP checks: can a connection be opened? Also the connection helper the TLS check builds on."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field

from generator.checks.errors import classify_connection_error
from generator.checks.result import Outcome, down
from generator.checks.spec import TcpCheck


@dataclass
class Connection:
    """An open TCP connection and the address it reached, for the checks that talk over one."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    address: str  # the IP actually connected to


@dataclass
class Stage:
    """Which step a connection is in and how long earlier steps took, so a timeout can say where it hit."""

    current: str = "dns"
    phases: dict[str, float] = field(default_factory=dict)
    _since: float = field(default_factory=time.perf_counter)

    def done(self, phase: str, next_phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round((now - self._since) * 1000, 1)
        self._since = now
        self.current = next_phase


async def open_tcp(host: str, port: int, stage: Stage) -> Connection:
    """Resolve host and connect to its addresses in turn; raises OSError (the most telling one) if none answer."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    stage.done("dns", "connect")
    addresses = list(dict.fromkeys(info[4][:2] for info in infos))
    errors: list[OSError] = []
    for ip, ip_port in addresses:
        try:
            reader, writer = await asyncio.open_connection(ip, ip_port)
        except OSError as exc:
            errors.append(exc)
            continue
        stage.done("connect", "done")
        return Connection(reader, writer, ip)
    # "refused" says more than e.g. "IPv6 unreachable" when a host has both kinds of address.
    refused = [e for e in errors if isinstance(e, ConnectionRefusedError)]
    raise (refused or errors or [OSError(f"{host} has no addresses")])[0]


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    try:
        writer.close()
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        pass  # the check already has its answer; a messy close does not change it


def timeout_message(stage: Stage, host: str, port: int, timeout: float) -> str:
    limit = f"{timeout:g}s"
    return {
        "dns": f"resolving {host} took longer than {limit}",
        "connect": f"no answer from {host}:{port} within {limit} (port filtered or host down?)",
        "tls": f"TLS handshake with {host}:{port} did not finish within {limit}",
    }.get(stage.current, f"{host}:{port} did not answer within {limit}")


async def probe_tcp(spec: TcpCheck, clients: object = None) -> Outcome:
    stage = Stage()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout):
            connection = await open_tcp(spec.host, spec.port, stage)
        await close_quietly(connection.writer)
        outcome = Outcome("up", "ok", f"connected to {spec.host}:{spec.port}", details={"address": connection.address})
    except TimeoutError:
        outcome = down("timeout", timeout_message(stage, spec.host, spec.port, spec.timeout))
    except OSError as exc:
        outcome = down(*classify_connection_error(exc, spec.host, spec.port))
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    details = {**outcome.details, "phases": stage.phases} if stage.phases else outcome.details
    return Outcome(outcome.status, outcome.reason, outcome.message, latency_ms, details)
