"""Time `heliograph check` against N local endpoints that each answer after a fixed latency.

    python benchmarks/bench_check.py --endpoints 1000 --latency 0.5

Prints wall time, peak memory of the check process, and the history bytes added per result.
The server runs in its own process so it does not share the checker's CPU time or memory counts.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def serve(port_queue: multiprocessing.Queue, latency: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                if not request:
                    break
                await asyncio.sleep(latency)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def write_site(root: Path, port: int, endpoints: int) -> None:
    lines = ["site: {title: Bench, base_url: 'https://bench.example/'}", "checks: {concurrency: %d}" % endpoints,
             "components:"]
    for i in range(endpoints):
        lines.append(f"  - {{id: e{i}, name: Endpoint {i}, check: {{type: http, "
                     f"url: 'http://127.0.0.1:{port}/e{i}', timeout: 10s}}}}")
    (root / "site.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds each endpoint waits before answering")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, args.latency), daemon=True)
    server.start()
    port = ports.get(timeout=10)
    try:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            write_site(root, port, args.endpoints)
            for run in range(1, args.runs + 1):
                before = sum(p.stat().st_size for p in (root / "history").rglob("*.jsonl")) if (root / "history").exists() else 0
                started = time.perf_counter()
                result = subprocess.run([sys.executable, "-m", "generator.cli", "--quiet", "check"], cwd=root,
                                        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
                wall = time.perf_counter() - started
                peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                if result.returncode != 0:
                    sys.exit(result.stderr)
                after = sum(p.stat().st_size for p in (root / "history").rglob("*.jsonl"))
                records = [line for p in (root / "history").rglob("*.jsonl") for line in p.read_text().splitlines()]
                up = sum('"s":"up"' in line for line in records[-args.endpoints:])
                print(f"run {run}: {args.endpoints} endpoints x {args.latency * 1000:.0f} ms: wall {wall:.2f} s, "
                      f"peak RSS {peak_mb:.0f} MB, {up}/{args.endpoints} up, "
                      f"{(after - before) / args.endpoints:.0f} history bytes per result")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
