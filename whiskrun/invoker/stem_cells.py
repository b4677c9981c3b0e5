"""Stem cells: containers of a kind started ahead, with no action yet
(OpenWhisk's prewarmed containers). The pool's maintenance says how many to
start (scheduling.maintain); this module starts them and stops prewarming a
kind whose image keeps failing.
"""

import logging
import threading
from collections.abc import Callable

from .config import InvokerConfig
from .container import ManagedContainer
from .errors import InvokerError
from .scheduling import StemCellSpec
from .states import ContainerState as S
from .timing import Clock

log = logging.getLogger(__name__)

#: A kind whose stem cells fail this many times in a row is no longer prewarmed
#: (gunicorn's WORKER_BOOT_ERROR idea: do not respawn a broken image in a loop).
PREWARM_FAILURE_LIMIT = 3


class StemCellKeeper:
    def __init__(self, config: InvokerConfig, clock: Clock, lock: threading.Condition, images: dict[str, str], *,
                 add: Callable[[str, str, int], ManagedContainer],
                 create_and_start: Callable[[ManagedContainer, dict[str, float]], None],
                 retire: Callable[[ManagedContainer, str], None],
                 containers: Callable[[], list[ManagedContainer]]) -> None:
        self._config = config
        self._clock = clock
        self._lock = lock  # the pool's
        self._images = images  # kind -> image
        self._add = add
        self._create_and_start = create_and_start
        self._retire = retire
        self._containers = containers
        self._failures: dict[str, int] = {}

    def wanted(self) -> list[StemCellSpec]:
        """Under the lock: the configured stem cells of kinds that still start."""
        return [spec for spec in self._config.prewarm
                if self._failures.get(spec.kind, 0) < PREWARM_FAILURE_LIMIT and spec.kind in self._images]

    def reserve(self, kind: str, memory_mb: int) -> ManagedContainer:
        """Under the lock: a STARTING stem cell in the pool, to start with ``start``."""
        return self._add(kind, self._images[kind], memory_mb)

    def start(self, container: ManagedContainer) -> None:
        try:
            self._create_and_start(container, {})
        except InvokerError as exc:
            log.warning("could not start a %s stem cell: %s", container.kind, exc)
            with self._lock:
                self._failures[container.kind] = self._failures.get(container.kind, 0) + 1
                self._retire(container, "stem cell failed to start")
            return
        with self._lock:
            self._failures[container.kind] = 0
            if container.state is S.STARTING:
                container.move(S.PREWARMED)
            self._lock.notify_all()

    def wait_for(self, kind: str, memory_mb: int, timeout_s: float) -> bool:
        """Wait until a prewarmed container of ``kind`` and ``memory_mb`` is ready."""
        deadline = self._clock.monotonic() + timeout_s
        with self._lock:
            while not any(c.state is S.PREWARMED and c.kind == kind and c.memory_mb == memory_mb
                          for c in self._containers()):
                remaining = deadline - self._clock.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(timeout=min(remaining, self._config.tick_s))
        return True
