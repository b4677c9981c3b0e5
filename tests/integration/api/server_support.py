"""A real `whiskrun serve` subprocess for the API tests, and a small client for it.

Each server gets an owner label of its own (``WHISKRUN_OWNER``, under this
session's prefix), no stem cells unless asked, no snapshots, and a data
folder; it is stopped with SIGTERM, as a user stops it, and then no container
with its owner label may be left. The fixtures here are imported by the
conftest of every folder whose tests need a server (tests/integration/api,
tests/e2e).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from tests.integration.invoker_support import owned, remove_all, unique_owner
from whiskrun import kinds
from whiskrun.api.config import GUEST_KEY

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "wsk-samples"
WHISKRUN = Path(sys.executable).with_name("whiskrun")
READY = re.compile(r"whiskrun: OpenWhisk API on http://localhost:(\d+) ")

#: Invoker settings for tests: nothing paused or expired while a module runs (so that a
#: second invoke is warm), containers gone a few minutes after a test forgets them,
#: memory for every sample at once, no CRIU snapshots (slow, and not what these test).
TEST_SETTINGS = {
    "WHISKRUN_PREWARM": "",
    "WHISKRUN_SNAPSHOT_POLICY": "never",
    "WHISKRUN_HIBERNATE": "false",
    "WHISKRUN_PAUSE_GRACE_S": "60",
    "WHISKRUN_IDLE_TIMEOUT_S": "120",
    "WHISKRUN_USER_MEMORY_MB": "4096",
    "WHISKRUN_LOG_WAIT_S": "5",
    "WHISKRUN_TICK_S": "0.1",
}


def guest_auth() -> tuple[str, str]:
    uuid, key = GUEST_KEY.split(":")
    return uuid, key


@dataclass
class ApiClient:
    """Requests to one server: ``request`` sends exactly the path and query given."""

    base_url: str  # http://127.0.0.1:PORT
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.auth = guest_auth()

    @property
    def apihost(self) -> str:
        return self.base_url

    def request(self, method: str, path: str, *, json_body: Any = None, data: bytes | str | None = None,
                headers: dict[str, str] | None = None, auth: bool = True,
                timeout: float = 120) -> requests.Response:
        """``path`` starts with ``/`` and holds the query string as the client would write it."""
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        sender = self.session if auth else requests
        return sender.request(method, self.base_url + path, data=data, headers=headers, timeout=timeout)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, json_body=body, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def wait_for_activation(self, activation_id: str, timeout: float = 60) -> dict[str, Any]:
        """The stored record, once the activation has ended (404 until then)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.get(f"/api/v1/namespaces/_/activations/{activation_id}")
            if answer.status_code == 200:
                return answer.json()
            assert answer.status_code == 404, (answer.status_code, answer.text)
            assert time.monotonic() < deadline, f"activation {activation_id} was not stored in {timeout} s"
            time.sleep(0.1)


class ApiServer:
    """One `whiskrun serve` process on a data folder; ``start`` returns once it serves."""

    def __init__(self, docker_client: docker.DockerClient, data_dir: Path, log_dir: Path,
                 settings: dict[str, str] | None = None, host: str | None = "127.0.0.1") -> None:
        self.docker = docker_client
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.settings = {**TEST_SETTINGS, **(settings or {})}
        self.owner = ""
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.starts = 0
        self.host = host  # None: the server's default (loopback and the Docker bridge)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> ApiClient:
        return ApiClient(self.base_url)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def start(self, timeout: float = 60) -> "ApiServer":
        assert self.process is None, "the server is running already"
        self.starts += 1
        self.owner = unique_owner()
        self.log_path = self.log_dir / f"serve-{self.owner}.log"
        env = {**os.environ, **self.settings, "WHISKRUN_OWNER": self.owner}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(WHISKRUN), "serve", "--no-setup", *(["--host", self.host] if self.host else []),
                 "--port", "0", "--data-dir", str(self.data_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while True:
            found = READY.search(self.log())
            if found:
                self.port = int(found.group(1))
                return self
            if self.process.poll() is not None:
                self.process = None
                pytest.fail(f"whiskrun serve exited ({self.starts}. start) before it served:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop(check=False)
                pytest.fail(f"whiskrun serve did not print its ready line in {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def containers(self) -> list[str]:
        return owned(self.docker, self.owner) if self.owner else []

    def stop(self, timeout: float = 60, *, check: bool = True) -> None:
        """SIGTERM, as a user or a service manager stops it; then nothing of it may remain."""
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            if check:
                pytest.fail(f"whiskrun serve did not stop within {timeout} s of SIGTERM:\n{self.log()}")
        left = self.containers()
        remove_all(self.docker, left)
        if check:
            assert not left, (f"whiskrun serve (owner {self.owner}) left containers after SIGTERM: "
                              f"{[c[:12] for c in left]}\n{self.log()}")
            assert process.returncode == 0, f"exit status {process.returncode} after SIGTERM:\n{self.log()}"

    def restart(self) -> "ApiServer":
        """Stop (checking that it leaves nothing) and start again on the same data folder."""
        self.stop()
        return self.start()


ServerFactory = Callable[..., ApiServer]


@pytest.fixture(scope="session")
def api_docker() -> Iterator[docker.DockerClient]:
    """The Docker engine, with the runtime images the samples need."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"The Docker engine is not reachable ({exc}); run `make setup` first.")
    for kind in kinds.KINDS:
        try:
            client.images.get(kind.image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"The image {kind.image} is missing; run `make setup` first.")
    yield client
    client.close()


@pytest.fixture(scope="module")
def start_server(api_docker: docker.DockerClient,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """``start_server(data_dir=None, **settings)`` -> a running ApiServer (a fresh data folder
    unless given; ``settings`` are WHISKRUN_* variables over TEST_SETTINGS). Every server is
    stopped with SIGTERM when the module ends, and must leave no container."""
    servers: list[ApiServer] = []

    def start(data_dir: Path | None = None, **settings: str) -> ApiServer:
        folder = data_dir or tmp_path_factory.mktemp("api-data")
        server = ApiServer(api_docker, folder, tmp_path_factory.getbasetemp(), settings)
        servers.append(server)
        return server.start()

    yield start
    problems = []
    for server in servers:
        try:
            server.stop()
        except (AssertionError, pytest.fail.Exception) as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def api_server(start_server: ServerFactory) -> ApiServer:
    """One server for the whole module (starting one takes a second or two)."""
    return start_server()


@pytest.fixture(scope="module")
def api(api_server: ApiServer) -> ApiClient:
    return api_server.client()


@pytest.fixture(scope="session")
def sample_zip() -> Path:
    """wsk-samples/build/python-zip.zip, built by the samples' own build.sh (pip fetches humanize)."""
    done = subprocess.run(["bash", str(SAMPLES / "python-zip" / "build.sh")], capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        pytest.fail(f"wsk-samples/python-zip/build.sh failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return SAMPLES / "build" / "python-zip.zip"
