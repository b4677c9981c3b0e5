"""Assemble a running invoker (backend, pool, invoker) and tear it down
cleanly, on return, on Ctrl-C and on SIGTERM."""

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from .. import kinds
from .backend.docker import DockerBackend
from .config import InvokerConfig
from .invoker import Invoker
from .pool import ContainerPool
from .restore import SnapshotManager
from .timing import SystemClock

log = logging.getLogger(__name__)


@contextlib.contextmanager
def running_invoker(config: InvokerConfig, *, maintain_in_background: bool = True) -> Iterator[Invoker]:
    backend = DockerBackend(use_runc=config.use_runc)
    clock = SystemClock()
    support = backend.checkpoint_support()
    log.info("checkpoint/restore: %s", f"on ({support.reason})" if support.available else
             f"off ({support.reason}); cold, prewarm, warm and unpause work as usual")
    own_images = frozenset(k.image for k in kinds.KINDS)
    snapshots = SnapshotManager(backend, config, support, own_images) if support.available else None
    pool = ContainerPool(backend, config, clock, images={k.name: k.image for k in kinds.KINDS},
                         snapshots=snapshots)
    restore = _terminate_as_interrupt()
    try:
        pool.start(maintain_in_background=maintain_in_background)
        yield Invoker(pool, backend, config, clock)
    finally:
        pool.shutdown()
        backend.close()
        restore()


def _terminate_as_interrupt() -> Callable[[], object]:
    """SIGTERM unwinds like Ctrl-C, so the `finally` above removes the containers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    return lambda: signal.signal(signal.SIGTERM, previous)
