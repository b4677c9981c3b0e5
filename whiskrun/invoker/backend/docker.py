"""The Docker engine backend: the only module that imports the docker SDK.

Pause and resume go through runc directly (about 5-9 ms here against 20-50
ms through dockerd; bench/invoker_paths.py measures both), falling back to
Docker's API when runc is missing or refuses.
"""

import contextlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests
from docker.types import Ulimit

from ..errors import BackendError, ContainerNotFound, ImageNotFound
from .base import MANAGED_LABEL, OWNER_LABEL, ContainerSpec, LogChunk, LogLine

ACTION_PORT = 8080
RUNC_ROOT = "/run/docker/runtime-runc/moby"
CGROUP_ROOTS = (Path("/sys/fs/cgroup/memory/docker"), Path("/sys/fs/cgroup/docker"),
                Path("/sys/fs/cgroup/system.slice"))


@contextlib.contextmanager
def translated(container_id: str | None, doing: str) -> Iterator[None]:
    """Map docker and requests exceptions to ours, here and only here."""
    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise ImageNotFound(f"The image is not built ({exc.explanation}); run `make setup`.",
                            container_id=container_id) from exc
    except docker.errors.NotFound as exc:
        raise ContainerNotFound(f"Container {(container_id or '?')[:12]} is gone ({doing}).",
                                container_id=container_id) from exc
    except docker.errors.APIError as exc:
        raise BackendError(f"Docker failed to {doing} container {(container_id or '')[:12]}: "
                           f"{exc.explanation}", container_id=container_id) from exc
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise BackendError(f"Cannot reach the Docker engine to {doing} a container ({exc}); "
                           "is dockerd running? `make setup` starts it.", container_id=container_id) from exc


@dataclass
class _Known:
    log_path: str
    paused_by_runc: bool = False


class DockerBackend:
    def __init__(self, client: docker.DockerClient | None = None, *, use_runc: bool = True) -> None:
        with translated(None, "connect to"):
            self._client = client or docker.from_env()
            self._client.ping()
        self._api = self._client.api
        self._runc = shutil.which("runc") if use_runc and os.path.isdir(RUNC_ROOT) else None
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()
        self._events: docker.types.daemon.CancellableStream | None = None

    def create(self, spec: ContainerSpec) -> str:
        host_config = self._api.create_host_config(
            mem_limit=f"{spec.memory_mb}m",
            memswap_limit=f"{spec.memory_mb}m",
            pids_limit=spec.pids_limit,
            cap_drop=["NET_RAW", "NET_ADMIN"],
            ulimits=[Ulimit(name="nofile", soft=spec.nofile, hard=spec.nofile)],
            cpu_shares=spec.cpu_shares or None,
            log_config={"type": "json-file", "config": {}},
            tmpfs=dict(spec.tmpfs) or None,
        )
        with translated(None, "create"):
            created = self._api.create_container(
                spec.image, labels={MANAGED_LABEL: "true", **spec.labels},
                environment=dict(spec.environment), host_config=host_config,
            )
        return created["Id"]

    def start(self, container_id: str) -> tuple[str, int]:
        with translated(container_id, "start"):
            self._api.start(container_id)
            info = self._api.inspect_container(container_id)
        with self._lock:
            self._known[container_id] = _Known(log_path=info.get("LogPath", ""))
        return info["NetworkSettings"]["IPAddress"], ACTION_PORT

    def pause(self, container_id: str) -> None:
        if self._runc and self._run_runc("pause", container_id):
            with self._lock:
                if container_id in self._known:
                    self._known[container_id].paused_by_runc = True
            return
        with translated(container_id, "pause"):
            self._api.pause(container_id)

    def unpause(self, container_id: str) -> None:
        with self._lock:
            known = self._known.get(container_id)
            by_runc = known is not None and known.paused_by_runc
        if by_runc and self._runc and self._run_runc("resume", container_id):
            known.paused_by_runc = False  # type: ignore[union-attr]
            return
        with translated(container_id, "unpause"):
            self._api.unpause(container_id)

    def _run_runc(self, verb: str, container_id: str) -> bool:
        done = subprocess.run([self._runc, "--root", RUNC_ROOT, verb, container_id],  # type: ignore[list-item]
                              capture_output=True, check=False)
        return done.returncode == 0

    def remove(self, container_id: str) -> None:
        with self._lock:
            known = self._known.pop(container_id, None)
        if known is not None and known.paused_by_runc and self._runc:
            # Thaw first: dockerd does not know runc froze it.
            self._run_runc("resume", container_id)
        try:
            with translated(container_id, "remove"):
                self._api.remove_container(container_id, force=True, v=True)
        except ContainerNotFound:
            pass

    def logs(self, container_id: str, offset: int) -> LogChunk:
        with self._lock:
            known = self._known.get(container_id)
        if known is None or not known.log_path:
            return LogChunk((), offset)
        try:
            with open(known.log_path, "rb") as handle:
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            return LogChunk((), offset)
        end = data.rfind(b"\n") + 1  # only complete json-file records
        lines: list[LogLine] = []
        pending: dict[str, str] = {}
        for raw in data[:end].splitlines():
            record = json.loads(raw)
            stream, text = record["stream"], record["log"]
            # json-file splits lines over 16 KiB into several records.
            pending[stream] = pending.get(stream, "") + text
            if text.endswith("\n"):
                lines.append(LogLine(record["time"], stream, pending.pop(stream)[:-1]))
        return LogChunk(tuple(lines), offset + end)

    def is_running(self, container_id: str) -> bool:
        try:
            with translated(container_id, "inspect"):
                state = self._api.inspect_container(container_id)["State"]
        except ContainerNotFound:
            return False
        return bool(state.get("Running")) and not state.get("Dead")

    def oom_killed(self, container_id: str) -> bool:
        for root in CGROUP_ROOTS:
            for name in ("memory.oom_control", "memory.events"):
                path = root / container_id / name
                if path.exists():
                    for line in path.read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value) > 0:
                            return True
                    return False
        try:
            with translated(container_id, "inspect"):
                return bool(self._api.inspect_container(container_id)["State"].get("OOMKilled"))
        except ContainerNotFound:
            return False

    def list_managed(self, owner: str | None = None) -> list[str]:
        label = f"{OWNER_LABEL}={owner}" if owner else MANAGED_LABEL
        with translated(None, "list"):
            return [c["Id"] for c in self._api.containers(all=True, filters={"label": label})]

    def watch_exits(self, on_exit: Callable[[str], None]) -> None:
        with translated(None, "watch"):
            self._events = self._client.events(
                decode=True, filters={"type": "container", "event": "die", "label": MANAGED_LABEL})
        stream = self._events

        def pump() -> None:
            try:
                for event in stream:
                    on_exit(event.get("id") or event.get("Actor", {}).get("ID", ""))
            except Exception:  # noqa: BLE001 - the stream ends with the client
                return

        threading.Thread(target=pump, name="docker-exits", daemon=True).start()

    def close(self) -> None:
        if self._events is not None:
            self._events.close()
        self._client.close()
