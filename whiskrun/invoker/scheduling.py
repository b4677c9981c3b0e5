"""Which container runs an activation, and what the pool does when idle.

Pure functions over plain data, following Apache OpenWhisk's ContainerPool:
no I/O, and the time is a parameter. The pool applies the decisions.
"""

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .records import ActionKey
from .states import ContainerState

S = ContainerState


@dataclass(frozen=True)
class ContainerView:
    """What the scheduler knows of one container."""

    id: str
    state: ContainerState
    kind: str
    memory_mb: int
    action: ActionKey | None = None
    in_flight: int = 0
    max_concurrency: int = 1
    last_used: float = 0.0


@dataclass(frozen=True)
class StartCosts:
    """Measured (or first-guess) milliseconds until a container is ready to /run."""

    prewarm_ms: float = 0.0  # the action's own /init on a stem cell
    restore_ms: float = float("inf")
    cold_ms: float = float("inf")  # container start plus the action's /init


@dataclass(frozen=True)
class Request:
    action: ActionKey
    kind: str
    memory_mb: int
    restorable: bool = False  # a snapshot of this action exists
    costs: StartCosts = StartCosts()


class Choice(str, enum.Enum):
    WARM = "warm"
    UNPAUSE = "unpause"
    PREWARM = "prewarm"
    RESTORE = "restore"
    COLD = "cold"
    QUEUE = "queue"


@dataclass(frozen=True)
class Decision:
    choice: Choice
    reason: str
    container_id: str | None = None
    evict: tuple[str, ...] = ()


def memory_in_use(containers: Iterable[ContainerView]) -> int:
    """Every container counts until it is gone, as in OpenWhisk."""
    return sum(c.memory_mb for c in containers if c.state is not S.CHECKPOINTED)


def _by_recency(containers: Iterable[ContainerView]) -> list[ContainerView]:
    return sorted(containers, key=lambda c: c.last_used, reverse=True)


def choose(request: Request, containers: Sequence[ContainerView], budget_mb: int) -> Decision:
    """Warm, then paused; then the cheapest of prewarmed, restored and cold by
    measured costs (evicting idle containers, least recently used first, when
    memory is short); else queue."""
    # A container on its way out (destroyed after a failure, expired) is no
    # longer this action's: the reason must not call it busy.
    mine = [c for c in containers if c.action == request.action and c.state is not S.REMOVING]
    # A container still starting counts too when the action shares containers
    # (OpenWhisk's WarmingColdData): a burst then fills one before making more.
    idle = [c for c in mine if c.state is S.WARM
            or (c.state in (S.BUSY, S.STARTING) and c.in_flight < c.max_concurrency)]
    if idle:
        # The most recently used one: its caches are hottest, and the others may expire.
        chosen = _by_recency(idle)[0]
        reason = {S.BUSY: "shared a busy container under the action's concurrency limit",
                  S.STARTING: "joined a container of this action still starting, under its concurrency limit",
                  }.get(chosen.state, "reused an idle warm container of this action")
        return Decision(Choice.WARM, reason, chosen.id)
    paused = [c for c in mine if c.state is S.PAUSED]
    if paused:
        return Decision(Choice.UNPAUSE, "reused a paused container of this action",
                        _by_recency(paused)[0].id)
    stem_cells = [c for c in containers if c.state is S.PREWARMED
                  and c.kind == request.kind and c.memory_mb == request.memory_mb]
    costs = request.costs
    restore_beats_prewarm = request.restorable and costs.restore_ms < costs.prewarm_ms
    if stem_cells and not restore_beats_prewarm:
        oldest = min(stem_cells, key=lambda c: c.last_used)
        return Decision(Choice.PREWARM, _why_not_warm(mine) + f"; took a prewarmed {request.kind} "
                        f"{request.memory_mb} MB stem cell", oldest.id)
    if stem_cells:
        start, why = Choice.RESTORE, (
            f"{_why_not_warm(mine)}; restoring its snapshot (about {costs.restore_ms:.0f} ms) beats "
            f"initialising a stem cell (about {costs.prewarm_ms:.0f} ms)")
    else:
        why = _why_not_warm(mine) + f"; no prewarmed {request.kind} {request.memory_mb} MB stem cell"
        start = Choice.COLD
        if request.restorable and costs.restore_ms < costs.cold_ms:
            start = Choice.RESTORE
            why += (f"; restoring its snapshot (about {costs.restore_ms:.0f} ms) beats a cold start "
                    f"(about {costs.cold_ms:.0f} ms)")
        elif request.restorable:
            why += (f"; a cold start (about {costs.cold_ms:.0f} ms) beats restoring its snapshot "
                    f"(about {costs.restore_ms:.0f} ms)")
    free = budget_mb - memory_in_use(containers)
    if request.memory_mb <= free:
        return Decision(start, why)
    victims = evict_for(request.memory_mb - free, containers)
    if victims is not None:
        return Decision(start, f"{why}; evicted {len(victims)} idle container(s) to free memory",
                        evict=tuple(victims))
    return Decision(Choice.QUEUE, f"{why}; memory budget of {budget_mb} MB in use by busy containers")


def _why_not_warm(mine: Sequence[ContainerView]) -> str:
    if not mine:
        return "no container of this action"
    if any(c.state is S.STARTING for c in mine):
        return "this action's containers are busy or still starting"
    return "all containers of this action are busy"


def evict_for(needed_mb: int, containers: Sequence[ContainerView]) -> list[str] | None:
    """Idle warm or paused containers, least recently used first, then idle
    stem cells, freeing ``needed_mb``; None when all of them together would not
    free enough. Busy containers are never evicted. OpenWhisk never evicts stem
    cells either; here they yield rather than let an activation queue for the
    memory they hold (maintain() starts them again once memory is free)."""
    idle = sorted((c for c in containers if c.state in (S.WARM, S.PAUSED)), key=lambda c: c.last_used)
    stems = sorted((c for c in containers if c.state is S.PREWARMED and c.action is None),
                   key=lambda c: c.last_used)
    candidates = idle + stems
    chosen: list[str] = []
    freed = 0
    for container in candidates:
        if freed >= needed_mb:
            break
        chosen.append(container.id)
        freed += container.memory_mb
    return chosen if freed >= needed_mb else None


@dataclass(frozen=True)
class StemCellSpec:
    kind: str
    memory_mb: int
    count: int


@dataclass(frozen=True)
class Maintenance:
    pause: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    prewarm: tuple[tuple[str, int], ...] = ()


def maintain(containers: Sequence[ContainerView], now: float, *, pause_grace: float,
             idle_timeout: float, stem_cells: Sequence[StemCellSpec], budget_mb: int,
             queued: int = 0) -> Maintenance:
    """Pause warm containers idle past the grace period, remove any idle past
    the idle timeout, and start stem cells missing from the configured counts
    while memory allows and no activation waits for memory (``queued``): the
    freed memory is theirs first."""
    remove = tuple(c.id for c in containers
                   if c.state in (S.WARM, S.PAUSED) and now - c.last_used >= idle_timeout)
    pause = tuple(c.id for c in containers
                  if c.state is S.WARM and c.id not in remove and now - c.last_used >= pause_grace)
    free = budget_mb - memory_in_use(c for c in containers if c.id not in remove)
    prewarm: list[tuple[str, int]] = []
    for spec in stem_cells if not queued else ():
        have = sum(1 for c in containers if c.action is None and c.kind == spec.kind
                   and c.memory_mb == spec.memory_mb and c.state in (S.STARTING, S.PREWARMED))
        for _ in range(spec.count - have):
            if spec.memory_mb > free:
                break
            prewarm.append((spec.kind, spec.memory_mb))
            free -= spec.memory_mb
    return Maintenance(pause=pause, remove=remove, prewarm=tuple(prewarm))
