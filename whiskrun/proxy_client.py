"""A lean HTTP/1.1 client for one action container's /init and /run.

`requests` costs about 0.8 ms per call here, more than the whole proxy; the
standard library's http.client on one kept-alive connection costs about
0.1 ms. Measured with bench/runtime_images.py; see docs/performance.md.
"""

import http.client
import json
from typing import Any


class ProxyConnectionError(Exception):
    """The container did not answer: refused, reset, or timed out."""


class ProxyTimeout(ProxyConnectionError):
    """The container took longer than the timeout to answer."""


class ProxyClient:
    """POSTs JSON to one container, reusing one connection while it stays open."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._host = host
        self._port = port
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def post(self, route: str, body: bytes, timeout: float | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            connection = self._connect(timeout)
            reused = connection.sock is not None
            try:
                connection.request("POST", route, body, {"Content-Type": "application/json",
                                                         "Accept": "application/json"})
                response = connection.getresponse()
                payload = response.read()
                if response.will_close:
                    self.close()
                return response.status, payload
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
                self.close()
                # A kept-alive connection the server closed while idle: retry once
                # on a new one. A failure on a fresh connection is real.
                if attempt == 2 or not reused or not isinstance(
                        exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)):
                    raise ProxyConnectionError(str(exc) or type(exc).__name__) from exc
            except TimeoutError as exc:
                self.close()
                raise ProxyTimeout(f"no answer to {route} within {self._connection_timeout(timeout)} s") from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise ProxyConnectionError(str(exc) or type(exc).__name__) from exc
        raise AssertionError("unreachable")

    def post_json(self, route: str, body: Any, timeout: float | None = None) -> tuple[int, Any]:
        status, payload = self.post(route, json.dumps(body, ensure_ascii=False).encode("utf-8"), timeout)
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode("utf-8", errors="replace")

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        if timeout is not None:
            self._connection.timeout = timeout
            if self._connection.sock is not None:
                self._connection.sock.settimeout(timeout)
        return self._connection

    def _connection_timeout(self, timeout: float | None) -> float:
        return self._timeout if timeout is None else timeout

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
