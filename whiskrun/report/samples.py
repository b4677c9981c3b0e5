"""The unit every report is built from: one measured sample of one start path
(or raw primitive) of one action, from a bench run or from a server's
activation records."""

from dataclasses import asdict, dataclass, field
from typing import Any

#: Start paths through the invoker, in the order reports show them.
START_PATHS = ("cold", "prewarm", "restore", "unpause", "warm")
#: The steps of a restore, in order (the invoker's `restore.*` phases): getting a sandbox,
#: mounting the clone's root, then CRIU's wall time split by its own statistics (forking
#: the tree; the rest of its restore timer: mounts, files, memory; the rest: exec,
#: loading images, resuming the tasks, exit), and the clone's first accept.
#: `restore.runc` is the whole restore on the runc engine, `restore` that of older runs.
RESTORE_STEPS = ("restore.sandbox", "restore.mount", "restore.criu.fork", "restore.criu.tasks",
                 "restore.criu.other", "restore.criu", "restore.runc", "restore", "restore.listen")
#: Phases, in the order they happen: the invoker's `phases` annotation (`wait`: a joiner
#: waiting for the container it shares; `hook`: the after-restore hook) and the raw
#: primitives' (`resume`; `refill.cpu`: the invoker's CPU for a restore sandbox it made).
PHASES = ("queue", "wait", "create", "start", "unpause", "resume", *RESTORE_STEPS, "hook", "init", "run",
          "logs", "refill.cpu")


@dataclass(frozen=True)
class Sample:
    action: str  # e.g. "python echo", or the path annotation guest/hello for server records
    runtime: str  # the kind, e.g. python:3.11
    path: str  # a start path, or a raw primitive such as "raw docker run"
    total_ms: float | None  # None when it failed
    phases: dict[str, float] = field(default_factory=dict)
    success: bool = True
    error: str = ""
    round: int = 0  # the bench round, so that drift can be seen

    @property
    def is_primitive(self) -> bool:
        return self.path not in START_PATHS

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Sample":
        return cls(action=str(data["action"]), runtime=str(data["runtime"]), path=str(data["path"]),
                   total_ms=None if data.get("total_ms") is None else float(data["total_ms"]),
                   phases={str(k): float(v) for k, v in (data.get("phases") or {}).items()},
                   success=bool(data.get("success", True)), error=str(data.get("error", "")),
                   round=int(data.get("round", 0)))


def from_activation(record: dict[str, Any]) -> Sample | None:
    """A sample of an activation record as the API returns it (None for records without
    whiskrun's start path: sequences, platform failures before a container was chosen).
    Its time runs from the invoker receiving the request to the result: waitTime + duration."""
    annotations = {a["key"]: a["value"] for a in record.get("annotations", []) if isinstance(a, dict)}
    start_path = annotations.get("startPath")
    if start_path is None:
        return None
    response = record.get("response") or {}
    success = bool(response.get("success", record.get("statusCode", 1) == 0))
    total = float(annotations.get("waitTime", 0)) + float(record.get("duration", 0))
    error = ""
    if not success:
        result = response.get("result")
        error = str(result.get("error", "")) if isinstance(result, dict) else response.get("status", "failed")
    return Sample(action=str(annotations.get("path", f"{record.get('namespace')}/{record.get('name')}")),
                  runtime=str(annotations.get("kind", "")), path=str(start_path),
                  total_ms=total if success else None,
                  phases={k: float(v) for k, v in (annotations.get("phases") or {}).items()},
                  success=success, error=error)
