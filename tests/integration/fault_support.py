"""Pieces of the container fault suite: a counter on the host that actions
call back once per execution, so that a test can tell how many times an
activation's code really ran, whatever the container's fate afterwards.

The action reaches the counter at ``__OW_API_HOST`` (the invoker's
``api_host`` set to the counter's address): that is the one place on the host
an action container is meant to reach (docs/security.md), so the count does
not depend on what else the network lets through.
"""

import collections
import http.server
import threading
import urllib.parse
import uuid
from collections.abc import Iterator

import pytest

from whiskrun.invoker.service import running_invoker

from .invoker_support import invoker_config, unique_owner, wait_until


class HitCounter:
    """An HTTP server on the Docker bridge's address: ``GET /hit/<token>`` counts one execution."""

    def __init__(self, host: str) -> None:
        self._hits: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                token = self.path.removeprefix("/hit/")
                with counter._lock:
                    counter._hits[token] += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
                pass

        self._server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="hit-counter", daemon=True)
        self._thread.start()

    def count(self, token: str) -> int:
        with self._lock:
            return self._hits[token]

    def wait_for(self, token: str, timeout: float = 60.0) -> None:
        """Until the action's code has started (it calls back first thing)."""
        wait_until(lambda: self.count(token) > 0, timeout, f"the action to call back with {token}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


@pytest.fixture(scope="session")
def actions_host(no_leftovers_in_session: None) -> str:
    """The host's address as action containers see it: the host part of the
    __OW_API_HOST an invoker gives them when left to choose (it knows which
    network they are on)."""
    with running_invoker(invoker_config(unique_owner())) as invoker:
        chosen = urllib.parse.urlsplit(invoker.pool._config.api_host)  # noqa: SLF001 - what it resolved
    assert chosen.hostname, f"the invoker gives actions no API host: {chosen.geturl()!r}"
    return chosen.hostname


@pytest.fixture
def hit_counter(actions_host: str) -> Iterator[HitCounter]:
    counter = HitCounter(actions_host)
    try:
        yield counter
    finally:
        counter.close()


def new_token() -> str:
    return uuid.uuid4().hex


#: One action for every fault: it calls the counter back first (so every
#: execution is counted, even one that never answers), then does what
#: ``fault`` says.
FAULTY_PYTHON = """\
import os, socket, sys, time, urllib.request

def main(args):
    token = args.get("token")
    if token:
        urllib.request.urlopen(os.environ["__OW_API_HOST"] + "/hit/" + token, timeout=10).read()
    fault = args.get("fault")
    if fault == "sleep":
        time.sleep(args["seconds"])
    elif fault == "crash":
        os._exit(3)
    elif fault == "oom":
        hog = []
        while True:
            hog.append(b"x" * (8 * 1024 * 1024))
    elif fault == "forkbomb":
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
    elif fault == "flood":
        line = "y" * 1023
        for _ in range(args["lines"]):
            print(line)
        sys.stdout.flush()
    return {"host": socket.gethostname(), "fault": fault}
"""
