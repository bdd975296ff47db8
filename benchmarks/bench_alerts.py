"""The alert step's share of a check run: `heliograph check` with N components and one alert channel.

    python benchmarks/bench_alerts.py --components 1000 --down 100 --history-hours 48

Writes a site whose components are checked against a local server (the first --down of them
answer 503), fills history/ with --history-hours of 5-minute rounds before now (what a real
site's alert step reads: it looks two days back), and copies it, so the alert step is timed
both ways on the same history, round by round, in alternating order:

- separately: `heliograph check`, then `heliograph alert send --no-push` in a process of its
  own (the alert step's share: its time over both);
- in one process: `heliograph check --alert` (the share: how much longer it took than the
  separate `check` of the same round).

Both send to a local json:// receiver. The third round crosses the failure threshold, so its
alert step sends (the --down messages go as one digest); the rounds after it send nothing.

With --push, each copy is a clone of a local bare remote and the rounds are timed as check.yml
runs them: `check --push --alert` against `check`, `push`, `alert send` (claims pushed too).
With --baseline CHECKOUT, `check --alert` is also timed from that checkout's code, on a third
copy, in the same rounds (order rotating): an A/B of a change to the one-process way.
"""

from __future__ import annotations

import argparse
import http.server
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import serve  # noqa: E402  the same asyncio server, answering 200 after a latency

REPO = Path(__file__).resolve().parent.parent


def write_site(root: Path, port: int, receiver: int, components: int, down: int) -> None:
    lines = ["site: {title: Bench, base_url: 'https://bench.example/'}", f"checks: {{concurrency: {components}}}",
             "alerts:", f"  channels: {{team: 'json://127.0.0.1:{receiver}/'}}", "components:"]
    for i in range(components):
        # A closed port for the components that should fail: refused at once, like a dead service.
        target = "http://127.0.0.1:9/down" if i < down else f"http://127.0.0.1:{port}/e{i}"
        lines.append(f"  - {{id: e{i}, name: Endpoint {i}, check: {{type: http, url: '{target}', retries: 0, timeout: 10s}}}}")
    (root / "site.yaml").write_text("\n".join(lines) + "\n")
    (root / "incidents").mkdir()


def write_history(root: Path, components: int, hours: float, now: datetime) -> int:
    """Up results every 5 minutes for the last `hours`, one shard per UTC day, as `check` writes them."""
    rounds = int(hours * 12)
    by_day: dict[str, list[str]] = {}
    for round_index in range(rounds, 0, -1):
        moment = now - timedelta(minutes=5 * round_index)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        day = moment.strftime("%Y/%m/%d")
        by_day.setdefault(day, []).extend(
            f'{{"v":1,"c":"e{i}","t":"{stamp}","s":"up","r":"ok","loc":"ci","m":"HTTP 200","ms":12.3}}\n'
            for i in range(components))
    for day, lines in by_day.items():
        path = root / "history" / "raw" / f"{day}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines))
    return rounds * components


class Receiver(http.server.BaseHTTPRequestHandler):
    posts = 0

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.posts += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def user_environment() -> dict[str, str]:
    """This process's environment as a user's machine has it: Python writes and reuses bytecode
    (a machine that sets PYTHONDONTWRITEBYTECODE compiles every changed module on every run,
    which no user's pays after the first)."""
    import os

    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


GIT_IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
                "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def with_remote(site: Path) -> None:
    """Make `site` a clone of a bare remote beside it, as actions/checkout leaves a runner's copy."""
    def git(*args: str, cwd: Path = site) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**user_environment(), **GIT_IDENTITY})

    remote = site.parent / f"{site.name}.git"
    git("init", "--quiet", "--bare", "-b", "main", str(remote), cwd=site.parent)
    git("init", "--quiet", "-b", "main")
    (site / "history" / ".gitattributes").write_text("*.jsonl merge=union\n")
    git("add", "-A")
    git("commit", "--quiet", "-m", "site")
    git("remote", "add", "origin", str(remote))
    git("push", "--quiet", "-u", "origin", "main")


def timed(*args: str, cwd: Path, profile: Path | None = None, code: Path = REPO) -> float:
    started = time.perf_counter()
    runner = ["-m", "cProfile", "-o", str(profile)] if profile else []
    done = subprocess.run([sys.executable, *runner, "-m", "generator.cli", "-q", *args], cwd=cwd, capture_output=True,
                          text=True, env={**user_environment(), **GIT_IDENTITY, "PYTHONPATH": str(code)})
    if done.returncode:
        sys.exit(f"heliograph {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--down", type=int, default=100, help="how many components fail (and alert)")
    parser.add_argument("--history-hours", type=float, default=48, help="history before the run, in hours")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each up endpoint takes to answer")
    parser.add_argument("--rounds", type=int, default=5, help="check rounds (the third one sends)")
    parser.add_argument("--push", action="store_true",
                        help="time check.yml's way: `check --push --alert` against `check`, `push`, `alert send`, "
                             "each copy pushing to a local bare remote")
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                        help="also time `check --alert` with the code of this other checkout (A/B)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="also write each round's cProfile statistics of `alert send` to DIR/alert-N.prof and "
                             "of `check --alert` to DIR/check-alert-N.prof (the profiler slows them: time without it)")
    options = parser.parse_args()

    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, options.latency), daemon=True)
    server.start()
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory) / "separately"
            root.mkdir()
            write_site(root, ports.get(timeout=30), receiver.server_address[1], options.components, options.down)
            results = write_history(root, options.components, options.history_hours, datetime.now(timezone.utc))
            print(f"{options.components} components ({options.down} failing), {results:,} results of history "
                  f"({options.history_hours:g} h)")
            copies = {"other": Path(directory) / "in-one-process"}
            if options.baseline:
                copies["baseline"] = Path(directory) / "baseline"
            for copy in copies.values():
                shutil.copytree(root, copy)
            for site in (root, *copies.values()):
                if options.push:
                    with_remote(site)
                timed("alert", "send", "--no-push", cwd=site)  # alerts switched on: the ledger starts
            push_args = ("--repeat", "1", "--push") if options.push else ()  # --push alone would check until stopped
            for round_number in range(1, options.rounds + 1):
                def profile(name: str) -> Path | None:
                    return options.profile / f"{name}-{round_number}.prof" if options.profile else None

                def separately() -> tuple[float, float]:
                    check_s = timed("check", cwd=root)
                    if options.push:
                        check_s += timed("push", "-m", "Check results [skip ci]", cwd=root)
                    return check_s, timed("alert", "send", *(() if options.push else ("--no-push",)), cwd=root,
                                          profile=profile("alert"))

                def together(site: Path = copies["other"], code: Path = REPO) -> float:
                    return timed("check", "--alert", *push_args, cwd=site, profile=profile("check-alert"), code=code)

                timings: dict[str, object] = {}
                ways = {"separately": separately, "together": together}
                if options.baseline:
                    ways["baseline"] = lambda: together(copies["baseline"], options.baseline)
                order = list(ways)
                order = order[round_number % len(order):] + order[:round_number % len(order)]  # rotating
                for way in order:
                    timings[way] = ways[way]()
                (check_s, alert_s), together_s = timings["separately"], timings["together"]
                posts = Receiver.posts
                print(f"round {round_number}: check {check_s:.2f} s + alert send {alert_s:.2f} s "
                      f"({alert_s / (check_s + alert_s):.0%} of the run); check --alert {together_s:.2f} s "
                      f"({(together_s - check_s) / together_s:+.0%} over check)"
                      + (f"; baseline check --alert {timings['baseline']:.2f} s "
                         f"({(timings['baseline'] - check_s) / timings['baseline']:+.0%})" if options.baseline else "")
                      + f"; {posts} alerts received so far", flush=True)
    finally:
        receiver.shutdown()
        server.terminate()


if __name__ == "__main__":
    main()
