"""The lifecycle verbs the pool needs from a container engine."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

#: Every container the invoker starts carries this label (and an owner label
#: naming the invoker instance), so that leftovers can be found and removed.
MANAGED_LABEL = "whiskrun.managed"
OWNER_LABEL = "whiskrun.owner"


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    memory_mb: int
    labels: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    #: mount point -> tmpfs options. Writable paths are tmpfs so that a CRIU
    #: snapshot carries their contents (it does not carry the writable layer).
    tmpfs: Mapping[str, str] = field(default_factory=dict)
    #: Share the network namespace of this container (a holder): a snapshot
    #: source must, so that its checkpoint can be restored into another one.
    network_of: str = ""
    pids_limit: int = 1024
    nofile: int = 1024
    cpu_shares: int = 0


@dataclass(frozen=True)
class LogLine:
    time: str
    stream: str
    text: str


@dataclass(frozen=True)
class LogChunk:
    lines: tuple[LogLine, ...]
    offset: int


class ContainerBackend(Protocol):
    def create(self, spec: ContainerSpec) -> str:
        """Create a container; returns its id."""

    def start(self, container_id: str) -> tuple[str, int]:
        """Start it; returns the address (host, port) of its action proxy."""

    def pause(self, container_id: str) -> None: ...

    def unpause(self, container_id: str) -> None: ...

    def remove(self, container_id: str) -> None:
        """Remove it, running or not; a missing container is not an error."""

    def logs(self, container_id: str, offset: int) -> LogChunk:
        """Complete log lines written since ``offset``, and the new offset."""

    def is_running(self, container_id: str) -> bool: ...

    def oom_killed(self, container_id: str) -> bool:
        """Whether the kernel killed a process of the container for memory."""

    def list_managed(self, owner: str | None = None) -> list[str]:
        """Ids of the containers carrying our label (and ``owner``, if given)."""

    def watch_exits(self, on_exit: Callable[[str], None]) -> None:
        """Call ``on_exit(container_id)`` whenever one of our containers dies."""

    def close(self) -> None: ...
