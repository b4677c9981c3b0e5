"""Action documents: a PUT body checked and merged into the JSON OpenWhisk
returns (WhiskAction.scala, Actions.scala), and the ActionSpec the invoker runs."""

import json
import re
import time
from typing import Any

from .. import kinds
from ..errors import UsageError
from ..invoker.records import ActionSpec, Limits
from . import entity_updates, messages, validation
from .config import LimitRanges
from .errors import bad_request

# Exec.scala: binary iff the trimmed code is base64 of length % 4 == 0.
_BASE64 = re.compile(r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)")
#: `wsk action create --native` names OpenWhisk's skeleton image; ours plays its part.
NATIVE_IMAGES = {"openwhisk/dockerskeleton", "openwhisk/dockerskeleton:latest"}



def is_binary(code: str) -> bool:
    trimmed = code.strip()
    return bool(trimmed) and len(trimmed) % 4 == 0 and _BASE64.fullmatch(trimmed) is not None


def qualify(component: Any, namespace: str) -> str:
    """``/_/a`` or ``/guest/pkg/a`` -> ``/guest/a``; anything else is malformed."""
    if not isinstance(component, str):
        raise bad_request(messages.malformed("fully qualified name malformed"))
    parts = component.strip("/").split("/") if component.startswith("/") else []
    if len(parts) not in (2, 3) or not all(parts):
        raise bad_request(messages.malformed(messages.FQN_MALFORMED))
    for part in parts[1:]:
        validation.entity_name(part)
    if parts[0] == "_":
        parts[0] = namespace
    return "/" + "/".join(parts)


def parse_exec(value: Any, namespace: str, ranges: LimitRanges) -> dict[str, Any]:
    """Exec.scala's reader: its checks in its order, with its messages."""
    if not isinstance(value, dict):
        raise bad_request(messages.malformed(messages.JSON_OBJECT_EXPECTED))
    exec_ = value
    kind = exec_.get("kind")
    if not isinstance(kind, str):
        raise bad_request(messages.malformed(messages.EXEC_KIND_MISSING))
    kind = kind.strip().lower()
    if kind == "sequence":
        if "components" not in exec_:
            raise bad_request(messages.malformed("'components' must be defined for sequence kind"))
        components = exec_["components"]
        if not isinstance(components, list):
            raise bad_request(messages.malformed("'components' must be an array"))
        return {"kind": "sequence", "components": [qualify(c, namespace) for c in components]}
    main = exec_.get("main")
    size = 0
    if kind == "blackbox":
        image = exec_.get("image")
        if not isinstance(image, str) or not image.strip():
            raise bad_request(messages.malformed(messages.exec_image_missing()))
        code = exec_.get("code")
        if code is not None and not isinstance(code, str):
            raise bad_request(messages.malformed(messages.exec_code_missing(kind)))
        code = code if code and code.strip() else None  # blank code: the image's own
        result: dict[str, Any] = {"kind": "blackbox", "image": image}
        size += len(image.encode("utf-8"))
    else:
        try:
            resolved = kinds.resolve(kind)
        except UsageError:
            raise bad_request(messages.malformed(messages.invalid_runtime(
                kind, [k.name for k in kinds.KINDS] + ["sequence"]))) from None
        code = exec_.get("code")
        if not isinstance(code, str):
            raise bad_request(messages.malformed(messages.exec_code_missing(kind)))
        result = {"kind": resolved.name}
    if main is not None and not isinstance(main, str):
        raise bad_request(messages.malformed(messages.exec_main_malformed(kind)))
    # Exec.size: the code and the entry point (and a blackbox's image).
    size += len((code or "").encode("utf-8")) + len((main or "").encode("utf-8"))
    validation.check_size(size, ranges.code_bytes, "exec")
    if code is not None:
        result["code"] = code
    if main:
        result["main"] = main
    result["binary"] = is_binary(code) if code is not None else False
    return result


def build(namespace: str, package: str, name: str, body: Any, previous: dict[str, Any] | None,
          ranges: LimitRanges) -> dict[str, Any]:
    """The document to store for a PUT: a new action, or ``previous`` updated by ``body``."""
    content = validation.json_object(body, "The action")
    owner = f"{namespace}/{package}" if package else namespace
    exec_ = parse_exec(content["exec"], namespace, ranges) if "exec" in content else None
    parameters = entity_updates.parameters(content, previous, ranges)
    annotations = entity_updates.annotations(content, previous, ranges)
    if exec_ is None:
        if previous is None:
            raise bad_request(messages.EXEC_UNDEFINED)
        exec_ = previous["exec"]
    # Actions.scala amendAnnotations: a new action gets provide-api-key false; every
    # write sets `exec` to the resolved kind (what `wsk action list` shows).
    if previous is None and "provide-api-key" not in annotations:
        annotations["provide-api-key"] = {"key": "provide-api-key", "value": False}
    annotations["exec"] = {"key": "exec", "value": exec_["kind"]}
    limits = validation.limits(content.get("limits"), ranges, (previous or {}).get("limits"))
    publish = entity_updates.publish(content, previous)
    return {
        "namespace": owner,
        "name": name,
        "version": entity_updates.version(content, previous),
        "publish": publish,
        "exec": exec_,
        "annotations": list(annotations.values()),
        "parameters": parameters,
        "limits": limits,
        "updated": int(time.time() * 1000),
    }


def without_code(doc: dict[str, Any]) -> dict[str, Any]:
    exec_ = {k: v for k, v in doc["exec"].items() if k != "code"}
    return {**doc, "exec": exec_}


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """A list entry: no code, no parameters (the entities view of OpenWhisk's database)."""
    return {key: doc[key] for key in ("namespace", "name", "version", "publish", "annotations", "limits",
                                      "updated")} | {"exec": {"binary": doc["exec"].get("binary", False)}}


def annotation(doc: dict[str, Any], key: str, default: Any = None) -> Any:
    return next((a["value"] for a in doc.get("annotations", []) if a["key"] == key), default)


def to_spec(doc: dict[str, Any]) -> ActionSpec:
    """What the invoker runs; ``init: true`` parameters go to /init as environment values."""
    exec_ = doc["exec"]
    owner, _, package = doc["namespace"].partition("/")
    if exec_["kind"] == "blackbox":
        image = exec_["image"]
        image = kinds.resolve("blackbox").image if image in NATIVE_IMAGES else image
    else:
        image = kinds.resolve(exec_["kind"]).image
    init_env = {p["key"]: p["value"] if isinstance(p["value"], str) else json.dumps(p["value"])
                for p in doc.get("parameters", []) if p.get("init")}
    limits = doc["limits"]
    # OpenWhisk accepts concurrency > 1 for every kind; only the Node.js runtime runs
    # activations side by side, so other kinds get one activation per container.
    concurrency = limits["concurrency"] if exec_["kind"].startswith("nodejs") else 1
    return ActionSpec(
        namespace=owner, package=package, name=doc["name"], kind=exec_["kind"], image=image,
        code=exec_.get("code"), main=exec_.get("main", "main"), binary=exec_.get("binary", False),
        version=doc["version"], limits=Limits(limits["timeout"], limits["memory"], limits["logs"],
                                              concurrency),
        init_env=init_env, annotations={a["key"]: a["value"] for a in doc.get("annotations", [])})
