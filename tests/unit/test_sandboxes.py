"""The restore sandbox pool on a fake backend: sized from demand, refilled in
the background, refill cost measured, nothing left at shutdown."""

import threading
import time

from whiskrun.invoker.config import InvokerConfig
from whiskrun.invoker.errors import BackendError
from whiskrun.invoker.sandboxes import SandboxPool


class FakeSandboxBackend:
    def __init__(self, *, fail: bool = False) -> None:
        self.made: list[str] = []
        self.discarded: list[str] = []
        self.fail = fail
        self._lock = threading.Lock()

    def prepare_sandbox(self, owner: str, pids_limit: int) -> str:
        if self.fail:
            raise BackendError("Docker is down")
        time.sleep(0.01)
        with self._lock:
            name = f"{owner}-{len(self.made)}"
            self.made.append(name)
        return name

    def discard_sandbox(self, spare: str) -> None:
        with self._lock:
            self.discarded.append(spare)


def wait_ready(pool: SandboxPool, wanted: int) -> None:
    deadline = time.monotonic() + 5
    while pool.stats()["ready"] < wanted and time.monotonic() < deadline:
        time.sleep(0.005)
    assert pool.stats()["ready"] >= wanted, pool.stats()


def test_keeps_the_floor_ready_and_grows_with_recent_restores() -> None:
    backend = FakeSandboxBackend()
    pool = SandboxPool(backend, InvokerConfig(restore_spares=1, restore_spares_max=3))
    assert pool.target() == 1
    pool.refill()
    wait_ready(pool, 1)
    for _ in range(3):
        spare, waited = pool.take()
        assert spare in backend.made
        pool.refill()
    assert pool.target() == 3  # the floor plus three recent restores, capped
    wait_ready(pool, 3)
    assert pool.stats()["ready"] == 3
    pool.shutdown(timeout_s=5)
    assert pool.stats()["ready"] == 0
    assert len(backend.discarded) == 3


def test_a_restore_with_none_ready_makes_one_on_the_spot_and_it_is_measured() -> None:
    backend = FakeSandboxBackend()
    pool = SandboxPool(backend, InvokerConfig(restore_spares=1))
    spare, waited = pool.take()
    assert spare == backend.made[0] and waited >= 10.0
    stats = pool.stats()
    assert stats["refills"] == 1 and stats["refill_ms_p50"] >= 10.0
    assert pool.estimated_make_ms() >= 10.0
    pool.shutdown(timeout_s=5)


def test_a_failing_backend_leaves_the_pool_empty_but_working() -> None:
    backend = FakeSandboxBackend(fail=True)
    pool = SandboxPool(backend, InvokerConfig(restore_spares=2))
    pool.refill()
    time.sleep(0.05)
    assert pool.stats()["ready"] == 0 and not pool.has_ready()
    backend.fail = False
    pool.refill()
    wait_ready(pool, 2)
    pool.shutdown(timeout_s=5)
    assert sorted(backend.discarded) == sorted(backend.made)
