"""Golden snapshots and restores: when to take them, how to use them.

A snapshot is taken off the critical path, from a private source container
initialised with the action's code in a holder's network namespace; the
containers that serve activations are never frozen for it. A restore takes
a sandbox made ahead of time (sandboxes.py) and restores the snapshot into it.
"""

import logging
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ..proxy_client import ProxyClient, ProxyConnectionError
from .backend.base import OWNER_LABEL, ContainerSpec
from .background import BackgroundSteps
from .backend.checkpoint import CRIU_RESTORE_OPTIONS, Support
from .backend.docker import DockerBackend
from .config import InvokerConfig
from .container import wait_listening
from .errors import InvokerError
from .records import ActionKey, ActionSpec
from .sandboxes import SandboxPool
from .snapshots import SnapshotInfo, SnapshotStore, snapshot_key

log = logging.getLogger(__name__)

#: Per-action annotation overriding the snapshot policy: "always" or "never".
SNAPSHOT_ANNOTATION = "whiskrun-snapshot"
#: Worker threads of a snapshot source's proxy (actionproxy.config reads it).
SNAPSHOT_THREADS_ENV = "OW_PROXY_THREADS_AT_SNAPSHOT"
#: Tells the proxy and the Python launcher of a snapshot source to move every
#: object of init into the GC's permanent generation (gc.freeze) before the
#: dump: collections in a clone then never walk, and so never write to, the
#: snapshot's objects, whose pages stay shared between clones.
SNAPSHOT_SOURCE_ENV = "OW_SNAPSHOT_SOURCE"


@dataclass
class RestoredContainer:
    container_id: str
    host: str
    port: int
    phases: dict[str, float]
    snapshot: SnapshotInfo


class RestoreFailed(InvokerError):
    pass


class SnapshotManager:
    def __init__(self, backend: DockerBackend, config: InvokerConfig, support: Support,
                 own_images: frozenset[str] = frozenset()) -> None:
        """``own_images``: the images whiskrun builds, whose processes may be
        restored with shared pages (criu_direct.MMAP_PAGES_OPTION says why
        only those)."""
        self._backend = backend
        self._config = config
        self.support = support
        self._shared_page_images = own_images if support.shares_pages and config.share_snapshot_pages else frozenset()
        self.store = SnapshotStore(Path(config.snapshot_dir), config.snapshot_budget_mb * 1024 * 1024)
        self._criu_options = Path(config.snapshot_dir) / ".criu-restore.conf"
        self._criu_options.write_text(CRIU_RESTORE_OPTIONS)
        self._lock = threading.Lock()
        self._in_progress: set[str] = set()
        self._cold_starts: dict[ActionKey, int] = {}
        self._image_ids: dict[str, str] = {}
        #: Why an action's snapshot was just found broken and discarded, for the
        #: activation that then starts otherwise (its restoreFallback).
        self._broken: dict[ActionKey, str] = {}
        self.sandboxes = SandboxPool(backend, config)
        self._restore_ms: deque[float] = deque(maxlen=20)
        self._stopping = threading.Event()
        self._steps = BackgroundSteps()
        self.store.clear_staging()

    @property
    def enabled(self) -> bool:
        return self.support.available and self._config.snapshot_policy != "never"

    # -- which snapshot --------------------------------------------------
    def key_for(self, action: ActionKey) -> str:
        image_id = self._image_ids.get(action.image)
        if image_id is None:
            image_id = self._image_ids[action.image] = self._backend.image_id(action.image)
        return snapshot_key(action, image_id)

    def available_for(self, action: ActionKey) -> SnapshotInfo | None:
        if not self.enabled:
            return None
        key = self.key_for(action)
        info = self.store.get(key)
        if info is None:
            if self.store.discard_if_broken(key):
                why = (f"the snapshot folder {key} had its images, config or record missing, or held another "
                       "snapshot, and was discarded")
                log.warning("discarded the snapshot folder %s of %s/%s: its images, config or record are "
                            "missing, or it holds another snapshot", key, action.namespace, action.name)
                with self._lock:
                    self._broken[action] = why
            elif self.store.forget_deleted(key):
                log.warning("the snapshot folder %s of %s/%s was deleted while the invoker ran", key,
                            action.namespace, action.name)
                with self._lock:
                    self._broken[action] = f"the snapshot folder {key} was deleted"
            return None
        # A folder copied in from another image, or whose image layers are
        # gone (image rebuilt), cannot be restored: drop it now.
        if info.image_id != self._image_ids.get(action.image):
            self.discard(info, f"it was taken from another image ({info.image_id[:19]})")
            return None
        if info.engine != self._backend.snapshot_engine:
            self.discard(info, f"it was taken by the {info.engine} engine, and restores here use "
                         f"{self._backend.snapshot_engine}")
            return None
        missing = [layer for layer in info.lower_dirs.split(":") if not Path(layer).is_dir()]
        if missing:
            self.discard(info, f"its image layer {missing[0]} is gone")
            return None
        return info

    def broken_reason(self, action: ActionKey) -> str:
        """Why the snapshot of ``action`` was found broken just now ('' if it was not); asked once."""
        with self._lock:
            return self._broken.pop(action, "")

    def note_restore_ms(self, ms: float) -> None:
        """What a restore cost up to a clone ready to run (engine, first accept, hook),
        set against a stem cell's /init by the scheduler."""
        self._restore_ms.append(ms)

    def estimated_restore_ms(self) -> float:
        """Measured restores (a first guess before any), plus the making of a
        sandbox when none is ready now."""
        restore = sum(self._restore_ms) / len(self._restore_ms) if self._restore_ms else 60.0
        if self.sandboxes.has_ready():
            return restore
        return restore + self.sandboxes.estimated_make_ms()

    # -- taking snapshots ------------------------------------------------
    def wants_snapshot(self, action: ActionSpec, annotations: dict[str, str]) -> bool:
        """Count a cold start and say whether policy asks for a snapshot now."""
        if not self.enabled:
            return False
        choice = annotations.get(SNAPSHOT_ANNOTATION, "")
        if choice == "never":
            return False
        with self._lock:
            self._cold_starts[action.key] = count = self._cold_starts.get(action.key, 0) + 1
        if choice == "always":
            return True
        policy = self._config.snapshot_policy
        threshold = int(policy.split(":", 1)[1]) if policy.startswith("after:") else 1
        return count >= threshold

    def take_in_background(self, action: ActionSpec) -> None:
        key = self.key_for(action.key)
        with self._lock:
            if key in self._in_progress or self.store.get(key) is not None:
                return
            self._in_progress.add(key)
        self._steps.start(self._take, action, key, name="snapshot")

    def _take(self, action: ActionSpec, key: str) -> SnapshotInfo | None:
        holder = None
        source = ""
        staging = self.store.staging(key)
        try:
            holder = self._backend.create_holder(self._config.owner)
            source = self._backend.create(ContainerSpec(
                image=action.image, memory_mb=action.limits.memory_mb,
                labels={OWNER_LABEL: self._config.owner, "whiskrun.role": "snapshot-source"},
                # One waitress worker at dump: every thread costs ptrace work at
                # each restore; the after-restore hook starts the others.
                environment={"__OW_API_HOST": self._config.api_host, SNAPSHOT_THREADS_ENV: "1",
                             SNAPSHOT_SOURCE_ENV: "1"},
                tmpfs=self._backend.snapshot_source_tmpfs(),
                network_of=holder.container_id, pids_limit=self._config.pids_limit))
            host, port = self._backend.start(source)
            wait_listening(host, port, self._config.startup_timeout_s, source)
            client = ProxyClient(host, port, timeout=action.limits.timeout_ms / 1000)
            init_started = time.monotonic()
            status, body = client.post_json("/init", {"value": {
                "name": action.name, "main": action.main, "code": action.code, "binary": action.binary,
                "env": dict(action.init_env)}})
            init_ms = (time.monotonic() - init_started) * 1000
            client.close()
            if status != 200:
                log.info("no snapshot of %s: its /init answered %s %s", action.path, status, body)
                return None
            lower = self._backend.lower_dirs(source)
            started = time.monotonic()
            self._backend.checkpoint(source, staging, holder)
            info = SnapshotInfo(
                key=key, namespace=action.namespace, action=action.name, version=action.version,
                kind=action.kind, image=action.image, image_id=self._image_ids.get(action.image, ""),
                memory_mb=action.limits.memory_mb, lower_dirs=lower, size_bytes=0, created=time.time(),
                last_used=time.time(), checkpoint_ms=(time.monotonic() - started) * 1000, init_ms=init_ms,
                engine=self._backend.snapshot_engine)
            info = self.store.commit(staging, info)
            log.info("snapshot of %s taken: %.1f MB in %.0f ms", action.path, info.size_bytes / 1e6,
                     info.checkpoint_ms)
            return info
        except (InvokerError, ProxyConnectionError, OSError) as exc:
            # A full disk, CRIU killed mid-dump, an init that fails: no snapshot, nothing else changes.
            log.warning("no snapshot of %s: %s", action.path, exc)
            return None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if source:
                self._backend.remove(source)
            if holder is not None:
                self._backend.remove(holder.container_id)
            with self._lock:
                self._in_progress.discard(key)

    def take_now(self, action: ActionSpec) -> SnapshotInfo | None:
        """Take a snapshot and wait for it (benchmarks and tests)."""
        key = self.key_for(action.key)
        with self._lock:
            self._in_progress.add(key)
        return self._take(action, key)

    # -- restoring -------------------------------------------------------
    def shares_pages(self, snapshot: SnapshotInfo) -> bool:
        """Whether clones of ``snapshot`` map its memory instead of copying it."""
        return snapshot.image in self._shared_page_images

    def restore(self, snapshot: SnapshotInfo, *, share_pages: bool | None = None) -> RestoredContainer:
        """A clone of ``snapshot``; ``share_pages`` overrides shares_pages()
        (the benchmark compares both on one snapshot)."""
        # A truncated page image can make CRIU's restorer spin instead of failing.
        size = self.store.files_size(snapshot.key)
        if size != snapshot.size_bytes:
            raise RestoreFailed(f"its files hold {size} bytes, not the {snapshot.size_bytes} it was taken "
                                "with (truncated or changed)")
        try:
            spare, sandbox_ms = self.sandboxes.take()
        except InvokerError as exc:
            raise RestoreFailed(f"no sandbox to restore into ({exc})") from exc
        phases = {"restore.sandbox": sandbox_ms}
        try:
            clone_id, host, port, steps = self._backend.restore(
                self.store.folder(snapshot.key), snapshot.lower_dirs, spare, snapshot.memory_mb,
                self._criu_options, self._config.owner, self._config.criu_log_level,
                share_pages=self.shares_pages(snapshot) if share_pages is None else share_pages)
        except InvokerError as exc:
            raise RestoreFailed(str(exc)) from exc
        finally:
            self.refill_spares()
        phases.update(steps)
        self.store.record_restore(snapshot.key)
        return RestoredContainer(clone_id, host, port, phases, snapshot)

    def remove_restored(self, restored: RestoredContainer) -> None:
        """Remove a clone restored outside the pool (benchmarks of the raw primitive)."""
        self._backend.remove(restored.container_id)

    def discard(self, snapshot: SnapshotInfo, why: str) -> None:
        log.warning("discarding the snapshot of %s/%s: %s", snapshot.namespace, snapshot.action, why)
        self.store.discard(snapshot.key)

    def refill_spares(self) -> None:
        """Keep sandboxes ready so that a restore need not wait for Docker."""
        if self.enabled:
            self.sandboxes.refill()

    def shutdown(self) -> None:
        self._stopping.set()
        deadline = time.monotonic() + self._config.startup_timeout_s
        self._steps.join(deadline)
        self.sandboxes.shutdown(max(0.0, deadline - time.monotonic()))
