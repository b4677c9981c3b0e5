"""One action container driven directly over /init and /run, without the invoker.

Used by `whiskrun run-sample`, the runtime benchmark and the runtime
contract tests. The invoker (a later layer) talks to containers through its
own backend; this is the plainest path from an image to a result.
"""

import json
import socket
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import docker
import docker.errors

from .errors import ContainerError, ImageMissing
from .proxy_client import ProxyClient, ProxyConnectionError

#: Every container whiskrun starts carries this label, so that nothing is lost.
MANAGED_LABEL = "whiskrun.managed"
ACTION_PORT = 8080


class ActionContainer:
    """A running container of a runtime image, reached on its bridge address."""

    def __init__(
        self,
        client: docker.DockerClient,
        image: str,
        *,
        labels: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        memory_mb: int = 256,
        request_timeout: float = 60.0,
    ) -> None:
        self._client = client
        self.image = image
        self._labels = {MANAGED_LABEL: "true", **(labels or {})}
        self._environment = dict(environment or {})
        self._memory_mb = memory_mb
        self._timeout = request_timeout
        self._client_http: ProxyClient | None = None
        self._container: Any = None
        self.address = ""

    def start(self) -> "ActionContainer":
        try:
            self._container = self._client.containers.run(
                self.image,
                detach=True,
                labels=self._labels,
                environment=self._environment,
                mem_limit=f"{self._memory_mb}m",
                memswap_limit=f"{self._memory_mb}m",
                pids_limit=1024,
                cap_drop=["NET_RAW", "NET_ADMIN"],
            )
            self._container.reload()
        except docker.errors.ImageNotFound as exc:
            raise ImageMissing(
                f"The image {self.image} is not built; run `make setup` to build the runtime images."
            ) from exc
        except docker.errors.APIError as exc:
            raise ContainerError(f"Docker could not start {self.image}: {exc.explanation}") from exc
        ip = self._container.attrs["NetworkSettings"]["IPAddress"]
        self.address = f"http://{ip}:{ACTION_PORT}"
        self._client_http = ProxyClient(ip, ACTION_PORT, self._timeout)
        return self

    @property
    def id(self) -> str:
        return self._container.id if self._container is not None else ""

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the proxy accepts connections (OpenWhisk retries /init likewise)."""
        host = self.address.split("//")[1].split(":")[0]
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((host, ACTION_PORT), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise ContainerError(
                        f"The container {self.id[:12]} of {self.image} did not listen on port "
                        f"{ACTION_PORT} within {timeout:.0f} s; see `docker logs {self.id[:12]}`.",
                        container_id=self.id,
                    ) from None
                time.sleep(0.002)

    def post(self, route: str, body: Any = None, *, data: bytes | None = None) -> tuple[int, Any]:
        """POST JSON (or raw bytes) to /init or /run; returns the status and the decoded body."""
        assert self._client_http is not None, "start() the container first"
        try:
            if data is not None:
                status, payload = self._client_http.post(route, data)
                try:
                    return status, json.loads(payload)
                except ValueError:
                    return status, payload.decode("utf-8", errors="replace")
            return self._client_http.post_json(route, body)
        except ProxyConnectionError as exc:
            raise ContainerError(f"The container did not answer {route}: {exc}", container_id=self.id) from exc

    def init(self, code: str | None, *, main: str = "main", binary: bool = False,
             env: Mapping[str, str] | None = None) -> tuple[int, Any]:
        return self.post("/init", {"value": {"name": "action", "main": main, "code": code,
                                             "binary": binary, "env": dict(env or {})}})

    def run(self, value: Any = None, **context: str) -> tuple[int, Any]:
        return self.post("/run", {"value": {} if value is None else value, **context})

    def logs(self) -> tuple[str, str]:
        """The container's stdout and stderr, separately."""
        out = self._container.logs(stdout=True, stderr=False).decode("utf-8", errors="replace")
        err = self._container.logs(stdout=False, stderr=True).decode("utf-8", errors="replace")
        return out, err

    def remove(self) -> None:
        if self._client_http is not None:
            self._client_http.close()
        if self._container is not None:
            try:
                self._container.remove(force=True)
            except docker.errors.NotFound:
                pass
            self._container = None

    def __enter__(self) -> "ActionContainer":
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()


def remove_managed(client: docker.DockerClient, label: str = MANAGED_LABEL) -> int:
    """Remove every container carrying ``label``; returns how many went."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": label}):
        try:
            container.remove(force=True)
            removed += 1
        except docker.errors.NotFound:
            pass
    return removed


def connect() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise ContainerError(
            "Cannot reach the Docker engine; run `make setup` (as root) to install and start it."
        ) from exc
    return client
