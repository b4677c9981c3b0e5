"""The REST API through Flask's test client, on a real store, catalog and activator.

Only the invoker is replaced: ``FakeRunner`` follows the activator's ``ActionRunner``
protocol and plays the part of an action container. Each action's ``code`` names a
program in ``PROGRAMS`` (what the container would answer to /run); the answer is
classified by the invoker's own ``results.run_answer``, and the record is built with
the fields and annotations the real invoker writes. No Docker, no network.

``Api.refused`` checks an error answer the way `wsk` reads it (status, OpenWhisk's
exact message, a transaction id in ``code``) and then that the server still answers
a good request.
"""

import base64
import datetime
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from whiskrun.api.app import create_app
from whiskrun.api.config import GUEST_KEY, ApiConfig, LimitRanges
from whiskrun.api.server import build_services
from whiskrun.api.store import Store
from whiskrun.invoker import results
from whiskrun.invoker.errors import PoolExhausted
from whiskrun.invoker.invoker import Invocation
from whiskrun.invoker.records import ActionKey, ActionSpec, Activation, ActivationResponse

#: A second namespace, for isolation tests.
ALICE_KEY = "0a1b2c3d-0000-4000-8000-00000000a11c:alicesecretalicesecretalicesecretalicesecretalicesecretalicesecr"
API = "/api/v1"
ACTIVATION_ID = re.compile(r"[0-9a-f]{32}")
DEFAULT_LIMITS = {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}

# Action code. The fake container recognises each source and answers as the comment says.
ECHO = "def main(args):\n    return args\n"
INCR = "def main(args):\n    return {'n': args.get('n', 0) + 1}\n"
DOUBLE = "def main(args):\n    return {'n': args.get('n', 0) * 2}\n"
FAIL = "def main(args):\n    return {'error': args.get('why', 'it failed')}\n"
ARRAY = "def main(args):\n    return [1, 2, 3]\n"
NOT_A_DICT = "def main(args):\n    return 'not a dictionary'\n"  # proxy answers 502: developer error
SLOW = "import time\ndef main(args):\n    time.sleep(30)  # the fake waits for runner.gate\n    return args\n"
NO_CONTAINER = "# the platform cannot start a container for this one\n"  # whisk error from the invoker
POOL_FULL = "# the invoker refuses: no memory left\n"  # PoolExhausted
INVOKER_CRASH = "# the invoker fails with an unexpected exception\n"
#: Prefix of a program that returns a fixed result: RETURNS + json.dumps(result).
RETURNS = "# returns: "


def returning(result: Any) -> str:
    """Code of an action that returns ``result`` whatever its arguments."""
    return RETURNS + json.dumps(result)


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}


@dataclass(frozen=True)
class Program:
    """What the container answers: HTTP status, body, stdout lines, and how long it ran."""

    status: int
    body: Any
    logs: tuple[str, ...] = ()
    duration_ms: int = 4


def _program(code: str | None, params: Any, runner: "FakeRunner") -> Program:
    if code is not None and code.startswith(RETURNS):
        return Program(200, json.loads(code[len(RETURNS):]), ("returning a fixed result",))
    if code == ECHO:
        return Program(200, params, ("echo",), duration_ms=4)
    if code == INCR:
        return Program(200, {"n": params.get("n", 0) + 1}, (f"n was {params.get('n', 0)}",), duration_ms=5)
    if code == DOUBLE:
        return Program(200, {"n": params.get("n", 0) * 2}, (f"n was {params.get('n', 0)}",), duration_ms=7)
    if code == FAIL:
        return Program(200, {"error": params.get("why", "it failed")}, ("failing on purpose",))
    if code == ARRAY:
        return Program(200, [1, 2, 3])
    if code == NOT_A_DICT:
        return Program(502, {"error": "The action did not return a dictionary or array."}, ("oops",))
    if code == SLOW:
        if not runner.gate.wait(10):
            raise AssertionError("a slow action waited 10 s for its gate; the test forgot to open it")
        return Program(200, params, ("slow but done",), duration_ms=30)
    raise AssertionError(f"the fake container has no program for code {code!r}")


class FakeRunner:
    """``ActionRunner`` for the API tests: records each call, answers as the code says."""

    def __init__(self) -> None:
        self.gate = threading.Event()  # SLOW actions finish when it is set
        self.calls: list[tuple[ActionSpec, Invocation]] = []
        self._lock = threading.Lock()
        self._initialized: set[ActionKey] = set()  # actions with a warm container
        self._last_start = 0

    def invoke(self, action: ActionSpec, invocation: Invocation) -> Activation:
        with self._lock:
            self.calls.append((action, invocation))
            # As the pool: a container is reused only for the same ActionKey (namespace,
            # name, version, image, memory and code revision).
            cold = action.key not in self._initialized
            self._initialized.add(action.key)
            # Distinct start times keep "newest first" orderings deterministic.
            start = max(int(time.time() * 1000), self._last_start + 1)
            self._last_start = start
        if action.code == POOL_FULL:
            raise PoolExhausted("no container memory left for a 256 MB action")
        if action.code == INVOKER_CRASH:
            raise RuntimeError("the invoker lost its connection to the engine")
        if action.code == NO_CONTAINER:
            response, logs, duration = results.whisk_error(results.PROVISION_FAILED), (), 0
        else:
            program = _program(action.code, dict(invocation.params) if not isinstance(invocation.params, list)
                               else invocation.params, self)
            response = results.run_answer(program.status, json.dumps(program.body).encode())
            logs, duration = program.logs, program.duration_ms
        return _activation(action, invocation, start, duration, response, logs, cold)

    def invoked(self, name: str) -> list[Invocation]:
        with self._lock:
            return [invocation for spec, invocation in self.calls if spec.name == name]


def _activation(action: ActionSpec, invocation: Invocation, start: int, duration: int,
                response: ActivationResponse, logs: tuple[str, ...], cold: bool) -> Activation:
    """The record as the invoker writes it (invoker.Invoker._record)."""
    stamp = datetime.datetime.fromtimestamp(start / 1000, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    annotations: list[tuple[str, Any]] = [
        ("path", action.path), ("kind", action.kind), ("limits", action.limits.to_json()), ("timeout", False)]
    if cold:
        annotations.append(("initTime", 2))
    annotations += [("waitTime", 3), ("startPath", "cold" if cold else "warm")]
    return Activation(activation_id=invocation.activation_id, namespace=invocation.subject, name=action.name,
                      version=action.version, subject=invocation.subject, start=start, end=start + duration,
                      response=response, logs=tuple(f"{stamp:<30} stdout: {line}" for line in logs),
                      annotations=tuple(annotations))


class Api:
    """One API server (real store, catalog, activator) behind Flask's test client."""

    def __init__(self, data_dir: Path, limits: LimitRanges) -> None:
        self.runner = FakeRunner()
        self.config = ApiConfig(data_dir=data_dir, namespaces={"guest": GUEST_KEY, "alice": ALICE_KEY},
                                limits=limits, invoke_workers=16)
        self.store = Store(self.config.database)
        self.services = build_services(self.config, self.runner, self.store)
        self.activator = self.services.activator
        self.app = create_app(self.services)
        self.client = self.app.test_client()
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.runner.gate.set()
        self.activator.shutdown(wait=True)
        self.store.close()

    # HTTP.

    def request(self, method: str, path: str, *, key: str | None = GUEST_KEY, **kwargs: Any) -> TestResponse:
        """``path`` is under /api/v1 unless it starts with /api or is /; ``key=None`` sends no credentials."""
        url = path if path == "/" or path.startswith("/api") else API + path
        headers = {**(basic(key) if key is not None else {}), **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", path, **kwargs)

    # Shortcuts that assert success.

    def create(self, name: str, code: str = ECHO, *, kind: str = "python:3.11", key: str = GUEST_KEY,
               **fields: Any) -> dict[str, Any]:
        """PUT an action (``name`` may be ``pkg/name``) and return its document."""
        response = self.put(f"/namespaces/_/actions/{name}", key=key,
                            json={"exec": {"kind": kind, "code": code}, **fields})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def sequence(self, name: str, *components: str, **fields: Any) -> dict[str, Any]:
        response = self.put(f"/namespaces/_/actions/{name}",
                            json={"exec": {"kind": "sequence", "components": list(components)}, **fields})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def package(self, name: str, **fields: Any) -> dict[str, Any]:
        response = self.put(f"/namespaces/_/packages/{name}", json=fields)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def invoke(self, name: str, params: Any = None, *, key: str = GUEST_KEY, **query: str) -> TestResponse:
        """A blocking invoke (``blocking=true`` unless ``query`` says otherwise)."""
        return self.post(f"/namespaces/_/actions/{name}", key=key, json=params,
                         query_string={"blocking": "true", **query})

    def activation(self, activation_id: str, *, key: str = GUEST_KEY) -> dict[str, Any]:
        response = self.get(f"/namespaces/_/activations/{activation_id}", key=key)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def wait_for_activation(self, activation_id: str, timeout_s: float = 5.0) -> dict[str, Any]:
        """The stored record, once the activation has ended (GET answers 404 until then)."""
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.get(f"/namespaces/_/activations/{activation_id}")
            if response.status_code == 200:
                return response.get_json()
            assert response.status_code == 404, response.get_data(as_text=True)
            assert time.monotonic() < deadline, f"activation {activation_id} was not stored in {timeout_s} s"
            time.sleep(0.005)

    # Checks.

    def refused(self, response: TestResponse, status: int, message: str) -> None:
        """An OpenWhisk error answer, and a server that still serves the next request."""
        body = response.get_json(silent=True)
        assert (response.status_code, body and body.get("error")) == (status, message), response.get_data(as_text=True)
        assert set(body) == {"error", "code"}
        assert ACTIVATION_ID.fullmatch(body["code"]), body["code"]  # a transaction id
        assert response.mimetype == "application/json"
        self.still_serving()

    def still_serving(self) -> None:
        response = self.get("/namespaces")
        assert (response.status_code, response.get_json()) == (200, ["guest"])

    def names(self, path: str = "/namespaces/_/actions", *, key: str = GUEST_KEY, **query: str) -> list[str]:
        response = self.get(path, key=key, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [entry["name"] for entry in response.get_json()]


ApiFactory = Callable[..., Api]


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[ApiFactory]:
    """``make_api(**limits)``: an Api with LimitRanges overrides; ``data_dir=`` reuses a store."""
    built: list[Api] = []
    counter = itertools.count()

    def make(*, data_dir: Path | None = None, **limits: Any) -> Api:
        api = Api(data_dir or tmp_path / f"data{next(counter)}", LimitRanges(**limits))
        built.append(api)
        return api

    yield make
    for api in reversed(built):
        api.close()


@pytest.fixture
def api(make_api: ApiFactory) -> Api:
    return make_api()
