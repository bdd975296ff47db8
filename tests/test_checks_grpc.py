"""grpc checks (issue #21 part 4): grpc.health.v1 against a real grpcio server with the standard
health servicer, plaintext and TLS (a trustme certificate)."""

from __future__ import annotations

from concurrent import futures

import pytest
from checkservers import Certificates, certificates, run_one  # noqa: F401  (fixture)

grpc = pytest.importorskip("grpc")
health = pytest.importorskip("grpc_health.v1.health")
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402


def _server(credentials=None):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    servicer.set("payments", health_pb2.HealthCheckResponse.SERVING)
    servicer.set("search", health_pb2.HealthCheckResponse.NOT_SERVING)
    port = server.add_secure_port("127.0.0.1:0", credentials) if credentials else server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


@pytest.fixture(scope="module")
def plaintext():
    server, port = _server()
    yield port
    server.stop(None)


def test_serving_not_serving_and_unknown_services(plaintext):
    whole = run_one({"type": "grpc", "host": "127.0.0.1", "port": plaintext})
    assert (whole.status, whole.reason) == ("up", "ok") and whole.details["serving_status"] == "SERVING"
    payments = run_one({"type": "grpc", "host": "127.0.0.1", "port": plaintext, "service": "payments"})
    assert payments.status == "up" and "'payments' is SERVING" in payments.message
    search = run_one({"type": "grpc", "host": "127.0.0.1", "port": plaintext, "service": "search", "retries": 0})
    assert (search.status, search.reason) == ("down", "grpc_not_serving")
    unknown = run_one({"type": "grpc", "host": "127.0.0.1", "port": plaintext, "service": "ledger", "retries": 0})
    assert (unknown.status, unknown.reason) == ("down", "grpc_service_unknown") and "NOT_FOUND" in unknown.message


def test_a_server_without_the_health_service_and_a_closed_port():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        result = run_one({"type": "grpc", "host": "127.0.0.1", "port": port, "retries": 0})
        assert (result.status, result.reason) == ("down", "grpc_unimplemented")
    finally:
        server.stop(None)
    closed = run_one({"type": "grpc", "host": "127.0.0.1", "port": port, "retries": 0, "timeout": "2s"})
    assert (closed.status, closed.reason) == ("down", "connect_refused")


def test_grpc_over_tls(certificates: Certificates):
    leaf = certificates.ca.issue_cert("127.0.0.1", "localhost")
    credentials = grpc.ssl_server_credentials([(leaf.private_key_pem.bytes(), leaf.cert_chain_pems[0].bytes())])
    server, port = _server(credentials)
    try:
        good = run_one({"type": "grpc", "host": "127.0.0.1", "port": port, "tls": True, "ca_file": certificates.ca_file})
        assert (good.status, good.reason) == ("up", "ok"), good.message
        assert "expires" in good.details or any("expire" in key for key in good.details)
        untrusted = run_one({"type": "grpc", "host": "127.0.0.1", "port": port, "tls": True, "retries": 0})
        assert untrusted.status == "down" and untrusted.reason.startswith("tls_")
    finally:
        server.stop(None)
