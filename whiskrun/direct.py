"""One action container driven directly over /init and /run, without the pool.

Used by `whiskrun run-sample`, the runtime benchmark and the runtime
contract tests: the plainest path from an image to a result. It goes
through the invoker's container backend like everything else, so the
Docker SDK stays behind that one seam.
"""

import json
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from .errors import ContainerError, ImageMissing
from .invoker.backend.base import ContainerBackend, ContainerSpec
from .invoker.backend.docker import DockerBackend
from .invoker.container import wait_listening
from .invoker.errors import BackendError, ContainerStartupError, ImageNotFound
from .proxy_client import ProxyClient, ProxyConnectionError

class ActionContainer:
    """A running container of a runtime image, reached on its bridge address."""

    def __init__(
        self,
        backend: ContainerBackend,
        image: str,
        *,
        labels: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        memory_mb: int = 256,
        request_timeout: float = 60.0,
    ) -> None:
        self._backend = backend
        self.image = image
        self._spec = ContainerSpec(image=image, memory_mb=memory_mb, labels=dict(labels or {}),
                                   environment=dict(environment or {}))
        self._timeout = request_timeout
        self._client: ProxyClient | None = None
        self.id = ""
        self.address = ""
        self._host = ""
        self._port = 0

    def start(self) -> "ActionContainer":
        try:
            self.id = self._backend.create(self._spec)
            self._host, self._port = self._backend.start(self.id)
        except ImageNotFound as exc:
            raise ImageMissing(
                f"The image {self.image} is not built; run `make setup` to build the runtime images."
            ) from exc
        except BackendError as exc:
            raise ContainerError(f"Docker could not start {self.image}: {exc}", container_id=self.id) from exc
        self.address = f"http://{self._host}:{self._port}"
        self._client = ProxyClient(self._host, self._port, self._timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the proxy accepts connections (OpenWhisk retries /init likewise)."""
        try:
            wait_listening(self._host, self._port, timeout, self.id)
        except ContainerStartupError as exc:
            raise ContainerError(str(exc), container_id=self.id) from exc

    def post(self, route: str, body: Any = None, *, data: bytes | None = None) -> tuple[int, Any]:
        """POST JSON (or raw bytes) to /init or /run; returns the status and the decoded body."""
        assert self._client is not None, "start() the container first"
        try:
            if data is None:
                return self._client.post_json(route, body)
            status, payload = self._client.post(route, data)
        except ProxyConnectionError as exc:
            raise ContainerError(f"The container did not answer {route}: {exc}", container_id=self.id) from exc
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode("utf-8", errors="replace")

    def init(self, code: str | None, *, main: str = "main", binary: bool = False,
             env: Mapping[str, str] | None = None) -> tuple[int, Any]:
        return self.post("/init", {"value": {"name": "action", "main": main, "code": code,
                                             "binary": binary, "env": dict(env or {})}})

    def run(self, value: Any = None, **context: str) -> tuple[int, Any]:
        return self.post("/run", {"value": {} if value is None else value, **context})

    def logs(self) -> tuple[str, str]:
        """The container's stdout and stderr so far, separately."""
        lines = self._backend.logs(self.id, 0).lines
        out = "".join(line.text + "\n" for line in lines if line.stream == "stdout")
        err = "".join(line.text + "\n" for line in lines if line.stream == "stderr")
        return out, err

    def remove(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.id:
            self._backend.remove(self.id)
            self.id = ""

    def __enter__(self) -> "ActionContainer":
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()


def remove_managed(backend: ContainerBackend) -> int:
    """Remove every container (and restored clone) whiskrun started; returns how many."""
    ids = backend.list_managed()
    for container_id in ids:
        backend.remove(container_id)
    return len(ids)


def connect() -> DockerBackend:
    try:
        return DockerBackend()
    except BackendError as exc:
        raise ContainerError(
            "Cannot reach the Docker engine; run `make setup` (as root) to install and start it."
        ) from exc
