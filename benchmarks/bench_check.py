"""Time `heliograph check` against N local endpoints that each answer after a fixed latency.

    python benchmarks/bench_check.py --endpoints 1000 --latency 0.5
    python benchmarks/bench_check.py --mixed 100     # 100 checks of each type (all but dns, which needs a DNS server)

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


def serve_mixed(port_queue: multiprocessing.Queue, latency: float) -> None:
    """The http server of `serve`, and beside it a UDP echo, a WebSocket echo, an SSH server, an
    IMAP greeter, a TLS listener (a trustme certificate) and a gRPC server with the health service."""
    import ssl
    from concurrent import futures

    import asyncssh
    import grpc
    import trustme
    import websockets
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    ca = trustme.CA()
    ca_file = Path(tempfile.mkdtemp()) / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, grpc_server)
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    grpc_port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()

    async def imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ready\r\n")
        while line := await reader.readline():
            if line.upper().strip().endswith(b"LOGOUT"):
                writer.write(b"* BYE\r\na2 OK bye\r\n")
                break
        writer.close()

    async def tls_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.close()

    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(latency)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr) -> None:
            self.transport.sendto(b"pong " + data, addr)

    async def ws_echo(connection) -> None:
        async for message in connection:
            await connection.send(message)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        http_server = await asyncio.start_server(http, "127.0.0.1", 0, backlog=4096)
        udp, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        ws = await websockets.serve(ws_echo, "127.0.0.1", 0)
        ssh = await asyncssh.create_server(asyncssh.SSHServer, "127.0.0.1", 0,
                                           server_host_keys=[asyncssh.generate_private_key("ssh-ed25519")])
        imap_server = await asyncio.start_server(imap, "127.0.0.1", 0, backlog=4096)
        tls_server = await asyncio.start_server(tls_accept, "127.0.0.1", 0, ssl=context, backlog=4096)
        port_queue.put({"http": http_server.sockets[0].getsockname()[1], "udp": udp.get_extra_info("sockname")[1],
                        "ws": ws.sockets[0].getsockname()[1], "ssh": ssh.sockets[0].getsockname()[1],
                        "imap": imap_server.sockets[0].getsockname()[1], "tls": tls_server.sockets[0].getsockname()[1],
                        "grpc": grpc_port, "ca_file": str(ca_file)})
        async with http_server:
            await http_server.serve_forever()

    asyncio.run(main())


def write_mixed_site(root: Path, ports: dict, each: int) -> int:
    checks = {
        "http": lambda i: f"{{type: http, url: 'http://127.0.0.1:{ports['http']}/m{i}'}}",
        "tcp": lambda i: f"{{type: tcp, host: 127.0.0.1, port: {ports['http']}}}",
        "udp": lambda i: f"{{type: udp, host: 127.0.0.1, port: {ports['udp']}, send: 'ping {i}', expect: {{contains: pong}}}}",
        "websocket": lambda i: f"{{type: websocket, url: 'ws://127.0.0.1:{ports['ws']}/', send: 'hi {i}', expect: {{contains: hi}}}}",
        "ssh": lambda i: f"{{type: ssh, host: 127.0.0.1, port: {ports['ssh']}}}",
        "ping": lambda i: "{type: ping, host: 127.0.0.1, count: 1}",
        "imap": lambda i: f"{{type: imap, host: 127.0.0.1, port: {ports['imap']}, tls: none}}",
        "tls": lambda i: f"{{type: tls, host: 127.0.0.1, port: {ports['tls']}, ca_file: '{ports['ca_file']}'}}",
        "grpc": lambda i: f"{{type: grpc, host: 127.0.0.1, port: {ports['grpc']}}}",
        "heartbeat": lambda i: "{type: heartbeat, every: 1h}",
    }
    lines = ["site: {title: Bench, base_url: 'https://bench.example/'}", "checks: {concurrency: 200}", "components:"]
    for kind, check in checks.items():
        for i in range(each):
            lines.append(f"  - {{id: {kind}-{i}, name: {kind} {i}, check: {check(i)}}}")
    (root / "site.yaml").write_text("\n".join(lines) + "\n")
    return each * (len(checks) - 1)  # heartbeats that never beat record nothing


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
    parser.add_argument("--mixed", type=int, metavar="N", help="N checks of every type instead (see above)")
    args = parser.parse_args()
    if args.mixed:
        return mixed(args)

    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, args.latency), daemon=True)
    server.start()
    port = ports.get(timeout=10)
    try:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            write_site(root, port, args.endpoints)
            for run in range(1, args.runs + 1):
                before = sum(p.stat().st_size for p in (root / "history" / "raw").rglob("*.jsonl")) if (root / "history").exists() else 0
                started = time.perf_counter()
                result = subprocess.run([sys.executable, "-m", "generator.cli", "--quiet", "check"], cwd=root,
                                        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
                wall = time.perf_counter() - started
                peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                if result.returncode != 0:
                    sys.exit(result.stderr)
                after = sum(p.stat().st_size for p in (root / "history" / "raw").rglob("*.jsonl"))
                records = [line for p in (root / "history" / "raw").rglob("*.jsonl") for line in p.read_text().splitlines()]
                up = sum('"s":"up"' in line for line in records[-args.endpoints:])
                print(f"run {run}: {args.endpoints} endpoints x {args.latency * 1000:.0f} ms: wall {wall:.2f} s, "
                      f"peak RSS {peak_mb:.0f} MB, {up}/{args.endpoints} up, "
                      f"{(after - before) / args.endpoints:.0f} history bytes per result")
    finally:
        server.terminate()


def mixed(args) -> None:
    """A run of every kind of check at once: wall time, peak RSS, and how many were up."""
    ports_queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve_mixed, args=(ports_queue, args.latency), daemon=True)
    server.start()
    ports = ports_queue.get(timeout=30)
    try:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            expected = write_mixed_site(root, ports, args.mixed)
            for run in range(1, args.runs + 1):
                started = time.perf_counter()
                result = subprocess.run([sys.executable, "-m", "generator.cli", "--quiet", "check"], cwd=root,
                                        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
                wall = time.perf_counter() - started
                if result.returncode != 0:
                    sys.exit(result.stderr)
                peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                lines = [line for p in (root / "history" / "raw").rglob("*.jsonl") for line in p.read_text().splitlines()]
                latest = lines[-expected:]
                down = [line for line in latest if '"s":"up"' not in line]
                print(f"mixed run {run}: {expected} checks ({args.mixed} each of http, tcp, udp, websocket, ssh, ping, "
                      "imap, tls, grpc), "
                      f"wall {wall:.2f} s, peak RSS {peak_mb:.0f} MB, {expected - len(down)}/{expected} up"
                      + (f"; not up, e.g. {down[0][:160]}" if down else ""))
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
