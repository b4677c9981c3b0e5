"""What needs no entity: the API and controller info documents (the runtimes
manifest that wskdeploy reads), namespaces and limits."""

from typing import Any

from flask import Blueprint, Response

from .. import kinds
from .. import __version__
from .http import json_response, namespace_of
from .services import services

blueprint = Blueprint("meta", __name__)


def runtimes_manifest() -> dict[str, list[dict[str, Any]]]:
    manifest: dict[str, list[dict[str, Any]]] = {}
    for kind in kinds.KINDS:
        manifest.setdefault(kind.family, []).append({
            "kind": kind.name, "image": kind.image, "deprecated": False, "default": kind.default,
            "attached": kind.family != "blackbox", "requireMain": False})
    return manifest


@blueprint.get("/")
def controller_info() -> Response:
    ranges = services().config.limits
    return json_response({
        "description": "OpenWhisk",
        "support": {"github": "whiskrun: an OpenWhisk-compatible action runner"},
        "api_paths": ["/api/v1"],
        "limits": {
            "actions_per_minute": ranges.invocations_per_minute,
            "concurrent_actions": ranges.concurrent_invocations,
            "sequence_length": ranges.sequence_length,
            "min_action_duration": ranges.timeout_ms[0], "max_action_duration": ranges.timeout_ms[2],
            "min_action_memory": ranges.memory_mb[0] * 1024 * 1024,
            "max_action_memory": ranges.memory_mb[2] * 1024 * 1024,
            "min_action_logs": ranges.logs_mb[0] * 1024 * 1024,
            "max_action_logs": ranges.logs_mb[2] * 1024 * 1024,
        },
        "runtimes": runtimes_manifest(),
    })


@blueprint.get("/api/v1")
@blueprint.get("/api/v1/")
def api_info() -> Response:
    return json_response({"description": "OpenWhisk API", "api_version": "1.0.0", "api_version_path": "v1",
                          "build": f"whiskrun {__version__}", "buildno": __version__,
                          "swagger_paths": {}})


@blueprint.get("/api/v1/namespaces")
def list_namespaces() -> Response:
    return json_response([namespace_of("_")])


@blueprint.get("/api/v1/namespaces/<namespace>/limits")
def namespace_limits(namespace: str) -> Response:
    namespace_of(namespace)
    ranges = services().config.limits
    return json_response({
        "invocationsPerMinute": ranges.invocations_per_minute,
        "concurrentInvocations": ranges.concurrent_invocations,
        "firesPerMinute": 0,
        # Limits.scala: MemoryLimit and LogLimit write megabytes, ByteSize its toString.
        "minActionMemory": ranges.memory_mb[0], "maxActionMemory": ranges.memory_mb[2],
        "minActionLogs": ranges.logs_mb[0], "maxActionLogs": ranges.logs_mb[2],
        "minActionTimeout": ranges.timeout_ms[0], "maxActionTimeout": ranges.timeout_ms[2],
        "minActionConcurrency": ranges.concurrency[0], "maxActionConcurrency": ranges.concurrency[2],
        "maxParameterSize": f"{ranges.payload_bytes} B",
        "maxActionInstances": ranges.concurrent_invocations,
    })
