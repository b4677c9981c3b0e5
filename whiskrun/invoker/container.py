"""One container as the pool sees it: its state, its action, its connection."""

import socket
import time

from ..proxy_client import ProxyClient
from .errors import ContainerStartupError
from .records import ActionKey
from .scheduling import ContainerView
from .states import ContainerState, check_transition


class ManagedContainer:
    """A pool entry. ``pool_id`` exists from the moment memory is reserved;
    ``container_id`` once the engine has created the container."""

    def __init__(self, pool_id: str, kind: str, image: str, memory_mb: int, now: float) -> None:
        self.pool_id = pool_id
        self.kind = kind
        self.image = image
        self.memory_mb = memory_mb
        self.container_id = ""
        self.state = ContainerState.STARTING
        self.action: ActionKey | None = None
        self.in_flight = 0
        self.max_concurrency = 1
        self.last_used = now
        self.client: ProxyClient | None = None
        self.log_offset = 0
        self.initialized = False
        self.dead = False
        self.served = 0  # activations run to an answer

    def move(self, target: ContainerState) -> None:
        check_transition(self.state, target, self.container_id or self.pool_id)
        self.state = target

    def view(self) -> ContainerView:
        # A dead container looks full, so that it is never shared under its
        # concurrency limit; it is removed when its activations end.
        in_flight = self.max_concurrency if self.dead else self.in_flight
        return ContainerView(self.pool_id, self.state, self.kind, self.memory_mb, self.action,
                             in_flight, self.max_concurrency, self.last_used)

    def __repr__(self) -> str:
        return f"<ManagedContainer {self.pool_id} {self.container_id[:12]} {self.state.value}>"


def wait_listening(host: str, port: int, timeout_s: float, container_id: str) -> None:
    """Wait until the proxy accepts connections (OpenWhisk retries /init the same way)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise ContainerStartupError(
                    f"Container {container_id[:12]} did not listen on port {port} within "
                    f"{timeout_s:.0f} s; see `docker logs {container_id[:12]}`.",
                    container_id=container_id) from None
            time.sleep(0.001)
