"""A lean HTTP/1.1 client for one action container's /init and /run.

`requests` costs about 0.8 ms per call here, more than the whole proxy; the
standard library's http.client on one kept-alive connection costs about
0.1 ms. Measured with bench/runtime_images.py; see docs/performance.md.
"""

import http.client
import json
import select
import socket
import threading
from typing import Any


class ProxyConnectionError(Exception):
    """The container did not answer: refused, reset, or timed out."""


class ProxyTimeout(ProxyConnectionError):
    """The container took longer than the timeout to answer."""


class ProxyRequestNotSent(ProxyConnectionError):
    """The request never reached the container whole (connecting or sending
    failed): whatever it asked for cannot have started there."""


class ProxyClient:
    """POSTs JSON to one container, reusing kept-alive connections.

    Thread-safe: each request takes an idle connection (or opens one) and
    gives it back after, so overlapping requests (a Node.js container with
    ``limits.concurrency > 1``) never share a connection."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._host = host
        self._port = port
        self._timeout = timeout
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, route: str, body: bytes, timeout: float | None = None) -> tuple[int, bytes]:
        # Whether any attempt got the whole request out: then the container may have
        # acted on it, and a later failure is never "not sent".
        ever_sent = False
        for attempt in (1, 2):
            connection = self._connect(timeout)
            reused = connection.sock is not None
            try:
                connection.request("POST", route, body, {"Content-Type": "application/json",
                                                         "Accept": "application/json"})
                ever_sent = True
                response = connection.getresponse()
                payload = response.read()
                if response.will_close:
                    connection.close()
                else:
                    with self._lock:
                        self._idle.append(connection)
                return response.status, payload
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
                connection.close()
                # A kept-alive connection the server closed while idle: retry once
                # on a new one. A failure on a fresh connection is real.
                if attempt == 2 or not reused or not isinstance(
                        exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)):
                    failure = ProxyConnectionError if ever_sent else ProxyRequestNotSent
                    raise failure(str(exc) or type(exc).__name__) from exc
            except TimeoutError as exc:
                connection.close()
                raise ProxyTimeout(f"no answer to {route} within {self._connection_timeout(timeout)} s") from exc
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                failure = ProxyConnectionError if ever_sent else ProxyRequestNotSent
                raise failure(str(exc) or type(exc).__name__) from exc
        raise AssertionError("unreachable")

    def post_json(self, route: str, body: Any, timeout: float | None = None) -> tuple[int, Any]:
        status, payload = self.post(route, json.dumps(body, ensure_ascii=False).encode("utf-8"), timeout)
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode("utf-8", errors="replace")

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None and connection.sock is not None and _dropped(connection.sock):
            # The container closed it while it was idle (it died, say): a request
            # written into it would look sent, and its failure the action's doing.
            connection.close()
            connection = None
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        connection.timeout = self._connection_timeout(timeout)
        if connection.sock is not None:
            connection.sock.settimeout(connection.timeout)
        return connection

    def _connection_timeout(self, timeout: float | None) -> float:
        return self._timeout if timeout is None else timeout

    def close(self) -> None:
        """Close the idle connections (requests under way keep theirs)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _dropped(sock: socket.socket) -> bool:
    """Whether the peer closed or reset a kept-alive connection: an idle HTTP
    connection has nothing to read unless it is at its end. (Polled first: a
    socket with a timeout waits that long in recv, MSG_DONTWAIT or not.)"""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
