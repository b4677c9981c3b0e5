"""Fixtures for tests on the real Docker engine with the real runtime images.

Every container a test starts carries ``whiskrun.test-session=<id>``; the
session fixture removes them all at the end and fails if any is left.
"""

import base64
import io
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping

import docker
import pytest

from actionproxy.protocol import SENTINEL
from whiskrun import kinds
from whiskrun.direct import ActionContainer

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


ContainerFactory = Callable[..., ActionContainer]


@pytest.fixture
def start_container(docker_client: docker.DockerClient, session_id: str) -> Iterator[ContainerFactory]:
    """Start a container of an image; it is removed when the test ends."""
    started: list[ActionContainer] = []

    def start(image: str, environment: Mapping[str, str] | None = None) -> ActionContainer:
        container = ActionContainer(docker_client, image, labels={SESSION_LABEL: session_id},
                                    environment=environment, request_timeout=30)
        started.append(container)
        container.start()
        container.wait_ready()
        return container

    yield start
    for container in started:
        container.remove()


def read_streams(container: ActionContainer, sentinels: int = 1) -> tuple[str, str]:
    """As OpenWhisk's checkStreams: each stream holds exactly ``sentinels``
    sentinel lines; returns both streams with the sentinels removed, trimmed."""
    out, err = container.logs()
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
