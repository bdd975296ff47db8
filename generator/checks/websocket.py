"""WebSocket checks: connect (ws:// or wss://, the certificate verified), optionally send a
message, and expect one back that contains some text or matches a regular expression."""

from __future__ import annotations

import asyncio
import re
import ssl
import time

from generator.checks.errors import classify_connection_error
from generator.checks.result import Outcome, clip, down
from generator.checks.spec import WebSocketCheck
import websockets
from websockets.exceptions import InvalidStatus, WebSocketException
from generator.checks.certs import classify_tls_error, verifying_context


async def probe_websocket(spec: WebSocketCheck, clients: object = None) -> Outcome:
    # Imported here: only sites with a websocket check pay for it.


    started = time.perf_counter()
    context = verifying_context(spec.ca_file) if spec.url.startswith("wss://") else None
    host = re.sub(r"^wss?://([^/:]+).*$", r"\1", spec.url)
    try:
        async with asyncio.timeout(spec.timeout):
            async with websockets.connect(spec.url, ssl=context, open_timeout=None, close_timeout=1,
                                          max_size=spec.max_message) as connection:
                if spec.send is not None:
                    await connection.send(spec.send)
                message = None
                if spec.send is not None or spec.expect_contains is not None or spec.expect_regex is not None:
                    message = await connection.recv()
    except TimeoutError:
        return _timed(down("timeout", f"{spec.url} gave no {'message' if spec.send or spec.expect_contains else 'handshake'} "
                                      f"within {spec.timeout:g}s"), started)
    except InvalidStatus as exc:
        return _timed(down(f"status_{exc.response.status_code}", f"the server refused the WebSocket handshake with HTTP "
                                                                 f"{exc.response.status_code}"), started)
    except ssl.SSLError as exc:
        return _timed(down(*classify_tls_error(exc, host)), started)
    except OSError as exc:
        return _timed(down(*classify_connection_error(exc, host, 0)), started)
    except WebSocketException as exc:
        return _timed(down("websocket_error", f"{spec.url}: {exc}"), started)
    if message is not None:
        text = message if isinstance(message, str) else message.decode("utf-8", errors="replace")
        if spec.expect_contains is not None and spec.expect_contains not in text:
            return _timed(down("message_mismatch", f"the message does not contain {clip(spec.expect_contains, 40)!r} "
                                                   f"(got {clip(text, 60)!r})"), started)
        if spec.expect_regex is not None and not re.search(spec.expect_regex, text):
            return _timed(down("message_mismatch", f"the message does not match /{clip(spec.expect_regex, 60)}/ "
                                                   f"(got {clip(text, 60)!r})"), started)
        return _timed(Outcome("up", "ok", f"{len(text)} character message from {spec.url}"), started)
    return _timed(Outcome("up", "ok", f"WebSocket handshake with {spec.url}"), started)


def _timed(outcome: Outcome, started: float) -> Outcome:
    return Outcome(outcome.status, outcome.reason, outcome.message, round((time.perf_counter() - started) * 1000, 1),
                   outcome.details)
