"""`heliograph serve`: build, serve on localhost, rebuild on every save, reload open tabs.

The reload script is added to HTML responses as they are served and is never written into a
build. Tabs poll a tiny version endpoint rather than holding a connection open: a browser allows
six connections per host, so six tabs on an EventSource would stall the seventh, and polling
also survives restarting the server without any reconnect logic.
"""

from __future__ import annotations

import html
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from watchfiles import DefaultFilter, watch

from generator.engine.build import build
from generator.render.environment import crash_problems
from generator.site.config import load_site
from generator.site.problems import InvalidInput, Problem

CONTROL_PREFIX = "/__heliograph/"
VERSION_PATH = CONTROL_PREFIX + "version"
POLL_MILLISECONDS = 400
WATCHED_DIRS = ("incidents", "templates")


@dataclass(frozen=True)
class BuildOutcome:
    """One build under `heliograph serve`: whether it worked, its problems, and the version that
    tells open tabs to reload. While a build fails, pages show its problems instead."""

    version: str  # changes with every rebuild, and between runs of the server
    problems: tuple[Problem, ...]  # the errors of a failed build, or the warnings of a good one
    ok: bool
    seconds: float = 0.0
    written: int = 0
    changed: tuple[str, ...] = ()  # the edited files that caused this build, relative to the site
    detail: str = ""  # a traceback for a crash that is not a user's mistake

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error") if not self.ok else ()


# --- pure pieces: what a response contains -------------------------------------------------


def reload_script(version: str) -> str:
    return (
        "<script data-heliograph-reload>\n"
        "(function () {\n"
        f"  var version = {json.dumps(version)};\n"
        "  function poll() {\n"
        f"    fetch({json.dumps(VERSION_PATH)}, {{cache: 'no-store'}})\n"
        "      .then(function (r) { return r.json(); })\n"
        "      .then(function (s) { if (s.version !== version) { location.reload(); } "
        f"else {{ setTimeout(poll, {POLL_MILLISECONDS}); }} }})\n"
        "      .catch(function () { setTimeout(poll, 1000); });  // restarting: try again\n"
        "  }\n"
        f"  setTimeout(poll, {POLL_MILLISECONDS});\n"
        "})();\n"
        "</script>\n"
    )


_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


def with_reload_script(page: bytes, version: str) -> bytes:
    """The page with the reload script just before its last </body>, or at the end if it has none."""
    script = reload_script(version).encode()
    matches = list(_BODY_END.finditer(page))
    if not matches:
        return page + script
    at = matches[-1].start()
    return page[:at] + script + page[at:]


def error_page(outcome: BuildOutcome) -> bytes:
    """What every page shows while the site does not build: each problem at its file:line:col."""
    items = "\n".join(
        f'<li><code class="where">{html.escape(_where(p))}</code> <span class="severity">{p.severity}</span>'
        f"<p>{html.escape(p.message)}</p></li>" for p in outcome.problems)
    detail = f"<pre>{html.escape(outcome.detail)}</pre>" if outcome.detail else ""
    count = len(outcome.errors) or len(outcome.problems)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Build failed · Heliograph</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }}
h1 {{ color: #b42318; font-size: 1.5rem; }}
ul {{ padding: 0; list-style: none; }}
li {{ border-left: 4px solid #b42318; background: #fef3f2; padding: .5rem 1rem; margin: .75rem 0; }}
li p {{ margin: .25rem 0 0; }}
.where {{ font-weight: 600; }}
.severity {{ color: #b42318; }}
pre {{ background: #f6f8fa; padding: 1rem; overflow: auto; font-size: 13px; }}
</style>
</head>
<body>
<h1>The site does not build: {count} problem{'s' if count != 1 else ''}</h1>
<p>Fix the file and save it; this page reloads by itself. The terminal shows the same list.</p>
<ul class="problems">
{items}
</ul>
{detail}
</body>
</html>
"""
    return with_reload_script(page.encode(), outcome.version)


def _where(problem: Problem) -> str:
    where = problem.file
    if problem.line is not None:
        where += f":{problem.line}"
        if problem.column is not None:
            where += f":{problem.column}"
    return where


# --- building -----------------------------------------------------------------------------


class SiteBuilder:
    """Builds the site into `output` and keeps the latest outcome; one build at a time.

    Requests read pages under the same lock, so a page and the version injected into it always
    come from the same build.
    """

    def __init__(self, root: Path, output: Path, base_url: str):
        self.root, self.output, self.base_url = root, output, base_url
        self.lock = threading.Lock()
        self._run = secrets.token_hex(4)
        self._count = 0
        self.outcome = BuildOutcome(version=f"{self._run}-0", problems=(), ok=False)
        self._last_build: list = []  # what the last build loaded and made (see release)

    def rebuild(self, changed: Iterable[str] = ()) -> BuildOutcome:

        with self.lock:
            self._count += 1
            version = f"{self._run}-{self._count}"
            started = time.perf_counter()
            changed = tuple(sorted(changed))
            try:
                report = build(self.root, self.output, base_url=self.base_url, keep_in=self._last_build)
                outcome = BuildOutcome(version, tuple(report.problems), True, time.perf_counter() - started,
                                       report.written, changed)
            except InvalidInput as exc:
                outcome = BuildOutcome(version, tuple(exc.problems), False, time.perf_counter() - started,
                                       changed=changed)
            except Exception as exc:  # a template mistake must not stop the server
                outcome = BuildOutcome(version, crash_problems(exc, self.root), False,
                                       time.perf_counter() - started, changed=changed,
                                       detail="".join(traceback.format_exception(exc)))
            self.outcome = outcome
            return outcome

    def release(self) -> None:
        """Free what the last build loaded and made: after its outcome is out, so that the reader
        does not wait for it (on a large site it takes as long as a third of the rebuild)."""
        with self.lock:
            self._last_build.clear()


# --- serving ------------------------------------------------------------------------------


class DevServer(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a tab left open must not keep Ctrl-C waiting
    block_on_close = False
    builder: SiteBuilder
    log_requests = False

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class DevServerIPv6(DevServer):
    address_family = socket.AF_INET6


class DevRequestHandler(http.server.SimpleHTTPRequestHandler):
    server: DevServer

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(kwargs.pop("directory")), **kwargs)

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, head: bool) -> None:
        path = urlsplit(self.path).path
        builder = self.server.builder
        if path == VERSION_PATH:
            outcome = builder.outcome
            body = json.dumps({"version": outcome.version, "ok": outcome.ok}).encode()
            return self._send(200, "application/json", body, head)
        with builder.lock:
            outcome = builder.outcome
            target = self._page_for(path)
            if not outcome.ok and (target is not None or _looks_like_page(path)):
                return self._send(500, "text/html; charset=utf-8", error_page(outcome), head)
            if target is not None:
                return self._send(200, "text/html; charset=utf-8",
                                  with_reload_script(target.read_bytes(), outcome.version), head)
            missing = not Path(self.translate_path(path)).exists()
            not_found = Path(builder.output) / "404.html"
            if missing and _looks_like_page(path) and not_found.is_file():
                return self._send(404, "text/html; charset=utf-8",
                                  with_reload_script(not_found.read_bytes(), outcome.version), head)
        # Stylesheets, images, feeds: as they are (also the last good build's, while it is broken).
        super().do_HEAD() if head else super().do_GET()

    def _page_for(self, path: str) -> Path | None:
        """The HTML file a request is for; None for other files and for directory redirects."""
        local = Path(self.translate_path(path))
        if local.is_dir():
            if not path.endswith("/"):
                return None  # the base class redirects to the slash form, so relative links work
            local = local / "index.html"
        return local if local.suffix == ".html" and local.is_file() else None

    def _send(self, status: int, content_type: str, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # an edit must show on the next load
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if self.server.log_requests and not self.path.startswith(CONTROL_PREFIX):
            super().log_message(format, *args)


def _looks_like_page(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == "" or name.endswith(".html") or "." not in name


# --- watching -----------------------------------------------------------------------------


class SiteFilter:
    """Only the files a build reads: site.yaml, incidents/, templates/ and the history directory."""

    def __init__(self, root: Path):
        self.root = root
        self.history_dir = "history"
        self._default = DefaultFilter()  # editor swap files, .git and the like
        self.refresh()

    def refresh(self) -> None:
        try:
            self.history_dir = load_site(self.root).history.dir
        except InvalidInput:
            pass  # keep watching the last known one until site.yaml is fixed

    def relevant(self, relative: str) -> bool:
        parts = Path(relative).parts
        if not parts or parts[0] == "..":
            return False
        history = Path(self.history_dir).parts
        return relative == "site.yaml" or parts[0] in WATCHED_DIRS or parts[:len(history)] == history

    def __call__(self, change, path: str) -> bool:
        return self._default(change, path) and self.relevant(os.path.relpath(path, self.root))


def watch_site(root: Path, on_change: Callable[[tuple[str, ...]], None], stop: threading.Event,
               ready: threading.Event | None = None) -> None:
    """Call on_change with the changed files (relative to root) after every batch of saves.

    The site directory itself is watched, not each file: editors that save by renaming a new file
    over the old one would otherwise leave a watch on a file that no longer exists. `ready` is set
    once the watch is in place, so "Serving at ..." is never printed before a save would be seen.
    """

    site_filter = SiteFilter(root)
    # yield_on_timeout: the first (empty) batch proves the watch is set up.
    for changes in watch(root, watch_filter=site_filter, stop_event=stop, debounce=800, step=50,
                         rust_timeout=200, yield_on_timeout=True, raise_interrupt=False):
        if ready is not None:
            ready.set()
        if not changes:
            continue
        changed = tuple(sorted({os.path.relpath(path, root) for _, path in changes}))
        if "site.yaml" in changed:
            site_filter.refresh()
        on_change(changed)


# --- the whole thing ----------------------------------------------------------------------


class ListenError(Exception):
    """The address is taken or not ours to use."""


@dataclass(frozen=True)
class ServeOptions:
    """Where `heliograph serve` listens, whether it opens a browser tab, and whether it logs requests."""

    host: str = "127.0.0.1"
    port: int = 8000
    open_browser: bool = False
    log_requests: bool = False


def url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def serve(root: Path, options: ServeOptions, *, on_build: Callable[[BuildOutcome], None],
          on_ready: Callable[[str], None]) -> None:
    """Serve until Ctrl-C (or SIGTERM); the build goes to a temporary directory, removed on exit.

    Not build/: serve's pages link to localhost, and build/ must stay what `heliograph build` made.
    """
    output = Path(tempfile.mkdtemp(prefix="heliograph-serve-"))
    stop = threading.Event()
    server: DevServer | None = None
    watcher: threading.Thread | None = None
    previous_term = signal.signal(signal.SIGTERM, _interrupt) if _in_main_thread() else None
    try:
        server_class = DevServerIPv6 if ":" in options.host else DevServer
        try:
            server = server_class((options.host, options.port),
                                  lambda *args: DevRequestHandler(*args, directory=output))
        except OSError as exc:
            raise ListenError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None
        server.log_requests = options.log_requests
        url = f"http://{url_host(options.host)}:{server.server_address[1]}/"
        server.builder = SiteBuilder(root, output, base_url=url)
        on_build(server.builder.rebuild())
        server.builder.release()

        def rebuild(changed: tuple[str, ...]) -> None:
            on_build(server.builder.rebuild(changed))
            server.builder.release()

        watching = threading.Event()
        watcher = threading.Thread(target=watch_site, args=(root, rebuild, stop, watching),
                                   name="heliograph-watch", daemon=True)
        watcher.start()
        watching.wait(timeout=10)
        on_ready(url)
        if options.open_browser:
            webbrowser.open(url)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C while cleaning up would leave the temporary build behind.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN) if _in_main_thread() else None
        stop.set()
        if server is not None:
            server.server_close()
        if watcher is not None:
            watcher.join(timeout=3)
        shutil.rmtree(output, ignore_errors=True)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the server as cleanly as Ctrl-C


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
