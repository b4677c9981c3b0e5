"""Settings of the API server: read once (command-line options over
``WHISKRUN_API_*`` variables), validated, and passed down."""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ServerSetupError

#: OpenWhisk's bootstrapped keys (ansible/files/auth.guest, auth.whisk.system), which every
#: OpenWhisk tutorial and `.wskprops` of a local deployment uses.
GUEST_KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
SYSTEM_KEY = "789c46b1-71f6-4ed5-8c54-816aa4f8c502:abczO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"


@dataclass(frozen=True)
class LimitRanges:
    """OpenWhisk's allowed ranges and defaults (common/scala/src/main/resources/application.conf).

    Concurrency: OpenWhisk ships ``concurrency-limit.max = 1`` and deployments that enable
    intra-container concurrency raise it (ansible uses 500); whiskrun's Node.js runtime
    supports it, so it is enabled here."""

    timeout_ms: tuple[int, int, int] = (100, 60_000, 300_000)  # min, default, max
    memory_mb: tuple[int, int, int] = (128, 256, 512)
    logs_mb: tuple[int, int, int] = (0, 10, 10)
    concurrency: tuple[int, int, int] = (1, 1, 500)
    payload_bytes: int = 1024 * 1024
    code_bytes: int = 48 * 1024 * 1024
    sequence_length: int = 50
    list_page: int = 30
    list_max: int = 200
    blocking_wait_ms: int = 60_000
    concurrent_invocations: int = 30  # per namespace, as OpenWhisk standalone
    invocations_per_minute: int = 0  # 0: unlimited (standalone's 60 would throttle a local runner's benchmarks)


@dataclass(frozen=True)
class ApiConfig:
    #: Where to listen; None: loopback and the Docker bridge's address only (what
    #: the action containers use), so that nobody else reaches the guest key's API.
    host: str | None = None
    port: int = 3233
    data_dir: Path = Path(".whiskrun")
    #: namespace -> "uuid:key"
    namespaces: Mapping[str, str] = field(default_factory=lambda: {"guest": GUEST_KEY,
                                                                     "whisk.system": SYSTEM_KEY})
    limits: LimitRanges = LimitRanges()
    threads: int = 64  # request threads: a blocking invoke holds one for up to a minute
    invoke_workers: int = 128

    @property
    def database(self) -> Path:
        return self.data_dir / "whiskrun.db"


def read_namespaces(path: Path) -> dict[str, str]:
    """Namespaces and keys from a TOML file::

        [namespaces]
        guest = "23bc46b1-...:123zO3..."
        alice = "0a1b2c3d-...:secret"
    """
    try:
        loaded = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ServerSetupError(f"Cannot read the namespaces file {path}: {exc.strerror}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ServerSetupError(f"The namespaces file {path} is not valid TOML: {exc}.") from exc
    table = loaded.get("namespaces")
    if not isinstance(table, dict) or not table:
        raise ServerSetupError(f"The namespaces file {path} needs a [namespaces] table of "
                               'name = "uuid:key" lines.')
    namespaces: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name, key in table.items():
        if not isinstance(key, str) or key.count(":") != 1 or not all(key.split(":")):
            raise ServerSetupError(f"The key of namespace '{name}' in {path} must be a string "
                                   '"uuid:secret".')
        uuid = key.split(":")[0]
        if uuid in seen:
            raise ServerSetupError(f"Namespaces '{seen[uuid]}' and '{name}' in {path} use the same "
                                   "key uuid; give each its own.")
        seen[uuid] = name
        namespaces[name] = key
    return namespaces
