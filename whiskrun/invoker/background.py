"""Background steps that shutdown waits for: a step still running after the
pool's last sweep could create a container nobody removes, or leave a
snapshot half taken."""

import threading
import time
from collections.abc import Callable


class BackgroundSteps:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()

    def start(self, target: Callable[..., object], *args: object, name: str) -> None:
        def run() -> None:
            try:
                target(*args)
            finally:
                with self._lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def join(self, deadline: float) -> None:
        """Wait for the running steps (and those they start) until ``deadline`` (monotonic)."""
        while True:
            with self._lock:
                threads = list(self._threads)
            if not threads or time.monotonic() >= deadline:
                return
            threads[0].join(timeout=max(0.0, deadline - time.monotonic()))
