"""Run a bench matrix through the real invoker: per workload, one invoker
whose pool is steered so that each activation takes the path being measured;
after each round, the raw primitives on a bare container of the same image."""

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .. import kinds
from ..direct import ActionContainer, connect
from ..invoker.backend.docker import RUNC_ROOT
from ..invoker.config import InvokerConfig
from ..invoker.errors import InvokerError
from ..invoker.invoker import Invocation, Invoker
from ..invoker.records import ActionSpec, Limits
from ..invoker.scheduling import StemCellSpec
from ..invoker.service import running_invoker
from ..proxy_client import ProxyClient
from ..report.samples import Sample
from .matrix import Matrix, Workload

PARAMS = {"hello": "world"}
#: Not a start path: the background work that keeps restore sandboxes ready.
REFILL_PATH = "sandbox refill (background)"
LABELS = {"whiskrun.purpose": "bench"}
Record = Callable[[Sample], None]
Advance = Callable[[str], None]


def _ms_since(mark: float) -> float:
    return (time.perf_counter() - mark) * 1000


class WorkloadBench:
    """One workload's rounds. Every activation is timed from the caller's side
    (the invoker call), with the invoker's phases alongside."""

    def __init__(self, workload: Workload, matrix: Matrix, record: Record, advance: Advance) -> None:
        self.workload = workload
        self.matrix = matrix
        self._record = record
        self._advance = advance
        self.image = kinds.resolve(workload.runtime).image

    def _sample(self, path: str, total: float | None, round_: int, *, phases: dict | None = None,
                error: str = "") -> None:
        self._record(Sample(action=self.workload.label, runtime=self.workload.runtime, path=path,
                            total_ms=total if not error else None, phases=phases or {}, success=not error,
                            error=error, round=round_))

    def _spec(self, version: str, memory_mb: int) -> ActionSpec:
        return ActionSpec("guest", self.workload.action, self.workload.runtime, self.image, self.workload.code,
                          version=version, limits=Limits(memory_mb=memory_mb))

    def _timed(self, invoker: Invoker, spec: ActionSpec, expected: str, round_: int, *, keep: bool = True) -> None:
        mark = time.perf_counter()
        try:
            record = invoker.invoke(spec, Invocation(params=PARAMS))
        except InvokerError as exc:
            self._sample(expected, None, round_, error=f"the invoker refused: {exc}")
            return
        total = _ms_since(mark)
        if not keep:
            return
        if not record.response.success:
            self._sample(expected, None, round_, error=f"{record.response.status.text}: {record.response.result}")
        elif record.start_path != expected:
            self._sample(expected, None, round_,
                         error=f"took {record.start_path} instead ({record.annotation('startReason')})")
        else:
            self._sample(expected, total, round_, phases=record.annotation("phases") or {})

    def run(self) -> None:
        memory = self.workload.memory_mb
        # Snapshots in a folder of the bench's own, removed afterwards: in the default folder,
        # a server's, committing guest/echo would discard the server's snapshots of its own
        # guest/echo, and the budget would evict others.
        root = Path(InvokerConfig.snapshot_dir).parent
        root.mkdir(parents=True, exist_ok=True)
        snapshot_dir = tempfile.mkdtemp(prefix="bench-", dir=root)
        # Snapshots only where this bench takes them; the stem cell at the memory of the
        # prewarm path only, so that cold and restore versions (at other memories) never take it.
        config = InvokerConfig(prewarm=(StemCellSpec(self.workload.runtime, memory, 1),), pause_grace_s=3600,
                               idle_timeout_s=3600, owner="whiskrun-bench", tick_s=0.05,
                               snapshot_policy="after:1000000", hibernate=False, restore_spares=1,
                               snapshot_dir=snapshot_dir)
        try:
            self._run(config)
        finally:
            shutil.rmtree(snapshot_dir, ignore_errors=True)

    def _run(self, config: InvokerConfig) -> None:
        workload, matrix = self.workload, self.matrix
        memory = workload.memory_mb
        with running_invoker(config) as invoker:
            pool = invoker.pool
            manager = pool.snapshots
            restorable = self._spec("3.0.0", memory - 32)
            snapshot = None
            no_restore = "CRIU checkpoint/restore is not available on this host"
            if "restore" in matrix.paths and manager is not None and manager.enabled:
                snapshot = manager.take_now(restorable)
                if snapshot is None:
                    no_restore = "the snapshot of the action could not be taken (see the log above)"
            for round_ in range(matrix.rounds):
                self._round(invoker, round_, restorable, snapshot, no_restore)
                if matrix.primitives:
                    self._advance(f"{workload.label}: raw primitives, round {round_ + 1}")
                    self._primitives(round_, manager, snapshot)
            if snapshot is not None:
                self._refills(manager)

    def _refills(self, manager) -> None:
        """The sandbox refills of this workload's restores, made in the
        background and so outside every restore's time: their wall time,
        with the invoker's own CPU for them as a phase."""
        for wall, cpu in manager.sandboxes.refills():
            self._sample(REFILL_PATH, wall, 0, phases={"refill.cpu": cpu})

    def _round(self, invoker: Invoker, round_: int, restorable: ActionSpec, snapshot, no_restore: str) -> None:
        paths, pool, memory = self.matrix.paths, invoker.pool, self.workload.memory_mb
        label = self.workload.label
        fresh = self._spec(f"1.0.{round_}", memory - 64)  # a memory no stem cell matches: a cold start
        if {"cold", "warm", "unpause"} & set(paths):
            self._timed(invoker, fresh, "cold", round_, keep="cold" in paths)
            if "cold" in paths:
                self._advance(f"{label}: cold, round {round_ + 1}")
        if "warm" in paths:
            for _ in range(self.matrix.warm_per_round):
                self._timed(invoker, fresh, "warm", round_)
            self._advance(f"{label}: warm, round {round_ + 1}")
        if "unpause" in paths:
            pool.pause_idle()
            self._timed(invoker, fresh, "unpause", round_)
            self._advance(f"{label}: unpause, round {round_ + 1}")
        if "prewarm" in paths:
            if pool.wait_for_stem_cell(self.workload.runtime, memory, timeout_s=30):
                self._timed(invoker, self._spec(f"2.0.{round_}", memory), "prewarm", round_)
            else:
                self._sample("prewarm", None, round_, error="no stem cell became ready within 30 s")
            self._advance(f"{label}: prewarm, round {round_ + 1}")
        pool.remove_idle()
        if "restore" in paths:
            if snapshot is None:
                self._sample("restore", None, round_, error=no_restore)
            else:
                pool.wait_for_stem_cell(self.workload.runtime, memory, timeout_s=30)
                # As the other paths are timed: with no container being started meanwhile
                # (the sandbox refill after the previous restore runs in the background).
                pool.snapshots.sandboxes.wait_quiet(timeout_s=30)
                self._timed(invoker, restorable, "restore", round_)
                pool.remove_idle()
            self._advance(f"{label}: restore, round {round_ + 1}")

    def _primitives(self, round_: int, manager, snapshot) -> None:
        try:
            self._raw_container(round_)
        except Exception as exc:  # noqa: BLE001 - a failed primitive is counted, the run goes on
            for path in ("raw docker run", "raw direct /run", "raw runc resume"):
                self._sample(path, None, round_, error=f"{type(exc).__name__}: {exc}")
        if snapshot is None:
            return
        try:
            self._raw_restore(round_, manager, snapshot)
        except Exception as exc:  # noqa: BLE001
            self._sample("raw CRIU restore", None, round_, error=f"{type(exc).__name__}: {exc}")

    def _raw_container(self, round_: int) -> None:
        """`docker run` to a listening proxy; /init; direct /run on a kept-alive connection;
        runc pause, then runc resume followed by a /run."""
        backend = connect()
        container = ActionContainer(backend, self.image, labels=LABELS)
        mark = time.perf_counter()
        try:
            container.start()  # inside the try: a start that fails after the create leaves a container
            container.wait_ready()
            ready = _ms_since(mark)
            mark = time.perf_counter()
            container.init(self.workload.code)
            init = _ms_since(mark)
            mark = time.perf_counter()
            container.run(PARAMS)
            # The sample is the start to a listening proxy; its phases add what a cold
            # activation does next, so that cold can be set against its raw steps.
            self._sample("raw docker run", ready, round_, phases={"start": ready, "init": init,
                                                                  "run": _ms_since(mark)})
            for _ in range(self.matrix.warm_per_round):
                mark = time.perf_counter()
                container.run(PARAMS)
                self._sample("raw direct /run", _ms_since(mark), round_)
            subprocess.run(["runc", "--root", RUNC_ROOT, "pause", container.id], check=True)
            mark = time.perf_counter()
            subprocess.run(["runc", "--root", RUNC_ROOT, "resume", container.id], check=True)
            resumed = _ms_since(mark)
            container.run(PARAMS)
            self._sample("raw runc resume", resumed, round_, phases={"resume": resumed,
                                                                     "run": _ms_since(mark) - resumed})
        finally:
            container.remove()
            backend.close()

    def _raw_restore(self, round_: int, manager, snapshot) -> None:
        """The invoker's restore engine alone into a ready sandbox (as the pool
        keeps one), then a direct /run: what the restore path costs without
        the pool, the hook and the activation record around it."""
        manager.refill_spares()
        manager.sandboxes.wait_quiet(timeout_s=30)
        restored = manager.restore(snapshot)
        client = ProxyClient(restored.host, restored.port, timeout=30)
        try:
            mark = time.perf_counter()
            client.post_json("/run", {"value": PARAMS})
            run = _ms_since(mark)
            steps = {name: ms for name, ms in restored.phases.items() if name != "restore.sandbox"}
            restore = sum(steps.values())
            self._sample("raw CRIU restore", restore + run, round_, phases={**steps, "run": run})
        finally:
            client.close()
            manager.remove_restored(restored)


def run_matrix(matrix: Matrix, record: Record, advance: Advance) -> None:
    for workload in matrix.workloads:
        WorkloadBench(workload, matrix, record, advance).run()
