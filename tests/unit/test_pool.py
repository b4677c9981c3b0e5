"""The container pool against the in-memory backend and a manual clock.

Maintenance runs only when a test calls ``tick()``; ``drain()`` waits for
the background steps (removals, pauses, stem cells) it started. The fake
backend's ``start`` answers the address of a real listening socket, because
the pool waits for each new container's proxy to accept a connection.
"""

import inspect
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes import FakeBackend, ManualClock
from whiskrun.invoker.backend.base import MANAGED_LABEL, OWNER_LABEL, ContainerBackend
from whiskrun.invoker.config import InvokerConfig
from whiskrun.invoker.errors import BackendError, ContainerStartupError, InvokerError, PoolExhausted
from whiskrun.invoker.pool import ContainerPool, Lease
from whiskrun.invoker.stem_cells import PREWARM_FAILURE_LIMIT
from whiskrun.invoker.records import ActionSpec, Limits, StartPath
from whiskrun.invoker.scheduling import StemCellSpec
from whiskrun.invoker.states import ContainerState as S

pytestmark = pytest.mark.timeout(30)

PY = "python:3.11"
NODE = "nodejs:18"
IMAGES = {PY: "whiskrun/python:3.11", NODE: "whiskrun/nodejs:18"}
OWNER = "unit-test"
API_HOST = "http://172.17.0.1:3233"
SETTINGS: dict[str, Any] = dict(user_memory_mb=1024, pause_grace_s=10.0, idle_timeout_s=600.0, prewarm=(),
                                queue_limit=10, tick_s=0.01, startup_timeout_s=2.0, owner=OWNER, api_host=API_HOST)

NO_STEM = "no prewarmed python:3.11 256 MB stem cell"
COLD_NONE = f"no container of this action; {NO_STEM}"
COLD_BUSY = f"all containers of this action are busy; {NO_STEM}"
EVICTED_ONE = "; evicted 1 idle container(s) to free memory"
WARM = "reused an idle warm container of this action"
SHARED = "shared a busy container under the action's concurrency limit"
UNPAUSED = "reused a paused container of this action"


def action(name: str = "hello", *, kind: str = PY, memory: int = 256, concurrency: int = 1) -> ActionSpec:
    return ActionSpec("guest", name, kind, IMAGES[kind], "def main(args): return args",
                      limits=Limits(memory_mb=memory, concurrency=concurrency))


@pytest.fixture
def listening() -> Iterator[tuple[str, int]]:
    """A real socket that accepts connections, standing in for a container's proxy."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(128)
        yield server.getsockname()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(listening: tuple[str, int], clock: ManualClock) -> FakeBackend:
    return FakeBackend(listening, clock=clock)


PoolFactory = Callable[..., ContainerPool]


@pytest.fixture
def make_pool(backend: FakeBackend, clock: ManualClock) -> Iterator[PoolFactory]:
    """A started pool (one maintenance pass done) with SETTINGS overridden by keywords."""
    pools: list[ContainerPool] = []

    def make(*, start: bool = True, **settings: Any) -> ContainerPool:
        pool = ContainerPool(backend, InvokerConfig(**{**SETTINGS, **settings}), clock, images=dict(IMAGES))
        pools.append(pool)
        if start:
            pool.start(maintain_in_background=False)
            pool.drain()
        return pool

    yield make
    for pool in pools:
        pool.shutdown()


class Background:
    """``function()`` in a thread; ``result()`` joins it with a timeout so nothing hangs."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(function,), daemon=True)
        self.thread.start()

    def _run(self, function: Callable[[], Any]) -> None:
        try:
            self.value = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def result(self, timeout: float = 5.0) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "still waiting"
        if self.error is not None:
            raise self.error
        return self.value

    @property
    def waiting(self) -> bool:
        return self.thread.is_alive()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.001)


def queued(pool: ContainerPool) -> int:
    """How many activations are in the pool's queue (the one private read of these tests)."""
    with pool._lock:
        return len(pool._queue)


def acquire_in_background(pool: ContainerPool, spec: ActionSpec, order: list[str], name: str) -> Background:
    """Start an acquire and return once it waits in the queue."""
    before = queued(pool)

    def run() -> Lease:
        lease = pool.acquire(spec)
        order.append(name)
        return lease

    waiter = Background(run)
    wait_until(lambda: queued(pool) == before + 1)
    return waiter


def idle_then_tick(pool: ContainerPool, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    pool.tick()
    pool.drain()


# -- the fake itself ------------------------------------------------------------

PROTOCOL_VERBS = [name for name, _ in inspect.getmembers(ContainerBackend, inspect.isfunction)
                  if not name.startswith("_")]


@pytest.mark.parametrize("verb", PROTOCOL_VERBS)
def test_the_fake_backend_has_every_verb_of_the_protocol(verb: str) -> None:
    assert inspect.signature(getattr(FakeBackend, verb)) == inspect.signature(getattr(ContainerBackend, verb))


# -- start and shutdown -----------------------------------------------------------

def test_start_removes_this_owners_leftovers_only(backend: FakeBackend, make_pool: PoolFactory) -> None:
    backend.seed("old1", {OWNER_LABEL: OWNER})
    backend.seed("old2", {OWNER_LABEL: OWNER})
    backend.seed("theirs", {OWNER_LABEL: "another-invoker"})
    pool = make_pool(start=False)
    assert pool.start(maintain_in_background=False) == 2
    assert backend.ids("list_managed") == [OWNER]
    assert backend.ids("remove") == ["old1", "old2"]
    assert backend.live() == ["theirs"]


def test_shutdown_removes_every_container_it_owns(backend: FakeBackend, clock: ManualClock,
                                                  make_pool: PoolFactory) -> None:
    pool = make_pool(prewarm=(StemCellSpec(NODE, 256, 1),))
    paused = pool.acquire(action("paused"))
    pool.release(paused)
    idle_then_tick(pool, clock, 10)
    warm = pool.acquire(action("warm"))
    pool.release(warm)
    busy = pool.acquire(action("busy"))
    backend.seed("stray", {OWNER_LABEL: OWNER})  # e.g. created by an interrupted earlier start
    backend.seed("theirs", {OWNER_LABEL: "another-invoker"})
    assert {c.state for c in pool.snapshot()} == {S.PREWARMED, S.PAUSED, S.WARM, S.BUSY}
    pool.shutdown()
    assert backend.live() == ["theirs"]
    assert pool.snapshot() == []
    assert busy.container.container_id in backend.ids("remove")
    with pytest.raises(InvokerError, match=r"^The invoker is shutting down\.$"):
        pool.acquire(action("warm"))


def test_shutdown_wakes_a_waiting_activation(make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=256)
    pool.acquire(action("holder"))
    waiter = acquire_in_background(pool, action("waiter"), [], "waiter")
    pool.shutdown()
    with pytest.raises(InvokerError, match=r"^The invoker is shutting down\.$"):
        waiter.result()


# -- cold, warm, prewarm, unpause ---------------------------------------------------

def test_cold_start_then_warm_reuse(backend: FakeBackend, clock: ManualClock, make_pool: PoolFactory) -> None:
    backend.costs = {"create": 0.2, "start": 0.05}
    pool = make_pool()
    first = pool.acquire(action())
    container = first.container
    assert (first.path, first.reason) == (StartPath.COLD, COLD_NONE)
    assert first.phases == {"queue": 0.0, "create": pytest.approx(200.0), "start": pytest.approx(50.0)}
    assert first.needs_init is True
    assert (container.state, container.in_flight, container.action) == (S.BUSY, 1, action().key)
    created = backend.containers[container.container_id].spec
    assert (created.image, created.memory_mb, created.pids_limit) == ("whiskrun/python:3.11", 256, 1024)
    assert created.labels == {MANAGED_LABEL: "true", OWNER_LABEL: OWNER, "whiskrun.kind": PY}
    assert created.environment == {"__OW_API_HOST": API_HOST}
    assert backend.ids("start") == [container.container_id]

    clock.advance(3)
    container.initialized = True  # the invoker's /init succeeded
    pool.release(first)
    assert (container.state, container.in_flight, container.last_used) == (S.WARM, 0, clock.monotonic())

    second = pool.acquire(action())
    assert (second.path, second.reason, second.container) == (StartPath.WARM, WARM, container)
    assert second.phases == {"queue": 0.0}
    assert second.needs_init is False
    assert container.state is S.BUSY
    assert len(backend.ids("create")) == 1


@pytest.mark.parametrize("other", [action(memory=512), action("bye"), action(kind=NODE)],
                         ids=["other-memory", "other-action", "other-kind"])
def test_a_warm_container_of_another_action_is_not_reused(make_pool: PoolFactory, other: ActionSpec) -> None:
    pool = make_pool()
    pool.release(pool.acquire(action()))
    lease = pool.acquire(other)
    assert lease.path is StartPath.COLD
    assert lease.reason.startswith("no container of this action; no prewarmed ")
    assert len(pool.snapshot()) == 2


def test_a_prewarmed_stem_cell_is_taken_and_replaced(backend: FakeBackend, make_pool: PoolFactory) -> None:
    pool = make_pool(prewarm=(StemCellSpec(PY, 256, 1),))
    [stem_cell] = pool.snapshot()
    assert (stem_cell.state, stem_cell.action, stem_cell.kind) == (S.PREWARMED, None, PY)
    assert backend.containers[stem_cell.container_id].spec.labels["whiskrun.kind"] == PY

    lease = pool.acquire(action())
    assert (lease.path, lease.container) == (StartPath.PREWARM, stem_cell)
    assert lease.reason == "no container of this action; took a prewarmed python:3.11 256 MB stem cell"
    assert lease.phases == {"queue": 0.0}
    assert lease.needs_init is True
    assert (stem_cell.state, stem_cell.action, stem_cell.in_flight) == (S.BUSY, action().key, 1)

    pool.drain()
    replacement = [c for c in pool.snapshot() if c is not stem_cell]
    assert [(c.state, c.kind, c.memory_mb, c.action) for c in replacement] == [(S.PREWARMED, PY, 256, None)]
    assert len(backend.ids("create")) == 2


def test_stem_cells_only_of_the_exact_kind_and_memory(make_pool: PoolFactory) -> None:
    pool = make_pool(prewarm=(StemCellSpec(PY, 256, 1),))
    for other in (action(kind=NODE), action(memory=512)):
        assert pool.acquire(other).path is StartPath.COLD
    assert [c.state for c in pool.snapshot() if c.action is None] == [S.PREWARMED]


def test_stem_cells_of_a_kind_without_an_image_are_not_started(backend: FakeBackend,
                                                               make_pool: PoolFactory) -> None:
    make_pool(prewarm=(StemCellSpec("ruby:3", 256, 1), StemCellSpec(NODE, 128, 2)))
    assert [backend.specs[c].image for c in backend.ids("create")] == ["whiskrun/nodejs:18"] * 2


def test_a_stem_cell_replacement_waits_for_memory(backend: FakeBackend, clock: ManualClock,
                                                  make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=512, prewarm=(StemCellSpec(PY, 256, 1),))
    pool.acquire(action("other", kind=NODE))
    lease = pool.acquire(action())
    assert lease.path is StartPath.PREWARM
    pool.drain()
    assert sum(c.memory_mb for c in pool.snapshot()) == 512  # no stem cell beyond the budget
    pool.release(lease, destroy=True)
    pool.drain()
    idle_then_tick(pool, clock, 0)
    assert [(c.state, c.action) for c in pool.snapshot() if c.action is None] == [(S.PREWARMED, None)]


def test_pause_after_the_grace_period_then_unpause(backend: FakeBackend, clock: ManualClock,
                                                   make_pool: PoolFactory) -> None:
    backend.costs = {"unpause": 0.03}
    pool = make_pool()
    lease = pool.acquire(action())
    container = lease.container
    pool.release(lease)

    idle_then_tick(pool, clock, 9.999)
    assert (container.state, backend.ids("pause")) == (S.WARM, [])
    idle_then_tick(pool, clock, 0.001)
    assert (container.state, backend.ids("pause")) == (S.PAUSED, [container.container_id])

    again = pool.acquire(action())
    assert (again.path, again.reason, again.container) == (StartPath.UNPAUSE, UNPAUSED, container)
    assert again.phases == {"queue": 0.0, "unpause": pytest.approx(30.0)}
    assert (container.state, container.in_flight) == (S.BUSY, 1)
    assert backend.ids("unpause") == [container.container_id]
    pool.release(again)
    assert container.state is S.WARM


def test_a_container_that_cannot_resume_is_dropped_and_the_activation_starts_cold(
        backend: FakeBackend, clock: ManualClock, make_pool: PoolFactory) -> None:
    pool = make_pool()
    first = pool.acquire(action())
    pool.release(first)
    idle_then_tick(pool, clock, 10)
    backend.fail("unpause")
    lease = pool.acquire(action())
    assert (lease.path, lease.reason) == (StartPath.COLD, COLD_NONE)
    assert lease.container is not first.container
    pool.drain()
    assert backend.ids("remove") == [first.container.container_id]
    assert pool.snapshot() == [lease.container]


def test_a_container_that_cannot_pause_is_removed(backend: FakeBackend, clock: ManualClock,
                                                   make_pool: PoolFactory) -> None:
    pool = make_pool()
    lease = pool.acquire(action())
    pool.release(lease)
    backend.fail("pause")
    idle_then_tick(pool, clock, 10)
    assert backend.ids("remove") == [lease.container.container_id]
    assert pool.snapshot() == []


def test_a_warm_container_idle_past_the_timeout_is_removed_not_paused(backend: FakeBackend, clock: ManualClock,
                                                                      make_pool: PoolFactory) -> None:
    pool = make_pool()
    lease = pool.acquire(action())
    pool.release(lease)
    idle_then_tick(pool, clock, 600)
    assert (backend.ids("pause"), backend.ids("remove")) == ([], [lease.container.container_id])
    assert (pool.snapshot(), backend.live()) == ([], [])


def test_a_paused_container_is_removed_at_the_idle_timeout(backend: FakeBackend, clock: ManualClock,
                                                           make_pool: PoolFactory) -> None:
    pool = make_pool()
    lease = pool.acquire(action())
    pool.release(lease)
    idle_then_tick(pool, clock, 10)
    assert lease.container.state is S.PAUSED
    idle_then_tick(pool, clock, 589.99)
    assert (lease.container.state, backend.ids("remove")) == (S.PAUSED, [])
    idle_then_tick(pool, clock, 0.01)
    assert backend.ids("remove") == [lease.container.container_id]
    assert (pool.snapshot(), backend.live()) == ([], [])


def test_a_busy_container_is_never_paused_or_removed(backend: FakeBackend, clock: ManualClock,
                                                     make_pool: PoolFactory) -> None:
    pool = make_pool()
    lease = pool.acquire(action())
    idle_then_tick(pool, clock, 10_000)
    assert (lease.container.state, backend.ids("pause"), backend.ids("remove")) == (S.BUSY, [], [])


# -- memory: eviction and the queue --------------------------------------------------

def test_eviction_removes_the_least_recently_used_idle_container(backend: FakeBackend, clock: ManualClock,
                                                                  make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=512)
    older = pool.acquire(action("a"))
    clock.advance(1)
    newer = pool.acquire(action("b"))
    pool.release(older)
    clock.advance(1)
    pool.release(newer)
    clock.advance(1)
    lease = pool.acquire(action("c"))
    assert (lease.path, lease.reason) == (StartPath.COLD, COLD_NONE + EVICTED_ONE)
    pool.drain()
    assert backend.ids("remove") == [older.container.container_id]
    assert [c.action.name for c in pool.snapshot() if c.action] == ["b", "c"]


def test_busy_containers_are_never_evicted(backend: FakeBackend, make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=512)
    busy = pool.acquire(action("busy"))
    idle = pool.acquire(action("idle"))
    pool.release(idle)
    lease = pool.acquire(action("new"))
    assert lease.reason == COLD_NONE + EVICTED_ONE
    pool.drain()
    assert backend.ids("remove") == [idle.container.container_id]
    assert busy.container.state is S.BUSY


def test_the_queue_is_served_in_arrival_order(make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=256)
    holder = pool.acquire(action("a"))
    order: list[str] = []
    first = acquire_in_background(pool, action("a"), order, "first")
    second = acquire_in_background(pool, action("b"), order, "second")
    third = acquire_in_background(pool, action("a"), order, "third")

    pool.release(holder)
    lease1 = first.result()
    assert (lease1.path, lease1.reason, lease1.container) == (StartPath.WARM, WARM, holder.container)
    assert (second.waiting, third.waiting) == (True, True)

    pool.release(lease1)
    lease2 = second.result()
    assert (lease2.path, lease2.reason) == (StartPath.COLD, COLD_NONE + EVICTED_ONE)
    assert third.waiting

    pool.release(lease2)
    lease3 = third.result()
    assert (lease3.path, lease3.reason) == (StartPath.COLD, COLD_NONE + EVICTED_ONE)
    assert order == ["first", "second", "third"]
    assert lease3.phases["queue"] == 0.0  # the manual clock did not move


def test_a_waiting_big_activation_is_not_overtaken_by_a_small_one(backend: FakeBackend,
                                                                  make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=512)
    holder = pool.acquire(action("x"))
    order: list[str] = []
    big = acquire_in_background(pool, action("big", memory=512), order, "big")
    small = acquire_in_background(pool, action("small"), order, "small")  # 256 MB are free for it
    time.sleep(0.05)  # several queue passes
    assert (big.waiting, small.waiting, len(backend.ids("create"))) == (True, True, 1)

    pool.release(holder)
    big_lease = big.result()
    assert (big_lease.path, big_lease.reason) == (
        StartPath.COLD, f"no container of this action; no prewarmed python:3.11 512 MB stem cell{EVICTED_ONE}")
    assert small.waiting
    pool.release(big_lease)
    assert small.result().reason == COLD_NONE + EVICTED_ONE
    assert order == ["big", "small"]


def test_a_full_queue_refuses_with_a_clear_message(make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=256, queue_limit=1)
    holder = pool.acquire(action())
    waiter = acquire_in_background(pool, action(), [], "waiter")
    with pytest.raises(PoolExhausted) as refused:
        pool.acquire(action())
    assert str(refused.value) == ("1 activations are already waiting for memory (the queue limit); "
                                  "retry later or raise WHISKRUN_QUEUE_LIMIT or WHISKRUN_USER_MEMORY_MB.")
    pool.release(holder)
    assert waiter.result().container is holder.container


def test_a_queue_limit_of_zero_still_serves_what_needs_no_wait(make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=256, queue_limit=0)
    lease = pool.acquire(action())
    assert lease.path is StartPath.COLD
    with pytest.raises(PoolExhausted):
        Background(lambda: pool.acquire(action("other"))).result(timeout=2)


def test_an_action_larger_than_the_whole_budget_is_refused_at_once(make_pool: PoolFactory) -> None:
    pool = make_pool(user_memory_mb=128)
    with pytest.raises(PoolExhausted) as refused:
        Background(lambda: pool.acquire(action(memory=256))).result(timeout=2)
    assert str(refused.value) == ("The action needs 256 MB of memory but the pool has 128 MB in all; "
                                  "raise WHISKRUN_USER_MEMORY_MB or lower the action's memory limit.")


# -- containers that fail or die ------------------------------------------------------

@pytest.mark.parametrize("verb", ["create", "start"])
def test_a_failed_start_returns_no_lease_and_frees_its_memory(backend: FakeBackend, make_pool: PoolFactory,
                                                              verb: str) -> None:
    pool = make_pool(user_memory_mb=256)
    backend.fail(verb)
    with pytest.raises(BackendError, match=f"^fake {verb} failure$"):
        pool.acquire(action())
    pool.drain()
    assert pool.snapshot() == []
    assert backend.ids("remove") == ([] if verb == "create" else backend.ids("create")[:1])
    assert pool.acquire(action()).path is StartPath.COLD  # the whole budget is free again


def test_a_container_that_never_listens_is_removed(backend: FakeBackend, make_pool: PoolFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    backend.address = ("127.0.0.1", closed_port)
    pool = make_pool(startup_timeout_s=0.1)
    with pytest.raises(ContainerStartupError, match=f"did not listen on port {closed_port} within") as failed:
        pool.acquire(action())
    [created] = backend.ids("create")
    assert failed.value.container_id == created
    pool.drain()
    assert (pool.snapshot(), backend.ids("remove")) == ([], [created])


@pytest.mark.parametrize("path", ["warm", "paused"])
def test_a_container_that_exits_between_activations_is_never_handed_out(
        backend: FakeBackend, clock: ManualClock, make_pool: PoolFactory, path: str) -> None:
    pool = make_pool()
    first = pool.acquire(action())
    dead = first.container
    pool.release(first)
    if path == "paused":
        idle_then_tick(pool, clock, 10)
    backend.exit(dead.container_id)
    lease = pool.acquire(action())
    assert lease.container is not dead
    assert (lease.path, lease.reason) == (StartPath.COLD, COLD_NONE)
    pool.drain()
    assert backend.ids("remove") == [dead.container_id]
    assert pool.snapshot() == [lease.container]


def test_a_stem_cell_that_exits_is_replaced(backend: FakeBackend, clock: ManualClock,
                                            make_pool: PoolFactory) -> None:
    pool = make_pool(prewarm=(StemCellSpec(PY, 256, 1),))
    [stem_cell] = pool.snapshot()
    backend.exit(stem_cell.container_id)
    pool.drain()
    assert backend.ids("remove") == [stem_cell.container_id]
    idle_then_tick(pool, clock, 0)
    [replacement] = pool.snapshot()
    assert replacement.state is S.PREWARMED and replacement is not stem_cell
    assert pool.acquire(action()).container is replacement


def test_a_container_that_exits_during_an_activation_is_removed_on_release(
        backend: FakeBackend, make_pool: PoolFactory) -> None:
    pool = make_pool()
    lease = pool.acquire(action())
    backend.exit(lease.container.container_id)
    assert lease.container.state is S.BUSY  # still running its activation
    pool.release(lease)
    pool.drain()
    assert backend.ids("remove") == [lease.container.container_id]
    assert pool.acquire(action()).path is StartPath.COLD


def test_a_dead_container_is_not_shared_under_its_concurrency_limit(backend: FakeBackend,
                                                                     make_pool: PoolFactory) -> None:
    pool = make_pool()
    first = pool.acquire(action(concurrency=2))
    backend.exit(first.container.container_id)
    second = pool.acquire(action(concurrency=2))
    assert second.container is not first.container
    assert (second.path, second.reason) == (StartPath.COLD, COLD_BUSY)


def test_a_container_that_exits_while_being_paused_is_never_unpaused(backend: FakeBackend, clock: ManualClock,
                                                                      make_pool: PoolFactory) -> None:
    pool = make_pool()
    lease = pool.acquire(action())
    pool.release(lease)
    backend.during["pause"] = backend.exit
    idle_then_tick(pool, clock, 10)
    again = pool.acquire(action())
    assert (again.path, again.reason) == (StartPath.COLD, COLD_NONE)
    pool.drain()
    assert backend.ids("remove") == [lease.container.container_id]
    assert backend.ids("unpause") == []


def test_release_with_destroy_removes_the_container(backend: FakeBackend, make_pool: PoolFactory) -> None:
    pool = make_pool()
    lease = pool.acquire(action())
    pool.release(lease, destroy=True, why="the action failed")
    assert lease.container.state is S.REMOVING
    pool.drain()
    assert (backend.ids("remove"), pool.snapshot()) == ([lease.container.container_id], [])
    again = pool.acquire(action())
    assert (again.path, again.reason) == (StartPath.COLD, COLD_NONE)


def test_a_kind_whose_stem_cells_keep_failing_is_no_longer_prewarmed(backend: FakeBackend, clock: ManualClock,
                                                                      make_pool: PoolFactory) -> None:
    backend.fail("start", image=IMAGES[PY], times=None)
    pool = make_pool(prewarm=(StemCellSpec(PY, 256, 1), StemCellSpec(NODE, 256, 1)))
    for _ in range(PREWARM_FAILURE_LIMIT + 2):
        idle_then_tick(pool, clock, 1)
    python_creates = [c for c in backend.ids("create") if backend.specs[c].image == IMAGES[PY]]
    assert len(python_creates) == PREWARM_FAILURE_LIMIT
    assert [(c.kind, c.state) for c in pool.snapshot()] == [(NODE, S.PREWARMED)]
    assert backend.live() == [pool.snapshot()[0].container_id]


def test_stem_cells_that_fail_fewer_times_are_still_prewarmed(backend: FakeBackend, clock: ManualClock,
                                                              make_pool: PoolFactory) -> None:
    backend.fail("start", image=IMAGES[PY], times=PREWARM_FAILURE_LIMIT - 1)
    pool = make_pool(prewarm=(StemCellSpec(PY, 256, 1),))
    for _ in range(PREWARM_FAILURE_LIMIT - 1):
        idle_then_tick(pool, clock, 1)
    assert [(c.kind, c.state) for c in pool.snapshot()] == [(PY, S.PREWARMED)]
    assert len(backend.ids("create")) == PREWARM_FAILURE_LIMIT


# -- concurrency > 1 ---------------------------------------------------------------

def test_a_container_is_shared_up_to_the_actions_concurrency(backend: FakeBackend, make_pool: PoolFactory) -> None:
    pool = make_pool()
    shared = action(concurrency=2)
    first = pool.acquire(shared)
    container = first.container
    assert backend.containers[container.container_id].spec.environment == {
        "__OW_API_HOST": API_HOST, "__OW_ALLOW_CONCURRENT": "true"}
    second = pool.acquire(shared)
    assert (second.path, second.reason, second.container) == (StartPath.WARM, SHARED, container)
    assert container.in_flight == 2
    third = pool.acquire(shared)
    assert (third.path, third.reason) == (StartPath.COLD, COLD_BUSY)
    assert third.container is not container

    pool.release(first)
    assert (container.state, container.in_flight) == (S.BUSY, 1)
    pool.release(second)
    assert (container.state, container.in_flight) == (S.WARM, 0)


# -- drain ---------------------------------------------------------------------------

def test_drain_waits_for_the_steps_that_background_steps_start(backend: FakeBackend, make_pool: PoolFactory) -> None:
    backend.fail("start", image=IMAGES[PY])
    backend.during["remove"] = lambda container_id: time.sleep(0.05)  # a slow engine
    pool = make_pool(prewarm=(StemCellSpec(PY, 256, 1),))  # its stem cell fails, then is removed
    assert pool.snapshot() == []
    assert backend.ids("remove") == backend.ids("create")
