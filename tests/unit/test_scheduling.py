"""The scheduling rules of OpenWhisk's ContainerPool, as tables (openwhisk-api.md 9.2-9.4).

Each row is a pool (a list of ``ContainerView``), a request or a time, and
the whole decision expected: the path, the container, the evictions and the
reason the activation record will carry.
"""

from dataclasses import replace

import pytest

from whiskrun.invoker.records import ActionKey
from whiskrun.invoker.scheduling import (
    Choice,
    ContainerView,
    Decision,
    Maintenance,
    Request,
    StemCellSpec,
    choose,
    evict_for,
    maintain,
    memory_in_use,
)
from whiskrun.invoker.states import ContainerState as S

PY = "python:3.11"
NODE = "nodejs:18"
HELLO = ActionKey("guest", "hello", "0.0.1", "whiskrun/python:3.11", 256)
OTHER = ActionKey("guest", "other", "0.0.1", "whiskrun/python:3.11", 256)
REQUEST = Request(HELLO, PY, 256)

NO_STEM = "no prewarmed python:3.11 256 MB stem cell"
TOOK_STEM = "took a prewarmed python:3.11 256 MB stem cell"
NONE = "no container of this action"
ALL_BUSY = "all containers of this action are busy"
STARTING = "this action's containers are busy or still starting"
WARM_REASON = "reused an idle warm container of this action"
SHARED = "shared a busy container under the action's concurrency limit"
JOINED = "joined a container of this action still starting, under its concurrency limit"
PAUSED_REASON = "reused a paused container of this action"


def box(cid: str, state: S, action: ActionKey | None = HELLO, *, mb: int = 256, in_flight: int | None = None,
        limit: int = 1, used: float = 0.0, kind: str = PY) -> ContainerView:
    """A container bound to ``action`` (HELLO unless told); busy ones run one activation unless told."""
    if in_flight is None:
        # A starting container counts the activation that started it (the pool does).
        in_flight = 1 if state in (S.BUSY, S.RESUMING) or (state is S.STARTING and action) else 0
    return ContainerView(cid, state, kind, mb, action, in_flight, limit, used)


def stem(cid: str, *, kind: str = PY, mb: int = 256, used: float = 0.0, state: S = S.PREWARMED) -> ContainerView:
    """A stem cell: a container of a kind, with no action yet."""
    return ContainerView(cid, state, kind, mb, None, 0, 1, used)


def cold(why: str, *evict: str) -> Decision:
    suffix = f"; evicted {len(evict)} idle container(s) to free memory" if evict else ""
    return Decision(Choice.COLD, f"{why}; {NO_STEM}{suffix}", evict=evict)


def queue(why: str, budget: int) -> Decision:
    return Decision(Choice.QUEUE, f"{why}; {NO_STEM}; memory budget of {budget} MB in use by busy containers")


# -- choose(): one activation, one decision ----------------------------------

WARM_ROWS = [
    pytest.param([], 1024, cold(NONE), id="empty-pool-starts-cold"),
    pytest.param([box("w", S.WARM)], 1024, Decision(Choice.WARM, WARM_REASON, "w"), id="warm-idle-reused"),
    pytest.param([box("old", S.WARM, used=1), box("new", S.WARM, used=5), box("mid", S.WARM, used=3)], 1024,
                 Decision(Choice.WARM, WARM_REASON, "new"), id="warm-most-recently-used-first"),
    pytest.param([box("p", S.PAUSED, used=9), box("w", S.WARM, used=1)], 1024,
                 Decision(Choice.WARM, WARM_REASON, "w"), id="warm-before-a-more-recent-paused-one"),
    pytest.param([stem("s"), box("w", S.WARM)], 1024, Decision(Choice.WARM, WARM_REASON, "w"),
                 id="warm-before-a-stem-cell"),
    pytest.param([box("b", S.BUSY, in_flight=1, limit=2)], 1024, Decision(Choice.WARM, SHARED, "b"),
                 id="busy-under-its-concurrency-limit-is-shared"),
    pytest.param([box("b", S.BUSY, in_flight=2, limit=3, used=1), box("c", S.BUSY, in_flight=1, limit=3, used=2)],
                 1024, Decision(Choice.WARM, SHARED, "c"), id="shared-most-recently-used-first"),
    pytest.param([box("b", S.BUSY, in_flight=2, limit=2)], 1024, cold(ALL_BUSY), id="busy-at-its-limit-not-shared"),
    pytest.param([box("b", S.BUSY)], 1024, cold(ALL_BUSY), id="busy-with-concurrency-1-not-shared"),
    pytest.param([box("p", S.PAUSING)], 1024, cold(ALL_BUSY), id="pausing-not-handed-out"),
    pytest.param([box("r", S.RESUMING)], 1024, cold(ALL_BUSY), id="resuming-not-handed-out"),
    pytest.param([box("s", S.STARTING)], 1024, cold(STARTING), id="starting-not-handed-out"),
    pytest.param([box("s", S.STARTING, limit=4)], 1024,
                 Decision(Choice.WARM, JOINED, "s"), id="starting-under-its-concurrency-limit-is-joined"),
    pytest.param([box("s", S.STARTING, limit=4, in_flight=4)], 1024, cold(STARTING),
                 id="starting-at-its-concurrency-limit-not-joined"),
    pytest.param([box("r", S.REMOVING)], 1024, cold(NONE), id="removing-is-no-container-of-this-action"),
]

OTHER_VERSIONS = {
    "other-version": replace(HELLO, version="0.0.2"),
    "other-namespace": replace(HELLO, namespace="alice"),
    "other-name": replace(HELLO, name="bye"),
    "other-memory": replace(HELLO, memory_mb=512),
    "other-image": replace(HELLO, image="whiskrun/nodejs:18"),
}
NOT_REUSED_ROWS = [
    pytest.param([box("x", state, key, in_flight=in_flight, limit=2)], 1024, cold(NONE),
                 id=f"{name}-{state.value}-not-reused")
    for name, key in OTHER_VERSIONS.items()
    for state, in_flight in ((S.WARM, 0), (S.PAUSED, 0), (S.BUSY, 1))
]

PAUSED_ROWS = [
    pytest.param([box("p", S.PAUSED)], 1024, Decision(Choice.UNPAUSE, PAUSED_REASON, "p"), id="paused-is-unpaused"),
    pytest.param([box("p1", S.PAUSED, used=1), box("p2", S.PAUSED, used=2)], 1024,
                 Decision(Choice.UNPAUSE, PAUSED_REASON, "p2"), id="paused-most-recently-used-first"),
    pytest.param([stem("s"), box("p", S.PAUSED)], 1024, Decision(Choice.UNPAUSE, PAUSED_REASON, "p"),
                 id="paused-before-a-stem-cell"),
    pytest.param([box("b", S.BUSY), box("p", S.PAUSED)], 1024,
                 Decision(Choice.UNPAUSE, PAUSED_REASON, "p"), id="paused-when-the-warm-one-is-busy"),
]

PREWARM_ROWS = [
    pytest.param([stem("s")], 1024, Decision(Choice.PREWARM, f"{NONE}; {TOOK_STEM}", "s"),
                 id="stem-cell-of-exact-kind-and-memory"),
    pytest.param([stem("young", used=9), stem("old", used=1), stem("mid", used=5)], 1024,
                 Decision(Choice.PREWARM, f"{NONE}; {TOOK_STEM}", "old"), id="oldest-stem-cell-first"),
    pytest.param([box("b", S.BUSY), stem("s")], 1024, Decision(Choice.PREWARM, f"{ALL_BUSY}; {TOOK_STEM}", "s"),
                 id="stem-cell-when-all-busy"),
    pytest.param([stem("s"), box("x", S.BUSY, OTHER, mb=768)], 1024,
                 Decision(Choice.PREWARM, f"{NONE}; {TOOK_STEM}", "s"), id="stem-cell-needs-no-free-memory"),
    pytest.param([stem("s", kind=NODE)], 1024, cold(NONE), id="stem-cell-of-another-kind-not-taken"),
    pytest.param([stem("s", mb=512)], 1024, cold(NONE), id="stem-cell-of-another-memory-not-taken"),
    pytest.param([stem("s", state=S.STARTING)], 1024, cold(NONE), id="starting-stem-cell-not-taken"),
    pytest.param([stem("s", state=S.REMOVING)], 1024, cold(NONE), id="removing-stem-cell-not-taken"),
]

MEMORY_ROWS = [
    pytest.param([box("x", S.BUSY, OTHER, mb=768)], 1024, cold(NONE), id="cold-when-it-exactly-fits"),
    pytest.param([box("x", S.BUSY, OTHER, mb=769)], 1024, queue(NONE, 1024), id="queue-when-one-mb-short"),
    pytest.param([box("x", S.STARTING, OTHER, mb=512), box("y", S.REMOVING, OTHER, mb=512)], 1024,
                 queue(NONE, 1024), id="starting-and-removing-count-and-are-not-evicted"),
    pytest.param([box("x", S.CHECKPOINTED, OTHER, mb=1024)], 1024, cold(NONE), id="checkpointed-does-not-count"),
    pytest.param([stem("s", kind=NODE, mb=1024)], 1024, cold(NONE, "s"), id="an-idle-stem-cell-yields-its-memory"),
    pytest.param([stem("s", kind=NODE, mb=512), box("w", S.WARM, OTHER, mb=512, used=5)], 1024, cold(NONE, "w"),
                 id="idle-warm-containers-go-before-stem-cells"),
    pytest.param([stem("s", kind=NODE, mb=512, state=S.STARTING), box("x", S.BUSY, OTHER, mb=512)], 1024,
                 queue(NONE, 1024), id="a-starting-stem-cell-is-not-evicted"),
    pytest.param([box("b", S.BUSY)], 256, queue(ALL_BUSY, 256), id="own-busy-container-and-no-memory"),
    pytest.param([box("x", S.BUSY, OTHER, mb=512)], 512, queue(NONE, 512), id="busy-containers-are-not-evicted"),
]

EVICT_ROWS = [
    pytest.param([box("a", S.WARM, OTHER, used=1), box("b", S.WARM, OTHER, used=2)], 512, cold(NONE, "a"),
                 id="least-recently-used-idle-one-evicted"),
    pytest.param([box("a", S.PAUSED, OTHER, used=1), box("x", S.BUSY, OTHER, used=0)], 512, cold(NONE, "a"),
                 id="paused-one-evicted"),
    pytest.param([box("c", S.WARM, OTHER, mb=256, used=3), box("b", S.PAUSED, OTHER, mb=128, used=2),
                  box("a", S.WARM, OTHER, mb=128, used=1), box("x", S.BUSY, OTHER, mb=512)], 1024,
                 cold(NONE, "a", "b"), id="several-evicted-oldest-first-until-enough"),
    pytest.param([box("x", S.BUSY, OTHER, used=0), stem("s", kind=NODE, used=0), box("w", S.WARM, OTHER, used=5)],
                 768, cold(NONE, "w"), id="never-busy-never-stem-cells"),
    pytest.param([box("b", S.BUSY), box("w", S.WARM, OTHER)], 512, cold(ALL_BUSY, "w"),
                 id="evicted-when-all-own-are-busy"),
    pytest.param([box("w", S.WARM, OTHER, mb=128), box("x", S.BUSY, OTHER, mb=384)], 512, queue(NONE, 512),
                 id="no-eviction-when-idle-ones-free-too-little"),
]


@pytest.mark.parametrize("containers, budget, expected",
                         WARM_ROWS + NOT_REUSED_ROWS + PAUSED_ROWS + PREWARM_ROWS + MEMORY_ROWS + EVICT_ROWS)
def test_choose(containers: list[ContainerView], budget: int, expected: Decision) -> None:
    assert choose(REQUEST, containers, budget) == expected


@pytest.mark.parametrize("request_, expected", [
    pytest.param(Request(HELLO, NODE, 256), Decision(
        Choice.PREWARM, f"{NONE}; took a prewarmed nodejs:18 256 MB stem cell", "node"), id="kind-picks-the-stem-cell"),
    pytest.param(Request(replace(HELLO, memory_mb=512), PY, 512), Decision(
        Choice.PREWARM, f"{NONE}; took a prewarmed python:3.11 512 MB stem cell", "big"), id="memory-picks-it"),
    pytest.param(Request(HELLO, "python:3.12", 256), Decision(
        Choice.COLD, f"{NONE}; no prewarmed python:3.12 256 MB stem cell"), id="no-match-names-kind-and-memory"),
])
def test_choose_matches_stem_cells_on_kind_and_memory(request_: Request, expected: Decision) -> None:
    pool = [stem("py"), stem("node", kind=NODE), stem("big", mb=512)]
    assert choose(request_, pool, 4096) == expected


# -- evict_for(): which idle containers free N MB -----------------------------

EVERY_OTHER_STATE = [box(f"{state.value}", state, OTHER, used=0)
                     for state in S if state not in (S.WARM, S.PAUSED)]


@pytest.mark.parametrize("needed, containers, expected", [
    pytest.param(0, [box("w", S.WARM)], [], id="nothing-needed-nothing-evicted"),
    pytest.param(256, [box("w3", S.WARM, used=3), box("w1", S.WARM, used=1), box("w2", S.WARM, used=2)], ["w1"],
                 id="exactly-one"),
    pytest.param(300, [box("w3", S.WARM, used=3), box("w1", S.WARM, used=1), box("w2", S.WARM, used=2)],
                 ["w1", "w2"], id="oldest-first-and-stops-when-enough"),
    pytest.param(768, [box("w1", S.WARM, used=1), box("p2", S.PAUSED, used=2), box("w3", S.WARM, used=3)],
                 ["w1", "p2", "w3"], id="all-of-them"),
    pytest.param(769, [box("w1", S.WARM, used=1), box("p2", S.PAUSED, used=2), box("w3", S.WARM, used=3)], None,
                 id="none-when-not-enough"),
    pytest.param(256, [*EVERY_OTHER_STATE, box("w", S.WARM, used=9)], ["w"], id="only-warm-or-paused"),
    pytest.param(512, [*EVERY_OTHER_STATE, box("w", S.WARM, used=9)], None, id="others-never-count"),
    pytest.param(512, [stem("s2", used=2), box("w", S.WARM, used=9), stem("s1", used=1)], ["w", "s1"],
                 id="stem-cells-after-idle-containers-oldest-first"),
])
def test_evict_for(needed: int, containers: list[ContainerView], expected: list[str] | None) -> None:
    assert evict_for(needed, containers) == expected


# -- maintain(): what to pause, remove and prewarm at a given time ------------

NOW = 1000.0
GRACE = 10.0
IDLE = 600.0
PY_256 = (PY, 256)


def plan(containers: list[ContainerView], stem_cells: tuple[StemCellSpec, ...] = (), budget: int = 1024) -> Maintenance:
    return maintain(containers, NOW, pause_grace=GRACE, idle_timeout=IDLE, stem_cells=stem_cells, budget_mb=budget)


@pytest.mark.parametrize("containers, expected", [
    pytest.param([box("w", S.WARM, used=NOW - 5)], Maintenance(), id="warm-within-grace-kept"),
    pytest.param([box("w", S.WARM, used=NOW - GRACE + 0.001)], Maintenance(), id="warm-just-under-grace-kept"),
    pytest.param([box("w", S.WARM, used=NOW - GRACE)], Maintenance(pause=("w",)), id="warm-paused-at-grace"),
    pytest.param([box("w", S.WARM, used=NOW - IDLE + 1)], Maintenance(pause=("w",)), id="warm-paused-until-timeout"),
    pytest.param([box("w", S.WARM, used=NOW - IDLE)], Maintenance(remove=("w",)), id="warm-removed-at-idle-timeout"),
    pytest.param([box("p", S.PAUSED, used=NOW - IDLE + 1)], Maintenance(), id="paused-kept-before-timeout"),
    pytest.param([box("p", S.PAUSED, used=NOW - IDLE)], Maintenance(remove=("p",)), id="paused-removed-at-timeout"),
    pytest.param([box("a", S.WARM, used=NOW - IDLE), box("b", S.WARM, used=NOW - GRACE), box("c", S.PAUSED, used=0),
                  box("d", S.WARM, used=NOW)], Maintenance(pause=("b",), remove=("a", "c")), id="several-at-once"),
    *[pytest.param([box("x", state, used=0)], Maintenance(),
                   id=f"{state.value}-never-paused-or-removed")
      for state in S if state not in (S.WARM, S.PAUSED)],
    pytest.param([stem("s", used=0)], Maintenance(), id="stem-cells-never-expire"),
])
def test_maintain_pauses_and_removes_idle_containers(containers: list[ContainerView], expected: Maintenance) -> None:
    assert plan(containers) == expected


TWO_PY = (StemCellSpec(PY, 256, 2),)


@pytest.mark.parametrize("containers, stem_cells, budget, prewarm", [
    pytest.param([], TWO_PY, 1024, (PY_256, PY_256), id="fills-to-the-count"),
    pytest.param([stem("s")], TWO_PY, 1024, (PY_256,), id="counts-prewarmed-ones"),
    pytest.param([stem("s", state=S.STARTING)], TWO_PY, 1024, (PY_256,), id="counts-starting-ones"),
    pytest.param([stem("a"), stem("b"), stem("c")], TWO_PY, 1024, (), id="never-more"),
    pytest.param([box("c", S.STARTING)], TWO_PY, 1024, (PY_256, PY_256), id="a-cold-start-is-no-stem-cell"),
    pytest.param([box("w", S.WARM, used=NOW)], TWO_PY, 1024, (PY_256, PY_256), id="a-used-one-is-no-stem-cell"),
    pytest.param([stem("s", state=S.REMOVING)], TWO_PY, 768, (PY_256, PY_256), id="removing-one-not-counted"),
    pytest.param([stem("s", mb=512)], TWO_PY, 1024, (PY_256, PY_256), id="other-memory-not-counted"),
    pytest.param([stem("s", kind=NODE)], TWO_PY, 1024, (PY_256, PY_256), id="other-kind-not-counted"),
    pytest.param([box("x", S.BUSY, OTHER, mb=768)], TWO_PY, 1024, (PY_256,), id="only-while-memory-allows"),
    pytest.param([box("x", S.BUSY, OTHER, mb=769)], TWO_PY, 1024, (), id="none-without-memory"),
    pytest.param([box("x", S.PAUSED, OTHER, mb=1024, used=NOW)], TWO_PY, 1024, (), id="paused-memory-counts"),
    pytest.param([box("x", S.WARM, OTHER, mb=1024, used=0)], TWO_PY, 1024, (PY_256, PY_256),
                 id="memory-freed-by-removals-counts"),
    pytest.param([], (StemCellSpec(PY, 256, 0),), 1024, (), id="count-zero"),
    pytest.param([], (StemCellSpec(PY, 256, 1), StemCellSpec(NODE, 128, 2)), 512,
                 (PY_256, (NODE, 128), (NODE, 128)), id="every-spec-in-order"),
    pytest.param([], (StemCellSpec(PY, 256, 1), StemCellSpec(NODE, 128, 2)), 384, (PY_256, (NODE, 128)),
                 id="in-order-until-memory-runs-out"),
    pytest.param([], (StemCellSpec(PY, 512, 1), StemCellSpec(NODE, 128, 1)), 256, ((NODE, 128),),
                 id="a-smaller-one-still-fits"),
])
def test_maintain_tops_up_stem_cells(containers: list[ContainerView], stem_cells: tuple[StemCellSpec, ...],
                                     budget: int, prewarm: tuple[tuple[str, int], ...]) -> None:
    assert plan(containers, stem_cells, budget).prewarm == prewarm


def test_no_stem_cell_is_started_while_activations_wait_for_memory() -> None:
    """Freed memory goes to the queue first (a stem cell that took it would only be
    evicted again by the next queued activation)."""
    waiting = maintain([], NOW, pause_grace=GRACE, idle_timeout=IDLE, stem_cells=TWO_PY, budget_mb=1024, queued=3)
    assert waiting.prewarm == ()
    assert maintain([], NOW, pause_grace=GRACE, idle_timeout=IDLE, stem_cells=TWO_PY, budget_mb=1024,
                    queued=0).prewarm == (PY_256, PY_256)


# -- memory_in_use() ----------------------------------------------------------

@pytest.mark.parametrize("containers, expected", [
    pytest.param([], 0, id="empty"),
    pytest.param([box(s.value, s, mb=100 + i) for i, s in enumerate(S) if s is not S.CHECKPOINTED],
                 sum(100 + i for i, s in enumerate(S) if s is not S.CHECKPOINTED), id="every-live-state-counts"),
    pytest.param([box("c", S.CHECKPOINTED, mb=512), stem("s", mb=128)], 128, id="checkpointed-does-not"),
])
def test_memory_in_use(containers: list[ContainerView], expected: int) -> None:
    assert memory_in_use(containers) == expected
    assert memory_in_use(iter(containers)) == expected  # any iterable, read once
