"""The Docker engine backend: the only module that imports the docker SDK.

Pause and resume go through runc directly (about 5-9 ms here against 20-50
ms through dockerd; `whiskrun bench` measures both), falling back to
Docker's API when runc is missing or refuses.
"""

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests
from docker.types import Ulimit

from actionproxy.protocol import PORT

from ..errors import BackendError, ContainerNotFound, ImageNotFound
from . import checkpoint as criu
from . import criu_direct
from .base import MANAGED_LABEL, OWNER_LABEL, ContainerSpec, LogChunk, LogLine

#: Image of the holder containers that lend restored clones a network.
HOLDER_IMAGE = "whiskrun/base:bookworm"
HOLDER_MEMORY = "16m"
HOLDER_PIDS = 8
CLONE_PREFIX = "clone-"

ACTION_PORT = PORT
RUNC_ROOT = "/run/docker/runtime-runc/moby"
CGROUP_ROOTS = (Path("/sys/fs/cgroup/memory/docker"), Path("/sys/fs/cgroup/docker"),
                Path("/sys/fs/cgroup/system.slice"))
CLONE_CGROUP_ROOTS = (Path("/sys/fs/cgroup/memory/whiskrun"), Path("/sys/fs/cgroup/whiskrun"))


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
        self._criu = shutil.which("criu")
        self._engine = "runc"  # set by checkpoint_support
        self._known: dict[str, _Known] = {}
        self._clones: dict[str, criu.Clone] = {}
        self._lock = threading.Lock()
        self._events: docker.types.daemon.CancellableStream | None = None
        self._closed = threading.Event()

    def create(self, spec: ContainerSpec) -> str:
        host_config = self._api.create_host_config(
            mem_limit=f"{spec.memory_mb}m",
            memswap_limit=f"{spec.memory_mb}m",
            pids_limit=spec.pids_limit,
            cap_drop=["NET_RAW", "NET_ADMIN"],
            # No setuid or file-capability gain for anything the action runs (kept by
            # CRIU across a snapshot and its restores).
            security_opt=["no-new-privileges"],
            ulimits=[Ulimit(name="nofile", soft=spec.nofile, hard=spec.nofile)],
            cpu_shares=spec.cpu_shares or None,
            log_config={"type": "json-file", "config": {}},
            tmpfs=dict(spec.tmpfs) or None,
            network_mode=f"container:{spec.network_of}" if spec.network_of else None,
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
        address = info["NetworkSettings"]["IPAddress"]
        mode = info["HostConfig"].get("NetworkMode", "")
        if mode.startswith("container:"):
            with translated(container_id, "inspect the network holder of"):
                address = self._api.inspect_container(mode.split(":", 1)[1])["NetworkSettings"]["IPAddress"]
        return address, ACTION_PORT

    def pause(self, container_id: str) -> None:
        clone = self._clones.get(container_id)
        if clone is not None:
            paused = criu_direct.pause(clone) if isinstance(clone, criu_direct.DirectClone) else criu.pause(clone)
            if not paused:
                raise BackendError(f"Could not freeze clone {container_id}.", container_id=container_id)
            clone.paused = True
            return
        if self._runc and self._run_runc("pause", container_id):
            with self._lock:
                if container_id in self._known:
                    self._known[container_id].paused_by_runc = True
            return
        with translated(container_id, "pause"):
            self._api.pause(container_id)

    def unpause(self, container_id: str) -> None:
        clone = self._clones.get(container_id)
        if clone is not None:
            thawed = criu_direct.resume(clone) if isinstance(clone, criu_direct.DirectClone) else criu.resume(clone)
            if not thawed:
                raise BackendError(f"Could not thaw clone {container_id}.", container_id=container_id)
            clone.paused = False
            return
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
            clone = self._clones.pop(container_id, None)
        if isinstance(clone, criu_direct.DirectClone):
            criu_direct.discard_clone(clone)
            self._safe_remove_docker(clone.holder.container_id)
            return
        if clone is not None or container_id.startswith(CLONE_PREFIX):
            # A runc clone, or a leftover of an earlier run of either engine.
            criu.discard_clone(clone or criu.Clone(container_id, criu.Holder("", 0, ""),
                                                   self._clones_dir / container_id, Path("/dev/null")))
            criu_direct.discard_leftover(container_id, self._clones_dir)
            if clone is not None:
                self._safe_remove_docker(clone.holder.container_id)
            return
        self._safe_remove_docker(container_id)

    def _safe_remove_docker(self, container_id: str) -> None:
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
            clone = self._clones.get(container_id)
        log_path = str(clone.log_path) if clone is not None else (known.log_path if known else "")
        if not log_path:
            return LogChunk((), offset)
        try:
            with open(log_path, "rb") as handle:
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
        clone = self._clones.get(container_id)
        if isinstance(clone, criu_direct.DirectClone):
            return criu_direct.is_running(clone)
        if clone is not None:
            return criu.is_running(clone)
        try:
            with translated(container_id, "inspect"):
                state = self._api.inspect_container(container_id)["State"]
        except ContainerNotFound:
            return False
        return bool(state.get("Running")) and not state.get("Dead")

    def oom_killed(self, container_id: str) -> bool:
        roots = CLONE_CGROUP_ROOTS if container_id in self._clones else CGROUP_ROOTS
        for root in roots:
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
        """Our Docker containers (holders included) and our restored clones."""
        label = f"{OWNER_LABEL}={owner}" if owner else MANAGED_LABEL
        with translated(None, "list"):
            ids = [c["Id"] for c in self._api.containers(all=True, filters={"label": label})]
        prefix = f"{CLONE_PREFIX}{owner}-" if owner else CLONE_PREFIX
        clones = set(criu.list_clones()) | set(criu_direct.list_clones(self._clones_dir))
        return sorted(clone for clone in clones if clone.startswith(prefix)) + ids

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

        def watch_clones() -> None:
            # Restored clones are not Docker's: notice their deaths by their pids.
            while not self._closed.wait(0.2):
                with self._lock:
                    clones = list(self._clones.values())
                for clone in clones:
                    if clone.paused:
                        continue
                    if isinstance(clone, criu_direct.DirectClone):
                        running = criu_direct.is_running(clone)
                    else:
                        running = criu.is_running(clone)
                    if not running:
                        on_exit(clone.clone_id)

        threading.Thread(target=watch_clones, name="clone-exits", daemon=True).start()

    # -- checkpoint and restore -------------------------------------------
    _clones_dir = Path(criu.CLONE_RUNC_ROOT).parent / "clones"

    def checkpoint_support(self) -> criu.Support:
        """The direct CRIU engine where it works, else CRIU through runc, else none."""
        direct = criu_direct.detect(self._criu)
        if direct.available:
            self._engine = direct.engine
            return direct
        through_runc = criu.detect(self._runc)
        self._engine = through_runc.engine
        if through_runc.available:
            return criu.Support(True, f"{through_runc.reason} (the direct engine is off: {direct.reason})",
                                through_runc.engine)
        return through_runc

    def image_id(self, image: str) -> str:
        with translated(None, "inspect the image of"):
            return self._api.inspect_image(image)["Id"]

    def lower_dirs(self, container_id: str) -> str:
        """The read-only layers under a container's root, for a clone's overlay."""
        with translated(container_id, "inspect"):
            data = self._api.inspect_container(container_id)["GraphDriver"]["Data"]
        # Without the container's own "-init" layer, which goes with the
        # container; the /etc files it holds are bind-mounted from a holder.
        return ":".join(layer for layer in data["LowerDir"].split(":")
                        if not layer.endswith("-init/diff"))

    def create_holder(self, owner: str) -> criu.Holder:
        """A container that only lends its network namespace to a clone or a source."""
        # It only sleeps and lends its netns: no capability, little memory, few pids.
        host_config = self._api.create_host_config(cap_drop=["ALL"], security_opt=["no-new-privileges"],
                                                   mem_limit=HOLDER_MEMORY, memswap_limit=HOLDER_MEMORY,
                                                   pids_limit=HOLDER_PIDS)
        with translated(None, "create a network holder"):
            created = self._api.create_container(
                HOLDER_IMAGE, command=["sleep", "infinity"], host_config=host_config,
                labels={MANAGED_LABEL: "true", OWNER_LABEL: owner, "whiskrun.role": "holder"})
            self._api.start(created["Id"])
            info = self._api.inspect_container(created["Id"])
        return criu.Holder(created["Id"], info["State"]["Pid"], info["NetworkSettings"]["IPAddress"])

    @property
    def snapshot_engine(self) -> str:
        return self._engine

    def snapshot_source_tmpfs(self) -> dict[str, str]:
        """The tmpfs mounts of a snapshot source. The direct engine keeps what
        init writes in the writable layer, which travels with the snapshot
        (a tmpfs would cost a `tar` child per mount at every restore)."""
        if self._engine == criu_direct.ENGINE:
            return {}
        return {"/action": "rw,exec,nosuid,nodev", "/tmp": "rw,exec,nosuid,nodev"}

    def checkpoint(self, container_id: str, folder: Path, holder: criu.Holder) -> None:
        """Dump a snapshot source into ``folder``; it stops."""
        if self._engine == criu_direct.ENGINE:
            with translated(container_id, "inspect"):
                info = self._api.inspect_container(container_id)
            data = info["GraphDriver"]["Data"]
            source = criu_direct.SourceContainer(info["State"]["Pid"], data["MergedDir"], data["UpperDir"], holder)
            criu_direct.dump(source, folder, self._criu or "criu")
            return
        criu.checkpoint(container_id, folder / "images", folder / "work")
        shutil.rmtree(folder / "work", ignore_errors=True)

    def prepare_sandbox(self, owner: str, pids_limit: int) -> "criu_direct.Sandbox | criu.Holder":
        """What a restore needs ready before it starts: for the direct engine a
        whole sandbox, for runc a network holder."""
        holder = self.create_holder(owner)
        if self._engine != criu_direct.ENGINE:
            return holder
        name = f"{CLONE_PREFIX}{owner}-{secrets.token_hex(6)}"
        try:
            return criu_direct.prepare_sandbox(name, holder, self._clones_dir, pids_limit=pids_limit)
        except BackendError:
            self._safe_remove_docker(holder.container_id)
            raise

    def discard_sandbox(self, spare: "criu_direct.Sandbox | criu.Holder") -> None:
        if isinstance(spare, criu_direct.Sandbox):
            criu_direct.discard_sandbox(spare)
            self._safe_remove_docker(spare.holder.container_id)
        else:
            self._safe_remove_docker(spare.container_id)

    def restore(self, folder: Path, lower_dirs: str, spare: "criu_direct.Sandbox | criu.Holder",
                memory_mb: int, criu_options: Path, owner: str,
                log_level: int = 1, share_pages: bool = False) -> tuple[str, str, int, dict[str, float]]:
        """Restore the snapshot in ``folder`` into ``spare``: (clone id, host, port, phases in ms).
        ``share_pages``: map the snapshot's memory copy-on-write (the direct engine only)."""
        if isinstance(spare, criu_direct.Sandbox):
            try:
                clone, phases = criu_direct.restore(spare, folder, lower_dirs, memory_mb, self._criu or "criu",
                                                   log_level, share_pages)
            except BackendError:
                self._safe_remove_docker(spare.holder.container_id)
                raise
            holder = spare.holder
        else:
            clone_id = f"{CLONE_PREFIX}{owner}-{secrets.token_hex(6)}"
            mark = time.monotonic()
            try:
                clone = criu.restore(clone_id, folder, lower_dirs, spare, self._clones_dir, criu_options)
            except BackendError:
                self._safe_remove_docker(spare.container_id)
                raise
            phases = {"restore.runc": (time.monotonic() - mark) * 1000}
            holder = spare
        with self._lock:
            self._clones[clone.clone_id] = clone
        return clone.clone_id, holder.ip, ACTION_PORT, phases

    def close(self) -> None:
        self._closed.set()
        if self._events is not None:
            self._events.close()
        self._client.close()
