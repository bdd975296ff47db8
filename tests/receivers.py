"""Real receivers for alert and announcement channels, on 127.0.0.1: a JSON webhook (Apprise's
json://) and, through the `mailbox` fixture in conftest, an SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import socket
import threading


class Webhook:
    """A JSON receiver (Apprise's json:// posts {"title", "message", "type", ...})."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.queries: list[str] = []
        webhook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                webhook.posts.append(json.loads(body))
                webhook.queries.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    @property
    def titles(self) -> list[str]:
        return [post["title"] for post in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def text(self, index: int) -> str:
        return self.messages[index].get_body(preferencelist=("plain",)).get_content()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_port() -> int:
    return free_port()  # nothing listens once the probe is closed
