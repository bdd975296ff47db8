"""gRPC checks: the standard health checking protocol (grpc.health.v1.Health/Check), one unary
call over HTTP/2, plaintext or TLS. SERVING is up; NOT_SERVING, SERVICE_UNKNOWN and UNKNOWN
are down, and so is a gRPC error status (the service not known, health not implemented).

The call is small enough to make with the `h2` protocol library alone (two protobuf fields, by
hand) rather than the full gRPC runtime, which would add tens of megabytes to every install
for one kind of check. The tests talk to a real grpcio server."""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import datetime, timezone
from typing import Any

from generator.checks.certs import certificate_details, classify_tls_error, judge_expiry, validity_from_der, verifying_context
from generator.checks.errors import classify_connection_error
from generator.checks.result import Outcome, clip, down
from generator.checks.spec import GrpcCheck
from generator.checks.tcp import Stage, close_quietly, open_tcp, timeout_message

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
SERVING_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
GRPC_CODES = {1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
              7: "PERMISSION_DENIED", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE", 16: "UNAUTHENTICATED"}
MAX_RESPONSE = 64 * 1024


def health_request(service: str) -> bytes:
    """A length-prefixed gRPC message holding HealthCheckRequest{service} (field 1, a string)."""
    name = service.encode("utf-8")
    body = (b"\x0a" + _varint(len(name)) + name) if name else b""
    return b"\x00" + len(body).to_bytes(4, "big") + body


def serving_status(message: bytes) -> int | None:
    """HealthCheckResponse.status (field 1, an enum) from a length-prefixed gRPC message."""
    body = message[5:5 + int.from_bytes(message[1:5], "big")] if len(message) >= 5 else b""
    index = 0
    while index < len(body):
        key, index = _read_varint(body, index)
        field, kind = key >> 3, key & 7
        if kind == 0:
            value, index = _read_varint(body, index)
            if field == 1:
                return value
        elif kind == 2:
            length, index = _read_varint(body, index)
            index += length
        else:
            return None
    return 0  # proto3 leaves a zero (UNKNOWN) value out


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _read_varint(data: bytes, index: int) -> tuple[int, int]:
    value = shift = 0
    while index < len(data):
        byte = data[index]
        index += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index
        shift += 7
    raise ValueError("truncated varint")


async def probe_grpc(spec: GrpcCheck, clients: object = None) -> Outcome:
    # Imported here: only sites with a grpc check pay for h2 (about 20 ms of imports).
    import h2.config
    import h2.connection
    import h2.events

    stage = Stage()
    started = time.perf_counter()
    details: dict[str, Any] = {}
    try:
        context = None
        if spec.tls:
            context = verifying_context(spec.ca_file, alpn=("h2",)) if spec.verify_tls else _unverified()
    except (OSError, ssl.SSLError) as exc:
        return down("error", f"cannot load ca_file {spec.ca_file}: {getattr(exc, 'strerror', None) or exc}")
    headers: dict[str, str] = {}
    trailers: dict[str, str] = {}
    not_after = None
    body = bytearray()
    try:
        async with asyncio.timeout(spec.timeout):
            connection = await open_tcp(spec.host, spec.port, stage)
            reader, writer = connection.reader, connection.writer
            try:
                if context is not None:
                    stage.current = "tls"
                    try:
                        await writer.start_tls(context, server_hostname=spec.host)
                    except BaseException:
                        writer.transport.abort()
                        raise
                    stage.done("tls", "call")
                    ssl_object = writer.get_extra_info("ssl_object")
                    not_after = validity_from_der(ssl_object.getpeercert(binary_form=True)).not_after
                    details.update(certificate_details(not_after))
                stage.current = "call"
                h2conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True,
                                                                                     header_encoding="utf-8"))
                h2conn.initiate_connection()
                request_headers = [(":method", "POST"), (":scheme", "https" if context else "http"),
                                   (":path", HEALTH_CHECK), (":authority", f"{spec.host}:{spec.port}"),
                                   ("content-type", "application/grpc"), ("te", "trailers"),
                                   ("grpc-timeout", f"{max(1, int(spec.timeout * 1000))}m"),
                                   ("user-agent", "heliograph")]
                h2conn.send_headers(1, request_headers)
                h2conn.send_data(1, health_request(spec.service), end_stream=True)
                writer.write(h2conn.data_to_send())
                await writer.drain()
                ended = False
                while not ended:
                    data = await reader.read(65536)
                    if not data:
                        raise ConnectionResetError("the server closed the connection")
                    for event in h2conn.receive_data(data):
                        if isinstance(event, h2.events.ResponseReceived):
                            headers = dict(event.headers)
                        elif isinstance(event, h2.events.DataReceived):
                            body += event.data
                            h2conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                            if len(body) > MAX_RESPONSE:
                                raise ValueError("the health answer is larger than any health answer")
                        elif isinstance(event, h2.events.TrailersReceived):
                            trailers = dict(event.headers)
                        elif isinstance(event, h2.events.StreamEnded):
                            ended = True
                        elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                            raise ConnectionResetError(f"the server ended the call ({type(event).__name__})")
                    pending = h2conn.data_to_send()
                    if pending:
                        writer.write(pending)
                        await writer.drain()
            finally:
                await close_quietly(connection.writer)
        outcome = _judge(spec, headers, trailers, bytes(body))
        if outcome.status != "down" and not_after is not None:
            verdict = judge_expiry(spec.host, not_after, datetime.now(timezone.utc), spec.warn_days)
            if verdict is not None:
                outcome = Outcome(*verdict)
    except TimeoutError:
        outcome = down("timeout", timeout_message(stage, spec.host, spec.port, spec.timeout)
                       if stage.current in ("dns", "connect", "tls") else
                       f"{spec.host}:{spec.port} gave no health answer within {spec.timeout:g}s")
    except ssl.SSLError as exc:
        outcome = down(*classify_tls_error(exc, spec.host))
    except OSError as exc:
        outcome = down(*classify_connection_error(exc, spec.host, spec.port))
    except Exception as exc:  # h2's protocol errors, a malformed answer: the server's answer, not a crash
        outcome = down("grpc_error", f"{spec.host}:{spec.port}: {type(exc).__name__}: {exc}")
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    details = {**details, **outcome.details, **({"phases": stage.phases} if stage.phases else {})}
    return Outcome(outcome.status, outcome.reason, outcome.message, latency_ms, details)


def _judge(spec: GrpcCheck, headers: dict[str, str], trailers: dict[str, str], body: bytes) -> Outcome:
    what = f"{spec.service!r}" if spec.service else "the server"
    status = headers.get(":status")
    if status is not None and status != "200":
        return down(f"status_{status}", f"HTTP/2 {status} instead of a gRPC answer from {spec.host}:{spec.port}")
    code = trailers.get("grpc-status", headers.get("grpc-status"))
    if code is not None and code != "0":
        name = GRPC_CODES.get(int(code) if code.isdigit() else -1, code)
        message = trailers.get("grpc-message", headers.get("grpc-message", ""))
        reason = {"NOT_FOUND": "grpc_service_unknown", "UNIMPLEMENTED": "grpc_unimplemented"}.get(name, "grpc_error")
        return down(reason, f"health check of {what}: {name}" + (f" ({clip(message, 80)})" if message else ""),
                    grpc_status=name)
    value = serving_status(body)
    state = SERVING_STATUS.get(value, str(value))
    if state == "SERVING":
        return Outcome("up", "ok", f"{what} is SERVING", details={"serving_status": state})
    reason = "grpc_not_serving" if state == "NOT_SERVING" else "grpc_unknown"
    return down(reason, f"{what} is {state}", serving_status=state)


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    return context
