"""The restore start path: a leased container comes to life from its
action's snapshot, or, if anything goes wrong, cold, with the reason kept.

The pool decides (scheduling.py) and leases; this module does the slow part
outside the pool's lock and hands the container back ready, or started cold.
"""

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..proxy_client import ProxyClient, ProxyConnectionError
from .config import InvokerConfig
from .container import wait_listening
from .errors import InvokerError
from .records import ActionKey, ActionSpec, StartPath
from .states import ContainerState as S
from .timing import Clock

if TYPE_CHECKING:
    from .pool import Lease
    from .restore import SnapshotManager

log = logging.getLogger(__name__)

#: A restored clone listens at once (its socket was restored); past this it is broken.
LISTEN_TIMEOUT_S = 2.0


class RestoreStarter:
    def __init__(self, snapshots: "SnapshotManager | None", config: InvokerConfig, clock: Clock,
                 lock: threading.Condition, *, start_cold: Callable[["Lease"], None],
                 remove: Callable[[str], None]) -> None:
        self.snapshots = snapshots
        self._config = config
        self._clock = clock
        self._lock = lock  # the pool's: container states change under it
        self._start_cold = start_cold
        self._remove = remove

    @property
    def enabled(self) -> bool:
        return self.snapshots is not None and self.snapshots.enabled

    def snapshot_for(self, action: ActionKey) -> Any:
        """The action's usable snapshot, or None (never raises: a lookup error means no restore)."""
        if not self.enabled:
            return None
        try:
            return self.snapshots.available_for(action)  # type: ignore[union-attr]
        except InvokerError as exc:
            log.warning("cannot look up a snapshot for %s/%s: %s", action.namespace, action.name, exc)
            return None

    def broken_reason(self, action: ActionKey) -> str:
        """Why the action's snapshot was just discarded as broken ('' if not)."""
        return self.snapshots.broken_reason(action) if self.snapshots is not None else ""

    def estimated_ms(self) -> float:
        return self.snapshots.estimated_restore_ms() if self.snapshots is not None else float("inf")

    def start(self, lease: "Lease", action: ActionSpec) -> None:
        """Restore the action's snapshot into the lease; on any failure, discard it and start cold."""
        container = lease.container
        snapshot = self.snapshot_for(action.key)
        try:
            if snapshot is None:
                raise InvokerError("the snapshot disappeared")
            restored = self.snapshots.restore(snapshot)  # type: ignore[union-attr]
            container.container_id = restored.container_id
            mark = self._clock.monotonic()
            wait_listening(restored.host, restored.port, LISTEN_TIMEOUT_S, restored.container_id)
            restored.phases["restore.listen"] = (self._clock.monotonic() - mark) * 1000
            client = ProxyClient(restored.host, restored.port, timeout=self._config.startup_timeout_s)
            mark = self._clock.monotonic()
            status, body = client.post_json("/restored", {}, timeout=action.limits.timeout_ms / 1000)
            restored.phases["hook"] = (self._clock.monotonic() - mark) * 1000
        except (InvokerError, ProxyConnectionError) as exc:
            self.fall_back_to_cold(lease, action, snapshot, f"restore failed ({exc})")
            return
        self.snapshots.note_restore_ms(  # type: ignore[union-attr]
            sum(ms for name, ms in restored.phases.items() if name != "restore.sandbox"))
        if status == 200 and isinstance(body, dict) and body.get("ok") is False:
            log.warning("the after-restore hook of %s failed: %s", action.path, body.get("error"))
        lease.phases.update(restored.phases)
        container.client = client
        with self._lock:
            container.initialized = True
            container.move(S.BUSY)
            self._lock.notify_all()

    def fall_back_to_cold(self, lease: "Lease", action: ActionSpec, snapshot: Any, why: str) -> None:
        """No activation is lost to a snapshot: drop it, then start cold."""
        log.warning("%s for %s; discarding the snapshot and starting cold", why, action.path)
        if snapshot is not None and self.snapshots is not None:
            self.snapshots.discard(snapshot, why)
        if lease.container.container_id:
            self._remove(lease.container.container_id)
            lease.container.container_id = ""
        lease.path, lease.restore_fallback = StartPath.COLD, why
        lease.reason = f"{lease.reason}; {why}, so started cold"
        for phase in [name for name in lease.phases if name.startswith("restore") or name == "hook"]:
            lease.phases.pop(phase)
        self._start_cold(lease)

    def discard_snapshot(self, action: ActionSpec, why: str) -> None:
        snapshot = self.snapshot_for(action.key)
        if snapshot is not None and self.snapshots is not None:
            self.snapshots.discard(snapshot, why)
