"""Assemble a running invoker (backend, pool, invoker) and tear it down
cleanly, on return, on Ctrl-C and on SIGTERM."""

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from .. import kinds
from .backend.docker import DockerBackend
from .config import InvokerConfig
from .invoker import Invoker
from .pool import ContainerPool
from .timing import SystemClock


@contextlib.contextmanager
def running_invoker(config: InvokerConfig, *, maintain_in_background: bool = True) -> Iterator[Invoker]:
    backend = DockerBackend(use_runc=config.use_runc)
    clock = SystemClock()
    pool = ContainerPool(backend, config, clock, images={k.name: k.image for k in kinds.KINDS})
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
