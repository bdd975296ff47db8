"""Small real servers on 127.0.0.1 for tests."""

from __future__ import annotations

import functools
import http.server
import threading
from contextlib import contextmanager
from pathlib import Path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def static_server(directory: Path, handler_class: type = _QuietHandler):
    """Serve `directory` like a static host would; yields the base URL."""
    with http_server(functools.partial(handler_class, directory=str(directory))) as base:
        yield base


@contextmanager
def up_while_present(directory: Path, names):
    """A static server where a check of <name>.txt is up while that file exists: each is
    created now; delete one to make its component fail. Yields the base URL."""
    directory.mkdir(parents=True)
    for name in names:
        (directory / f"{name}.txt").write_text("ok\n")
    with static_server(directory) as url:
        yield url


@contextmanager
def http_server(handler):
    """A threaded HTTP server on a free port of 127.0.0.1 with this handler; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
