"""Typed records that cross the invoker's boundary, with OpenWhisk's field names."""

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Limits:
    """An action's limits, OpenWhisk's defaults."""

    timeout_ms: int = 60_000
    memory_mb: int = 256
    logs_mb: int = 10
    concurrency: int = 1

    def to_json(self) -> dict[str, int]:
        return {"timeout": self.timeout_ms, "memory": self.memory_mb, "logs": self.logs_mb,
                "concurrency": self.concurrency}


@dataclass(frozen=True)
class ActionKey:
    """What makes a warm container reusable: the same action version in the
    same namespace (OpenWhisk compares the whole action revision)."""

    namespace: str
    name: str
    version: str
    image: str
    memory_mb: int
    revision: str = ""
    #: The namespace whose activations share the containers, when it is not the
    #: action's own (a caller of another namespace's published package): as
    #: OpenWhisk keys containers by the invoking namespace, no two callers share one.
    tenant: str = ""


@dataclass(frozen=True)
class ActionSpec:
    """Everything the invoker needs to run one action."""

    namespace: str
    name: str
    kind: str
    image: str
    code: str | None
    main: str = "main"
    binary: bool = False
    version: str = "0.0.1"
    limits: Limits = Limits()
    init_env: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, Any] = field(default_factory=dict)
    package: str = ""
    tenant: str = ""  # see ActionKey.tenant

    @property
    def key(self) -> ActionKey:
        name = f"{self.package}/{self.name}" if self.package else self.name
        return ActionKey(self.namespace, name, self.version, self.image, self.limits.memory_mb, self.revision,
                         self.tenant)

    @cached_property
    def revision(self) -> str:
        """A digest of what /init receives. OpenWhisk reuses a container only for
        the same document revision; a version number alone is not enough here,
        because an action deleted and created again starts at 0.0.1 with new code
        (and snapshots outlive the server)."""
        content = json.dumps([self.kind, self.image, self.code, self.main, self.binary,
                              sorted(self.init_env.items())], ensure_ascii=False)
        return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]

    @property
    def path(self) -> str:
        """``guest/hello`` or ``guest/pkg/hello``, as OpenWhisk's ``path`` annotation."""
        return f"{self.namespace}/{self.package}/{self.name}" if self.package else f"{self.namespace}/{self.name}"

    @property
    def qualified_name(self) -> str:
        """``/guest/hello``, as OpenWhisk sends ``action_name`` to /run."""
        return f"/{self.path}"


class Status(enum.IntEnum):
    """OpenWhisk's activation status codes and their API strings."""

    SUCCESS = 0
    APPLICATION_ERROR = 1
    DEVELOPER_ERROR = 2
    WHISK_ERROR = 3

    @property
    def text(self) -> str:
        return ("success", "application error", "action developer error", "whisk internal error")[self]


@dataclass(frozen=True)
class ActivationResponse:
    status: Status
    result: Any
    size: int | None = None

    @property
    def success(self) -> bool:
        return self.status is Status.SUCCESS

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status.text, "statusCode": int(self.status),
                                "success": self.success, "result": self.result}
        if self.size is not None:
            body["size"] = self.size
        return body


class StartPath(str, enum.Enum):
    COLD = "cold"
    PREWARM = "prewarm"
    WARM = "warm"
    UNPAUSE = "unpause"
    RESTORE = "restore"


@dataclass(frozen=True)
class Activation:
    """One activation record; ``to_json`` gives OpenWhisk's API view."""

    activation_id: str
    namespace: str
    name: str
    version: str
    subject: str
    start: int
    end: int
    response: ActivationResponse
    logs: tuple[str, ...]
    annotations: tuple[tuple[str, Any], ...]

    @property
    def duration(self) -> int:
        return self.end - self.start

    def annotation(self, key: str, default: Any = None) -> Any:
        for name, value in self.annotations:
            if name == key:
                return value
        return default

    @property
    def start_path(self) -> str | None:
        return self.annotation("startPath")

    def to_json(self) -> dict[str, Any]:
        return {
            "activationId": self.activation_id,
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "subject": self.subject,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "response": self.response.to_json(),
            "logs": list(self.logs),
            "annotations": [{"key": key, "value": value} for key, value in self.annotations],
            "publish": False,
        }
