"""The container pool: applies the scheduler's decisions through the backend.

All state lives on the instance, under one lock. Slow engine calls (create,
start, pause, unpause, remove) run outside the lock; a container being worked
on is in a transitional state (STARTING, PAUSING, RESUMING, REMOVING) that
the scheduler never hands out.
"""

import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..proxy_client import ProxyClient
from .backend.base import OWNER_LABEL, ContainerBackend, ContainerSpec
from .config import InvokerConfig
from .container import ManagedContainer, wait_listening
from .errors import BackendError, InvokerError, PoolExhausted
from .records import ActionKey, ActionSpec, StartPath
from .restore_starter import RestoreStarter
from .scheduling import Choice, Decision, Request, StartCosts, choose, maintain, memory_in_use
from .states import ContainerState as S
from .stem_cells import StemCellKeeper
from .timing import Clock

if TYPE_CHECKING:
    from .restore import SnapshotManager

log = logging.getLogger(__name__)

#: Shutdown lists our containers again until the engine shows none; after an
#: interrupted create it waits for this many quiet passes, 50 ms apart.
SWEEP_QUIET_PASSES = 20


#: Restored containers of one snapshot dying in a row on their first /run that
#: prove it broken (one may be the action's own doing).
CLONE_DEATHS_TO_DISCARD = 2


@dataclass
class Lease:
    """A container handed to one activation."""

    container: ManagedContainer
    path: StartPath
    reason: str
    phases: dict[str, float] = field(default_factory=dict)
    #: Why a restore was tried and given up for a cold start, or why the snapshot was
    #: found broken before one could be tried (restoreFallback).
    restore_fallback: str = ""
    #: Joined a container still starting for the same action (concurrency > 1).
    joined: bool = False

    @property
    def needs_init(self) -> bool:
        return not self.container.initialized


class ContainerPool:
    def __init__(self, backend: ContainerBackend, config: InvokerConfig, clock: Clock,
                 images: dict[str, str], snapshots: "SnapshotManager | None" = None) -> None:
        self._backend = backend
        self._config = config
        self._clock = clock
        self._images = images  # kind -> image, for stem cells
        self._lock = threading.Condition()
        self._containers: list[ManagedContainer] = []
        self._queue: deque[object] = deque()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._maintainer: threading.Thread | None = None
        self._workers: set[threading.Thread] = set()
        self._create_interrupted = False
        # Restores (a restore.SnapshotManager), when CRIU works here; None otherwise.
        self._snapshots = snapshots
        self._restores = RestoreStarter(snapshots, config, clock, self._lock, start_cold=self._start_cold,
                                        remove=self._safe_remove)
        self._stem_cells = StemCellKeeper(config, clock, self._lock, images, add=self._add_container,
                                          create_and_start=self._create_and_start, retire=self._retire,
                                          containers=lambda: self._containers)
        self._specs: dict[ActionKey, ActionSpec] = {}
        self._init_ms: dict[ActionKey, float] = {}
        self._fallbacks: dict[ActionKey, str] = {}  # a broken snapshot's reason, for the next lease
        self._clone_deaths: dict[ActionKey, int] = {}  # restored containers in a row dead on their first /run
        self._start_ms: deque[float] = deque(maxlen=20)

    # -- life of the pool -------------------------------------------------
    @property
    def snapshots(self) -> "SnapshotManager | None":
        """The snapshot manager, None when CRIU is not available (benchmarks force restores)."""
        return self._snapshots

    def start(self, *, maintain_in_background: bool = True) -> int:
        """Remove leftovers of an earlier run, watch exits, fill stem cells."""
        leftovers = self._backend.list_managed(self._config.owner)
        for container_id in leftovers:
            self._backend.remove(container_id)
        if leftovers:
            log.info("removed %s container(s) left by an earlier run", len(leftovers))
        self._backend.watch_exits(self._on_exit)
        if self._snapshots is not None:
            self._snapshots.refill_spares()
        if maintain_in_background:
            self._maintainer = threading.Thread(target=self._maintain_loop, name="pool-maintenance",
                                                daemon=True)
            self._maintainer.start()
        else:
            self.tick()
        return len(leftovers)

    def shutdown(self) -> None:
        """Stop maintenance and remove every container this pool owns."""
        self._stopping.set()
        if self._maintainer is not None:
            self._maintainer.join(timeout=5)
        self.drain(self._config.startup_timeout_s)
        if self._snapshots is not None:
            self._snapshots.shutdown()
        with self._lock:
            containers, self._containers = list(self._containers), []
            self._lock.notify_all()
        for container in containers:
            if container.container_id:
                self._safe_remove(container.container_id)
        self._sweep()

    def _sweep(self) -> None:
        """Remove what the engine still lists with our owner label until it lists
        nothing. A create interrupted by Ctrl-C or SIGTERM may still be finishing
        in the engine, which meanwhile answers a removal with "no such
        container": after one, keep looking for a while."""
        quiet_needed = SWEEP_QUIET_PASSES if self._create_interrupted else 1
        quiet = 0
        for _ in range(4 * SWEEP_QUIET_PASSES):
            leftovers = self._backend.list_managed(self._config.owner)
            for container_id in leftovers:
                self._safe_remove(container_id)
            quiet = 0 if leftovers else quiet + 1
            if quiet >= quiet_needed:
                return
            time.sleep(0.05)

    def drain(self, timeout_s: float = 30.0) -> None:
        """Wait for the background steps started so far (removals, pauses, stem
        cells), and for those they start in turn (a failed stem cell's removal)."""
        deadline = time.monotonic() + timeout_s
        while True:
            workers = [w for w in list(self._workers) if w is not threading.current_thread()]
            if not workers or time.monotonic() >= deadline:
                return
            for worker in workers:
                if worker.ident is None:  # _spawn added it and is about to start it
                    time.sleep(0.001)
                    continue
                worker.join(timeout=max(0.0, deadline - time.monotonic()))

    def snapshot(self) -> list[ManagedContainer]:
        with self._lock:
            return list(self._containers)

    # -- handing out containers --------------------------------------------
    def acquire(self, action: ActionSpec) -> Lease:
        started = self._clock.monotonic()
        request = Request(action.key, action.kind, action.limits.memory_mb)
        with self._lock:
            if request.memory_mb > self._config.user_memory_mb:
                # No eviction can ever make room: it would wait forever.
                raise PoolExhausted(
                    f"The action needs {request.memory_mb} MB of memory but the pool has "
                    f"{self._config.user_memory_mb} MB in all; raise WHISKRUN_USER_MEMORY_MB or lower "
                    "the action's memory limit.")
            # Behind a waiting activation it has to wait too; with none waiting,
            # only if no container is free for it (so a limit of 0 still serves).
            if len(self._queue) >= self._config.queue_limit and (
                    self._queue or self._decide(request).choice is Choice.QUEUE):
                raise PoolExhausted(
                    f"{len(self._queue)} activations are already waiting for memory (the queue limit); "
                    "retry later or raise WHISKRUN_QUEUE_LIMIT or WHISKRUN_USER_MEMORY_MB.")
            ticket = object()
            self._queue.append(ticket)
            try:
                while True:
                    if self._stopping.is_set():
                        raise InvokerError("The invoker is shutting down.")
                    if self._queue[0] is ticket:
                        decision = self._decide(request)
                        if decision.choice is not Choice.QUEUE:
                            break
                    self._lock.wait(timeout=self._config.tick_s)
            finally:
                self._queue.remove(ticket)
                self._lock.notify_all()
            lease = self._claim(decision, action)
        lease.phases["queue"] = (self._clock.monotonic() - started) * 1000
        if decision.choice is Choice.UNPAUSE:
            return self._resume(lease, action)
        if lease.joined:
            return self._await_ready(lease, action)
        if decision.choice is Choice.RESTORE:
            self._restores.start(lease, action)
        elif decision.choice is Choice.COLD:
            self._start_cold(lease)
        return lease

    def _await_ready(self, lease: Lease, action: ActionSpec) -> Lease:
        """A joiner waits until the container it joined has started and been
        initialised by the activation that started it; if that fails, it
        is scheduled again."""
        container = lease.container
        mark = self._clock.monotonic()
        deadline = mark + self._config.startup_timeout_s + action.limits.timeout_ms / 1000
        with self._lock:
            while not (container.initialized and container.state is S.BUSY):
                if container.state is S.REMOVING or self._clock.monotonic() > deadline or self._stopping.is_set():
                    container.in_flight -= 1
                    break
                self._lock.wait(timeout=self._config.tick_s)
            else:
                lease.phases["wait"] = (self._clock.monotonic() - mark) * 1000
                return lease
        return self.acquire(action)

    def mark_initialized(self, container: ManagedContainer) -> None:
        """The container's /init succeeded: activations that joined it may run."""
        with self._lock:
            container.initialized = True
            self._lock.notify_all()

    def discard_snapshot(self, action: ActionSpec, why: str) -> None:
        self._restores.discard_snapshot(action, why)

    def note_clone_died(self, action: ActionSpec, why: str) -> None:
        """A restored container died during its first /run. Its action may have
        killed it (an OOM that takes the proxy); only a second death in a row
        proves the snapshot broken, and then it goes."""
        with self._lock:
            deaths = self._clone_deaths[action.key] = self._clone_deaths.get(action.key, 0) + 1
        if deaths >= CLONE_DEATHS_TO_DISCARD:
            with self._lock:
                self._clone_deaths.pop(action.key, None)
            self._restores.discard_snapshot(action, f"{why}, {deaths} restored containers in a row")

    def note_clone_served(self, action: ActionSpec) -> None:
        with self._lock:
            self._clone_deaths.pop(action.key, None)

    def record_init(self, action: ActionSpec, init_ms: float) -> None:
        """Remember what an /init cost, and take a snapshot when policy says so."""
        with self._lock:
            self._init_ms[action.key] = init_ms
        if self._snapshots is not None and self._snapshots.wants_snapshot(action, dict(action.annotations)):
            self._snapshots.take_in_background(action)

    def _decide(self, request: Request) -> Decision:
        """Under the lock."""
        views = [c.view() for c in self._containers]
        decision = choose(request, views, self._config.user_memory_mb)
        snapshot = None
        if decision.choice in (Choice.PREWARM, Choice.COLD):
            # Only now look for a snapshot: the warm path does no file I/O.
            snapshot = self._restores.snapshot_for(request.action)
            broken = self._restores.broken_reason(request.action)
            if broken:  # the activation says why it did not restore (docs/snapshots.md)
                self._fallbacks[request.action] = broken
        if snapshot is not None:
            init = self._init_ms.get(request.action) or snapshot.init_ms or 50.0
            start = sum(self._start_ms) / len(self._start_ms) if self._start_ms else 400.0
            costs = StartCosts(prewarm_ms=init, restore_ms=self._restores.estimated_ms(),
                               cold_ms=start + init)
            decision = choose(Request(request.action, request.kind, request.memory_mb, True, costs),
                              views, self._config.user_memory_mb)
        return decision

    def _claim(self, decision: Any, action: ActionSpec) -> Lease:
        """Under the lock: reserve what the decision names."""
        self._specs[action.key] = action
        if decision.choice in (Choice.COLD, Choice.RESTORE):
            for victim in self._find_all(decision.evict):
                self._retire(victim, "evicted to free memory")
            container = ManagedContainer(f"c{next(self._ids)}", action.kind, action.image,
                                         action.limits.memory_mb, self._clock.monotonic())
            self._bind(container, action)
            container.in_flight = 1  # counted from now, so others may join under the limit
            self._containers.append(container)
            path = StartPath.RESTORE if decision.choice is Choice.RESTORE else StartPath.COLD
            return Lease(container, path, decision.reason, restore_fallback=self._fallbacks.pop(action.key, ""))
        container = self._find(decision.container_id)
        if decision.choice is Choice.UNPAUSE:
            container.move(S.RESUMING)
            container.in_flight += 1
            return Lease(container, StartPath.UNPAUSE, decision.reason)
        if decision.choice is Choice.PREWARM:
            container.move(S.BUSY)
            self._bind(container, action)
            container.in_flight += 1
            # Reserve the replacement now, under the lock: reserved later, a
            # maintenance pass in between would start a second one. Only while
            # memory allows (OpenWhisk); otherwise maintenance tops it up later.
            in_use = memory_in_use(c.view() for c in self._containers)
            if in_use + container.memory_mb <= self._config.user_memory_mb:
                self._spawn(self._stem_cells.start, self._stem_cells.reserve(container.kind, container.memory_mb))
            return Lease(container, StartPath.PREWARM, decision.reason,
                         restore_fallback=self._fallbacks.pop(action.key, ""))
        container.in_flight += 1
        if container.state is S.STARTING:
            # It pays for that cold start too, waiting for it in _await_ready.
            return Lease(container, StartPath.COLD, decision.reason, joined=True)
        if container.state is S.WARM:
            container.move(S.BUSY)
        return Lease(container, StartPath.WARM, decision.reason)

    @staticmethod
    def _bind(container: ManagedContainer, action: ActionSpec) -> None:
        container.action = action.key
        container.max_concurrency = max(1, action.limits.concurrency)

    def _resume(self, lease: Lease, action: ActionSpec) -> Lease:
        container = lease.container
        before = self._clock.monotonic()
        try:
            self._backend.unpause(container.container_id)
        except BackendError as exc:
            # As OpenWhisk: a container that cannot resume is dropped and the
            # activation is scheduled again.
            log.warning("could not resume %s (%s); scheduling the activation again", container, exc)
            with self._lock:
                container.in_flight -= 1
                self._retire(container, "failed to resume")
            return self.acquire(action)
        lease.phases["unpause"] = (self._clock.monotonic() - before) * 1000
        with self._lock:
            container.move(S.BUSY)
        return lease

    def _start_cold(self, lease: Lease) -> None:
        container = lease.container
        try:
            self._create_and_start(container, lease.phases)
        except InvokerError:
            with self._lock:
                self._retire(container, "failed to start")
            raise
        with self._lock:
            container.move(S.BUSY)
            self._lock.notify_all()

    def _create_and_start(self, container: ManagedContainer, phases: dict[str, float]) -> None:
        spec = ContainerSpec(
            image=container.image, memory_mb=container.memory_mb,
            labels={OWNER_LABEL: self._config.owner, "whiskrun.kind": container.kind},
            environment={"__OW_API_HOST": self._config.api_host,
                         **({"__OW_ALLOW_CONCURRENT": "true"} if container.max_concurrency > 1 else {})},
            pids_limit=self._config.pids_limit,
            tmpfs=self._writable_mounts(container.image),
        )
        if self._stopping.is_set():  # the last sweep may have run: create nothing now
            raise InvokerError("The invoker is shutting down.")
        before = self._clock.monotonic()
        try:
            container.container_id = self._backend.create(spec)
        except BaseException:
            self._create_interrupted = True  # the engine may create it all the same
            raise
        created = self._clock.monotonic()
        host, port = self._backend.start(container.container_id)
        wait_listening(host, port, self._config.startup_timeout_s, container.container_id)
        phases["create"] = (created - before) * 1000
        phases["start"] = (self._clock.monotonic() - created) * 1000
        self._start_ms.append(phases["create"] + phases["start"])
        container.client = ProxyClient(host, port, timeout=self._config.startup_timeout_s)

    def _writable_mounts(self, image: str) -> dict[str, str]:
        mounts = {"/tmp": "rw,exec,nosuid,nodev"}
        if image in self._images.values():
            # Our images keep the action in /action; a custom blackbox image
            # may have baked its exec there, which a mount would hide.
            mounts["/action"] = "rw,exec,nosuid,nodev"
        return mounts

    # -- giving containers back ---------------------------------------------
    def release(self, lease: Lease, *, destroy: bool = False, why: str = "") -> None:
        container = lease.container
        with self._lock:
            container.in_flight -= 1
            container.last_used = self._clock.monotonic()
            if container.state is S.REMOVING:
                pass
            elif destroy or container.dead:
                self._retire(container, why or "its container died")
            elif container.in_flight == 0:
                container.move(S.WARM)
            self._lock.notify_all()

    def _retire(self, container: ManagedContainer, why: str) -> None:
        """Under the lock: mark for removal and remove in the background."""
        if container.state is not S.REMOVING:
            container.move(S.REMOVING)
        log.debug("removing %s: %s", container, why)
        self._spawn(self._remove, container)

    def _remove(self, container: ManagedContainer) -> None:
        if container.client is not None:
            container.client.close()
        if container.container_id:
            self._safe_remove(container.container_id)
        with self._lock:
            if container in self._containers:
                self._containers.remove(container)
            self._lock.notify_all()

    def _safe_remove(self, container_id: str) -> None:
        try:
            self._backend.remove(container_id)
        except BackendError as exc:
            log.warning("could not remove container %s: %s", container_id[:12], exc)

    def _on_exit(self, container_id: str) -> None:
        """A container died: never hand it out again."""
        with self._lock:
            for container in self._containers:
                if container.container_id == container_id and container.state is not S.REMOVING:
                    container.dead = True
                    if container.in_flight == 0 and container.state in (S.WARM, S.PAUSED, S.PREWARMED):
                        self._retire(container, "it exited")
                    break

    # -- maintenance -------------------------------------------------------
    def _maintain_loop(self) -> None:
        while not self._stopping.wait(self._config.tick_s):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - keep maintaining whatever one pass hit
                log.exception("pool maintenance pass failed")

    def tick(self) -> None:
        """One pass: reap the dead, expire and pause idle containers, fill stem cells."""
        with self._lock:
            self._reap()
            plan = maintain([c.view() for c in self._containers], self._clock.monotonic(),
                            pause_grace=self._config.pause_grace_s,
                            idle_timeout=self._config.idle_timeout_s,
                            stem_cells=self._stem_cells.wanted(),
                            budget_mb=self._config.user_memory_mb, queued=len(self._queue))
            for container in self._find_all(plan.remove):
                self._hibernate(container)
                self._retire(container, "idle timeout")
            to_pause = self._find_all(plan.pause)
            for container in to_pause:
                container.move(S.PAUSING)
            stem_cells = [self._stem_cells.reserve(kind, memory) for kind, memory in plan.prewarm]
        for container in to_pause:
            self._spawn(self._pause, container)
        for container in stem_cells:
            self._spawn(self._stem_cells.start, container)

    def _hibernate(self, container: ManagedContainer) -> None:
        """Under the lock: before an idle container goes, make sure its action
        has a snapshot, so that it comes back by restore rather than cold."""
        if not (self._config.hibernate and self._snapshots is not None and self._snapshots.enabled):
            return
        action = self._specs.get(container.action) if container.action else None
        if action is not None and self._restores.snapshot_for(action.key) is None:
            log.info("hibernating %s: snapshot before removal", action.path)
            self._snapshots.take_in_background(action)

    def _reap(self) -> None:
        for container in self._containers:
            if container.dead and container.in_flight == 0 and container.state is not S.REMOVING \
                    and container.state is not S.STARTING:
                self._retire(container, "it exited")

    def _pause(self, container: ManagedContainer) -> None:
        if container.client is not None:
            container.client.close()  # OpenWhisk closes connections before suspending
        try:
            self._backend.pause(container.container_id)
        except BackendError as exc:
            log.warning("could not pause %s (%s); removing it", container, exc)
            with self._lock:
                self._retire(container, "failed to pause")
            return
        with self._lock:
            if container.state is S.PAUSING and container.dead:  # it exited while being paused
                self._retire(container, "it exited")
            elif container.state is S.PAUSING:
                container.move(S.PAUSED)
                self._lock.notify_all()

    def _add_container(self, kind: str, image: str, memory_mb: int) -> ManagedContainer:
        """Under the lock: a new STARTING container in the pool, bound to no action yet."""
        container = ManagedContainer(f"c{next(self._ids)}", kind, image, memory_mb, self._clock.monotonic())
        self._containers.append(container)
        return container

    # -- forcing states on purpose (benchmarks, admin) ---------------------
    def pause_idle(self) -> int:
        """Pause every idle warm container now, without waiting for the grace period."""
        with self._lock:
            targets = [c for c in self._containers if c.state is S.WARM]
            for container in targets:
                container.move(S.PAUSING)
        for container in targets:
            self._pause(container)
        return len(targets)

    def remove_idle(self) -> int:
        """Remove every idle (warm or paused) container now."""
        with self._lock:
            targets = [c for c in self._containers if c.state in (S.WARM, S.PAUSED)]
            for container in targets:
                self._retire(container, "removed on request")
        self.drain()
        return len(targets)

    def wait_for_stem_cell(self, kind: str, memory_mb: int, timeout_s: float) -> bool:
        """Wait until a prewarmed container of ``kind`` and ``memory_mb`` is ready."""
        return self._stem_cells.wait_for(kind, memory_mb, timeout_s)

    # -- helpers -----------------------------------------------------------
    def _spawn(self, target: Any, *args: Any) -> None:
        if self._stopping.is_set() and target is not self._remove:
            return
        worker = threading.Thread(target=self._run_worker, args=(target, *args), daemon=True)
        self._workers.add(worker)
        worker.start()

    def _run_worker(self, target: Any, *args: Any) -> None:
        try:
            target(*args)
        except Exception:  # noqa: BLE001 - a background step must not kill the pool
            log.exception("pool background step %s failed", getattr(target, "__name__", target))
        finally:
            self._workers.discard(threading.current_thread())

    def _find(self, pool_id: str | None) -> ManagedContainer:
        for container in self._containers:
            if container.pool_id == pool_id:
                return container
        raise InvokerError(f"No container {pool_id} in the pool (a scheduling bug).")

    def _find_all(self, pool_ids: tuple[str, ...]) -> list[ManagedContainer]:
        return [c for c in self._containers if c.pool_id in pool_ids]
