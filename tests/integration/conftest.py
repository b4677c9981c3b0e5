"""Fixtures for tests on the real Docker engine with the real runtime images.

Every container a test starts carries ``whiskrun.test-session=<id>``; the
session fixture removes them all at the end and fails if any is left.
"""

import base64
import io
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import docker
import pytest
import requests

from actionproxy.protocol import SENTINEL
from whiskrun import kinds
from whiskrun.direct import ActionContainer
from whiskrun.invoker.backend.docker import DockerBackend

pytestmark = pytest.mark.docker

SESSION_LABEL = "whiskrun.test-session"
PYTHON_IMAGE = kinds.resolve("python:3.11").image
NODEJS_IMAGE = kinds.resolve("nodejs:18").image
NATIVE_IMAGE = kinds.resolve("blackbox").image


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"The Docker engine is not reachable ({exc}); run `make setup` first.")
    for image in (PYTHON_IMAGE, NODEJS_IMAGE, NATIVE_IMAGE):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"The image {image} is missing; run `make setup` first.")
    yield client
    client.close()


@pytest.fixture(scope="session")
def session_id(docker_client: docker.DockerClient) -> Iterator[str]:
    value = uuid.uuid4().hex[:12]
    yield value
    label = f"{SESSION_LABEL}={value}"
    leftovers = docker_client.containers.list(all=True, filters={"label": label})
    for container in leftovers:
        container.remove(force=True)
    assert not leftovers, f"tests left containers behind: {[c.short_id for c in leftovers]}"


@pytest.fixture(scope="session")
def backend(docker_client: docker.DockerClient) -> Iterator[DockerBackend]:
    """The package's own Docker backend, which ActionContainer drives."""
    engine = DockerBackend(docker_client)
    yield engine


ContainerFactory = Callable[..., ActionContainer]


@pytest.fixture(scope="session")
def removals(session_id: str) -> Iterator[ThreadPoolExecutor]:
    """Removes containers in the background (it takes ~0.15 s each); all
    removals finish before ``session_id`` checks that nothing is left."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="remove") as pool:
        yield pool


@pytest.fixture
def start_container(backend: DockerBackend, session_id: str,
                    removals: ThreadPoolExecutor) -> Iterator[ContainerFactory]:
    """Start a container of an image; it is removed when the test ends."""
    started: list[ActionContainer] = []

    def start(image: str, environment: Mapping[str, str] | None = None) -> ActionContainer:
        container = ActionContainer(backend, image, labels={SESSION_LABEL: session_id},
                                    environment=environment, request_timeout=30)
        started.append(container)
        container.start()
        container.wait_ready()
        return container

    yield start
    for container in started:
        removals.submit(container.remove)


def settled_logs(container: ActionContainer, sentinels: int = 1, timeout: float = 5.0) -> tuple[str, str]:
    """The container's raw stdout and stderr once both hold ``sentinels``
    sentinel lines: Docker's log capture lags the HTTP answer a little
    (OpenWhisk's harness sleeps 100 ms for the same reason)."""
    if sentinels == 0:
        time.sleep(0.1)  # nothing to wait for: give the log a moment as upstream does
    deadline = time.monotonic() + timeout
    out, err = container.logs()
    while min(out.count(SENTINEL), err.count(SENTINEL)) < sentinels and time.monotonic() < deadline:
        time.sleep(0.02)
        out, err = container.logs()
    return out, err


def read_streams(container: ActionContainer, sentinels: int = 1) -> tuple[str, str]:
    """As OpenWhisk's checkStreams: each stream holds exactly ``sentinels``
    sentinel lines; returns both streams with the sentinels removed, trimmed."""
    out, err = settled_logs(container, sentinels)
    assert out.count(SENTINEL) == sentinels, f"stdout sentinels: {out!r}"
    assert err.count(SENTINEL) == sentinels, f"stderr sentinels: {err!r}"
    return out.replace(SENTINEL, "").strip(), err.replace(SENTINEL, "").strip()


def zip_base64(files: Mapping[str, str | bytes], modes: Mapping[str, int] | None = None) -> str:
    """A zip of ``files`` (name -> content), base64-encoded as /init expects."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) & 0xFFFF) << 16
            archive.writestr(info, content)
    return base64.b64encode(buffer.getvalue()).decode()


def init_payload(code: str | None, *, main: str = "main", binary: bool = False,
                 env: Mapping[str, str] | None = None) -> dict[str, object]:
    """An /init body as OpenWhisk's test harness (``ActionContainer.initPayload``)
    sends it: no ``name``, and ``env: null`` when there are no init parameters."""
    return {"value": {"code": code, "main": main, "binary": binary, "env": env}}


def init(container: ActionContainer, code: str | None, **fields: object) -> tuple[int, object]:
    """POST an OpenWhisk-harness /init (see ``init_payload``)."""
    return container.post("/init", init_payload(code, **fields))  # type: ignore[arg-type]


def wait_for_log(container: ActionContainer, text: str, timeout: float = 10.0) -> None:
    """Wait until ``text`` shows up in the container's stdout or stderr."""
    deadline = time.monotonic() + timeout
    while text not in "".join(container.logs()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in the logs"
        time.sleep(0.02)


def post_on_new_connection(container: ActionContainer, route: str, body: object,
                           timeout: float = 30.0) -> tuple[int, object]:
    """POST on a connection of its own, for requests that overlap another one
    (``ActionContainer`` keeps a single connection, which cannot be shared)."""
    response = requests.post(container.address + route, json=body, timeout=timeout)
    return response.status_code, response.json()
