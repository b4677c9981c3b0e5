"""An in-memory container backend and a manual clock, for the pool's unit tests only
(the pool, and the log collection it drives through ``backend.logs``).

Everything else that talks to containers is tested against the real Docker
engine (tests/integration). ``FakeBackend`` follows the ``ContainerBackend``
protocol verb for verb (``test_pool.py`` checks the signatures), records
every call, and can be told to fail a verb or to let a container exit.
"""

import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from whiskrun.invoker.backend.base import MANAGED_LABEL, OWNER_LABEL, ContainerSpec, LogChunk, LogLine
from whiskrun.invoker.errors import BackendError


class ManualClock:
    """The ``Clock`` protocol, moved only by ``advance``."""

    def __init__(self, start: float = 1000.0, wall_ms: int = 1_700_000_000_000) -> None:
        self._lock = threading.Lock()
        self._monotonic = start
        self._wall_ms = wall_ms

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def wall_ms(self) -> int:
        with self._lock:
            return self._wall_ms

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._monotonic += seconds
            self._wall_ms += round(seconds * 1000)


@dataclass
class FakeContainer:
    id: str
    spec: ContainerSpec
    state: str = "created"  # created, running, paused, exited
    logs: list[LogLine] = field(default_factory=list)


@dataclass
class _Failure:
    verb: str
    image: str | None
    times: int | None  # None: every time

    def matches(self, verb: str, image: str) -> bool:
        return self.verb == verb and self.image in (None, image) and self.times != 0


class FakeBackend:
    """Containers as dictionaries. ``start`` answers ``address``, which the
    tests point at a real listening socket because the pool waits for the
    action proxy to accept a connection."""

    def __init__(self, address: tuple[str, int] = ("127.0.0.1", 8080), *, clock: ManualClock | None = None,
                 costs: dict[str, float] | None = None, log_batch: int | None = None) -> None:
        self.address = address
        self.clock = clock
        #: Seconds ``clock`` advances inside a verb (``{"create": 0.2}``), to check phase timings.
        self.costs = dict(costs or {})
        #: At most this many log lines per ``logs`` call (None: all there are).
        self.log_batch = log_batch
        self.containers: dict[str, FakeContainer] = {}
        #: The spec of every container ever created, removed ones included.
        self.specs: dict[str, ContainerSpec] = {}
        self.calls: list[tuple[str, str]] = []
        #: verb -> called with the container id while the verb runs (``{"pause": backend.exit}``).
        self.during: dict[str, Callable[[str], None]] = {}
        self.oom: set[str] = set()
        self.closed = False
        self._ids = itertools.count(1)
        self._failures: list[_Failure] = []
        self._watchers: list[Callable[[str], None]] = []
        self._lock = threading.RLock()

    # -- steering the fake -------------------------------------------------
    def fail(self, verb: str, *, image: str | None = None, times: int | None = 1) -> None:
        """Make ``verb`` raise BackendError (for ``image`` only, if given), ``times`` times."""
        with self._lock:
            self._failures.append(_Failure(verb, image, times))

    def seed(self, container_id: str, labels: dict[str, str]) -> None:
        """A running container this process did not create (a leftover of an earlier run)."""
        with self._lock:
            spec = ContainerSpec(image="leftover", memory_mb=256, labels={MANAGED_LABEL: "true", **labels})
            self.containers[container_id] = FakeContainer(container_id, spec, state="running")

    def exit(self, container_id: str) -> None:
        """The container dies: tell every watcher, as the engine's event stream does."""
        with self._lock:
            self.containers[container_id].state = "exited"
            watchers = list(self._watchers)
        for on_exit in watchers:
            on_exit(container_id)

    def write_logs(self, container_id: str, *lines: LogLine) -> None:
        with self._lock:
            self.containers.setdefault(
                container_id, FakeContainer(container_id, ContainerSpec("logs-only", 256), "running"))
            self.containers[container_id].logs.extend(lines)

    def ids(self, verb: str) -> list[str]:
        """The container ids ``verb`` was called with, in order."""
        with self._lock:
            return [cid for name, cid in self.calls if name == verb]

    def live(self) -> list[str]:
        """Ids of the containers that exist (not removed), in creation order."""
        with self._lock:
            return list(self.containers)

    # -- the ContainerBackend protocol -------------------------------------
    def create(self, spec: ContainerSpec) -> str:
        with self._lock:
            self._enter("create", "", spec.image)
            container_id = f"fake{next(self._ids):04d}"
            # The engine backend adds the managed label itself, as Docker's does.
            labelled = replace(spec, labels={MANAGED_LABEL: "true", **spec.labels})
            self.containers[container_id] = FakeContainer(container_id, labelled)
            self.specs[container_id] = labelled
            self.calls[-1] = ("create", container_id)
            return container_id

    def start(self, container_id: str) -> tuple[str, int]:
        with self._lock:
            container = self._enter("start", container_id)
            container.state = "running"
            return self.address

    def pause(self, container_id: str) -> None:
        with self._lock:
            self._enter("pause", container_id).state = "paused"

    def unpause(self, container_id: str) -> None:
        with self._lock:
            self._enter("unpause", container_id).state = "running"

    def remove(self, container_id: str) -> None:
        """Never fails: removing a missing container is not an error."""
        if "remove" in self.during:
            self.during["remove"](container_id)
        with self._lock:
            self.calls.append(("remove", container_id))
            self.containers.pop(container_id, None)

    def logs(self, container_id: str, offset: int) -> LogChunk:
        with self._lock:
            self.calls.append(("logs", container_id))
            container = self.containers.get(container_id)
            lines = container.logs[offset:] if container else []
            if self.log_batch is not None:
                lines = lines[:self.log_batch]
            return LogChunk(tuple(lines), offset + len(lines))

    def is_running(self, container_id: str) -> bool:
        with self._lock:
            container = self.containers.get(container_id)
            return container is not None and container.state in ("running", "paused")

    def oom_killed(self, container_id: str) -> bool:
        with self._lock:
            return container_id in self.oom

    def list_managed(self, owner: str | None = None) -> list[str]:
        with self._lock:
            self.calls.append(("list_managed", owner or ""))
            key, value = (OWNER_LABEL, owner) if owner else (MANAGED_LABEL, "true")
            return [cid for cid, c in self.containers.items() if c.spec.labels.get(key) == value]

    def watch_exits(self, on_exit: Callable[[str], None]) -> None:
        with self._lock:
            self._watchers.append(on_exit)

    def close(self) -> None:
        self.closed = True

    # -- helpers -----------------------------------------------------------
    def _enter(self, verb: str, container_id: str, image: str | None = None) -> FakeContainer:
        """Record the call, advance the clock by its cost, and fail it if told to."""
        self.calls.append((verb, container_id))
        if self.clock is not None and verb in self.costs:
            self.clock.advance(self.costs[verb])
        container = self.containers.get(container_id)
        if image is None:
            if container is None:
                raise BackendError(f"Container {container_id[:12]} is gone ({verb}).", container_id=container_id)
            image = container.spec.image
        for failure in self._failures:
            if failure.matches(verb, image):
                if failure.times is not None:
                    failure.times -= 1
                raise BackendError(f"fake {verb} failure", container_id=container_id or None)
        if verb in self.during:
            self.during[verb](container_id)
        return container  # type: ignore[return-value]  # None only for create


def log_lines(*texts: str, stream: str = "stdout", start: int = 0) -> tuple[LogLine, ...]:
    """Log lines with distinct RFC 3339 nanosecond times, as Docker's json-file has them."""
    return tuple(LogLine(f"2024-01-01T00:00:00.{start + i:09d}Z", stream, text) for i, text in enumerate(texts))


def concat(*groups: Iterable[LogLine]) -> tuple[LogLine, ...]:
    return tuple(line for group in groups for line in group)
