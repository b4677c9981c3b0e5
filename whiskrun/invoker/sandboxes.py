"""Restore sandboxes kept ready in the background, sized from demand.

A sandbox is everything of a restored clone that does not depend on the
action (backend.prepare_sandbox: a network holder, and for the direct CRIU
engine the clone's cgroups with a launcher process already in them). Making
one costs a Docker container start, about 0.3 s; a restore that finds one
ready skips all of it. The pool keeps `restore_spares` ready, plus one for
each restore of the last few seconds up to `restore_spares_max`, so a burst
of restores finds sandboxes too. How long refills take and what CPU they cost
is measured here and reported apart from the restores (`stats`).
"""

import logging
import statistics
import threading
import time
from collections import deque
from typing import Any

from .background import BackgroundSteps
from .config import InvokerConfig
from .errors import InvokerError

log = logging.getLogger(__name__)

#: Restores within this many seconds count as current demand.
DEMAND_WINDOW_S = 5.0


class SandboxPool:
    def __init__(self, backend: Any, config: InvokerConfig) -> None:
        self._backend = backend
        self._config = config
        self._lock = threading.Lock()
        self._ready: deque[Any] = deque()
        self._making = 0
        self._taken: deque[float] = deque(maxlen=64)  # when restores took a sandbox
        self._refill_ms: deque[float] = deque(maxlen=100)
        self._refill_cpu_ms: deque[float] = deque(maxlen=100)
        self._stopping = threading.Event()
        self._steps = BackgroundSteps()

    # -- handing out ------------------------------------------------------
    def take(self) -> tuple[Any, float]:
        """A ready sandbox, or one made now; and the ms it took to get it."""
        started = time.monotonic()
        with self._lock:
            self._taken.append(started)
            spare = self._ready.popleft() if self._ready else None
        if spare is None:
            spare = self._make()
        # The caller refills once its restore is done: a Docker container
        # started meanwhile would take CPU from CRIU on these two cores.
        return spare, (time.monotonic() - started) * 1000

    def has_ready(self) -> bool:
        with self._lock:
            return bool(self._ready)

    def estimated_make_ms(self) -> float:
        with self._lock:
            return statistics.median(self._refill_ms) if self._refill_ms else 300.0

    def target(self) -> int:
        """Sandboxes to keep ready: the floor, plus recent demand, up to the cap."""
        now = time.monotonic()
        with self._lock:
            recent = sum(1 for when in self._taken if now - when <= DEMAND_WINDOW_S)
        floor = self._config.restore_spares
        return max(floor, min(self._config.restore_spares_max, floor + recent))

    # -- refilling ---------------------------------------------------------
    def refill(self) -> None:
        target = self.target()
        with self._lock:
            missing = target - len(self._ready) - self._making
            self._making += max(0, missing)
        for _ in range(max(0, missing)):
            self._steps.start(self._add, name="sandbox")

    def _make(self) -> Any:
        started, cpu = time.monotonic(), time.thread_time()
        spare = self._backend.prepare_sandbox(self._config.owner, self._config.pids_limit)
        with self._lock:
            self._refill_ms.append((time.monotonic() - started) * 1000)
            self._refill_cpu_ms.append((time.thread_time() - cpu) * 1000)
        return spare

    def _add(self) -> None:
        try:
            if self._stopping.is_set():
                return
            try:
                spare = self._make()
            except InvokerError as exc:
                log.warning("could not prepare a restore sandbox: %s", exc)
                return
            with self._lock:
                keep = not self._stopping.is_set() and len(self._ready) < self._config.restore_spares_max
                if keep:
                    self._ready.append(spare)
            if not keep:
                self._backend.discard_sandbox(spare)
        finally:
            with self._lock:
                self._making -= 1

    def wait_quiet(self, timeout_s: float) -> bool:
        """Wait until no sandbox is being made (benchmarks time a restore on a
        machine not busy with a refill, as they time every other path)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._making == 0 and self._ready:
                    return True
            time.sleep(0.01)
        return False

    def stats(self) -> dict[str, float]:
        """Refills so far, their wall time and this process's CPU for them (p50, ms)."""
        with self._lock:
            wall, cpu = sorted(self._refill_ms), sorted(self._refill_cpu_ms)
            ready = len(self._ready)
        return {"ready": ready, "refills": len(wall),
                "refill_ms_p50": statistics.median(wall) if wall else 0.0,
                "refill_cpu_ms_p50": statistics.median(cpu) if cpu else 0.0}

    def refills(self) -> list[tuple[float, float]]:
        """Every refill so far: (wall ms, this process's CPU ms). Docker's own
        CPU for the network holder is not in it."""
        with self._lock:
            return list(zip(self._refill_ms, self._refill_cpu_ms))

    def shutdown(self, timeout_s: float) -> None:
        self._stopping.set()
        self._steps.join(time.monotonic() + timeout_s)
        with self._lock:
            spares, self._ready = list(self._ready), deque()
        for spare in spares:
            self._backend.discard_sandbox(spare)
