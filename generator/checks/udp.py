"""UDP checks: send a datagram, and expect a reply (that contains some bytes, or matches a
regular expression) within the timeout. UDP has no connection: silence is `timeout`, and an
ICMP "port unreachable" coming back is `connect_refused`."""

from __future__ import annotations

import asyncio
import re
import socket
import time

from generator.checks.errors import classify_connection_error
from generator.checks.result import Outcome, clip, down
from generator.checks.spec import UdpCheck

MAX_REPLY = 65535


class _Reply(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answer: asyncio.Future = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        if not self.answer.done():
            self.answer.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


async def probe_udp(spec: UdpCheck, clients: object = None) -> Outcome:
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    transport = None
    try:
        async with asyncio.timeout(spec.timeout):
            infos = await loop.getaddrinfo(spec.host, spec.port, type=socket.SOCK_DGRAM)
            transport, protocol = await loop.create_datagram_endpoint(_Reply, remote_addr=infos[0][4][:2],
                                                                      family=infos[0][0])
            transport.sendto(spec.payload())
            reply: bytes = await protocol.answer
    except TimeoutError:
        return _timed(down("timeout", f"no reply from {spec.host}:{spec.port} (udp) within {spec.timeout:g}s"), started)
    except OSError as exc:
        return _timed(down(*classify_connection_error(exc, spec.host, spec.port)), started)
    finally:
        if transport is not None:
            transport.close()
    outcome = judge_reply(spec, reply)
    return _timed(outcome, started, {"reply_bytes": len(reply)})


def judge_reply(spec: UdpCheck, reply: bytes) -> Outcome:
    shown = clip(reply.decode("utf-8", errors="replace"), 60)
    if spec.expect_contains is not None and spec.expect_contains.encode() not in reply:
        return down("reply_mismatch", f"the reply does not contain {clip(spec.expect_contains, 40)!r} (got {shown!r})")
    if spec.expect_regex is not None and not re.search(spec.expect_regex.encode(), reply):
        return down("reply_mismatch", f"the reply does not match /{clip(spec.expect_regex, 60)}/ (got {shown!r})")
    return Outcome("up", "ok", f"{len(reply)} byte reply from {spec.host}:{spec.port}")


def _timed(outcome: Outcome, started: float, details: dict | None = None) -> Outcome:
    latency = round((time.perf_counter() - started) * 1000, 1)
    return Outcome(outcome.status, outcome.reason, outcome.message, latency, {**outcome.details, **(details or {})})
