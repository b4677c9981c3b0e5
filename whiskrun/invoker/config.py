"""The invoker's configuration: read once from the environment, validated,
and passed down. No other module of the invoker reads os.environ."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import UsageError
from .scheduling import StemCellSpec


def _stem_cells(text: str) -> tuple[StemCellSpec, ...]:
    """``python:3.11@256=1,nodejs:18@256=1`` -> stem-cell specs ('' for none)."""
    specs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind_memory, _, count = item.partition("=")
        kind, _, memory = kind_memory.partition("@")
        if not (kind and memory.isdigit() and count.isdigit()):
            raise ValueError(f"'{item}' is not KIND@MEMORY_MB=COUNT (for example python:3.11@256=1)")
        specs.append(StemCellSpec(kind, int(memory), int(count)))
    return tuple(specs)


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if value != value:  # float("nan") compares false with everything, so it passed the check below
            raise ValueError("must be a number")
        if value < 0:
            raise ValueError("must not be negative")
        return value
    return parse


def _flag(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True)
class InvokerConfig:
    """Settings, each from ``WHISKRUN_<NAME>``; ``describe()`` lists them for --help."""

    user_memory_mb: int = 2048
    pause_grace_s: float = 10.0
    idle_timeout_s: float = 600.0
    prewarm: tuple[StemCellSpec, ...] = (StemCellSpec("python:3.11", 256, 1), StemCellSpec("nodejs:18", 256, 1))
    queue_limit: int = 100
    log_wait_s: float = 2.0
    tick_s: float = 0.25
    startup_timeout_s: float = 30.0
    pids_limit: int = 1024
    use_runc: bool = True
    api_host: str = "http://172.17.0.1:3233"
    owner: str = "whiskrun"
    snapshot_policy: str = "always"
    snapshot_dir: str = "/dev/shm/whiskrun/snapshots"
    snapshot_budget_mb: int = 1024
    restore_spares: int = 1
    restore_spares_max: int = 4
    criu_log_level: int = 1
    share_snapshot_pages: bool = True
    hibernate: bool = True

    HELP = {
        "user_memory_mb": (int, "Memory budget of all action containers together, in MB (OpenWhisk's user-memory)."),
        "pause_grace_s": (float, "Seconds a warm container stays unpaused after an activation before it is paused."),
        "idle_timeout_s": (float, "Seconds an idle container is kept (warm or paused) before it is removed."),
        "prewarm": (str, "Stem cells to keep ready, as KIND@MEMORY_MB=COUNT,... (empty for none)."),
        "queue_limit": (int, "Activations that may wait for memory; beyond it an activation is refused."),
        "log_wait_s": (float, "Seconds to wait for an activation's log sentinels before giving up."),
        "tick_s": (float, "Seconds between maintenance passes (pause, expire, prewarm, reap)."),
        "startup_timeout_s": (float, "Seconds a new container may take to listen on port 8080."),
        "pids_limit": (int, "Processes allowed per action container (stops fork bombs)."),
        "use_runc": (bool, "Pause and resume through runc directly (faster than Docker's API)."),
        "api_host": (str, "Value of __OW_API_HOST given to action containers."),
        "owner": (str, "Label value naming this invoker's containers; leftovers with it are removed at start."),
        "snapshot_policy": (str, "When to take a CRIU snapshot of an initialised action: always (after its "
                            "first cold start), after:N (after N cold starts) or never."),
        "snapshot_dir": (str, "Folder of the snapshots; on tmpfs (the default, /dev/shm) restores read "
                         "their images from memory."),
        "snapshot_budget_mb": (int, "Space the snapshots may take; the least recently used go first."),
        "restore_spares": (int, "Restore sandboxes (network holder, cgroups, a CRIU launcher in them) kept "
                           "ready when restores are rare."),
        "restore_spares_max": (int, "Most restore sandboxes kept ready when restores come in bursts (one "
                               "more for each restore in the last 5 s, up to this)."),
        "criu_log_level": (int, "CRIU's log level for restores by the direct engine: 1 logs errors only (what "
                           "a failed restore reports), 4 every step with timestamps (for diagnosis; slower)."),
        "share_snapshot_pages": (bool, "Clones of a snapshot of whiskrun's own images map its memory "
                                 "copy-on-write instead of copying it (needs the CRIU scripts/install-criu.sh "
                                 "builds); clones of custom images always copy."),
        "hibernate": (bool, "Snapshot an idle container's action before removing it at the idle timeout, "
                      "so that it comes back by restore."),
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "InvokerConfig":
        parsers: dict[type, Callable[[str], Any]] = {int: _positive(int), float: _positive(float),
                                                     bool: _flag, str: str}
        values: dict[str, Any] = {}
        for item in fields(cls):
            variable = f"WHISKRUN_{item.name.upper()}"
            if variable not in environ:
                continue
            kind, _ = cls.HELP[item.name]
            try:
                values[item.name] = (_stem_cells(environ[variable]) if item.name == "prewarm"
                                     else parsers[kind](environ[variable]))
            except ValueError as exc:
                raise UsageError(f"{variable}={environ[variable]!r} is not valid: {exc}.") from exc
        policy = values.get("snapshot_policy", cls.snapshot_policy)
        if policy not in ("always", "never") and not (policy.startswith("after:")
                                                      and policy[6:].isdigit() and int(policy[6:]) > 0):
            raise UsageError(f"WHISKRUN_SNAPSHOT_POLICY={policy!r} is not valid: use always, never "
                             "or after:N with N a positive number.")
        return cls(**values)

    @classmethod
    def describe(cls) -> str:
        return "\n".join(f"WHISKRUN_{name.upper()}: {text}" for name, (_, text) in cls.HELP.items())
