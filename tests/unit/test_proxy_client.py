"""ProxyClient against small HTTP servers on loopback: whether a failed request
counts as sent decides whether the invoker may run an activation again."""

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from whiskrun.proxy_client import ProxyClient, ProxyConnectionError, ProxyRequestNotSent


class _Answering(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive, as the action proxy does

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.hang_up:  # type: ignore[attr-defined]
            self.close_connection = True
            return  # read the request, answer nothing: as a proxy whose action killed it
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


class _Tracking(http.server.ThreadingHTTPServer):
    """Keeps the accepted connections, so that ``stop`` can close them as a dying process does."""

    def get_request(self) -> tuple[socket.socket, object]:
        connection, address = super().get_request()
        self.connections.append(connection)  # type: ignore[attr-defined]
        return connection, address


class _Server:
    def __init__(self, hang_up: bool = False) -> None:
        self.httpd = _Tracking(("127.0.0.1", 0), _Answering)
        self.httpd.connections = []  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        self.httpd.hang_up = hang_up  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Close every connection and the listening socket: later connects are refused."""
        self.httpd.shutdown()
        self.httpd.server_close()
        # A dying process's end of each connection: a FIN, and then nobody there
        # to answer (the container's network goes with it).
        for connection in self.httpd.connections:  # type: ignore[attr-defined]
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_WR)
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    yield running
    running.stop()


def test_a_kept_alive_connection_is_reused_without_waiting(server: _Server) -> None:
    client = ProxyClient("127.0.0.1", server.port, timeout=30)
    assert client.post("/run", b"{}") == (200, b"{}")
    started = time.monotonic()
    assert client.post("/run", b"{}") == (200, b"{}")
    # Checking the idle connection must not wait for it to become readable.
    assert time.monotonic() - started < 1.0
    client.close()


def test_a_request_to_a_container_that_died_while_idle_is_not_sent(server: _Server) -> None:
    client = ProxyClient("127.0.0.1", server.port, timeout=30)
    assert client.post("/run", b"{}") == (200, b"{}")
    server.stop()  # gone, with the kept-alive connection closed on its side
    time.sleep(0.1)
    with pytest.raises(ProxyRequestNotSent):
        client.post("/run", b"{}")


def test_a_request_read_and_never_answered_counts_as_sent() -> None:
    hanging = _Server(hang_up=True)
    try:
        client = ProxyClient("127.0.0.1", hanging.port, timeout=30)
        with pytest.raises(ProxyConnectionError) as raised:
            client.post("/run", b"{}")
        assert not isinstance(raised.value, ProxyRequestNotSent)
    finally:
        hanging.stop()
