"""Package documents (WhiskPackage.scala): a package groups actions and binds
parameters under theirs; a binding points at another package with its own."""

import time
from typing import Any

from . import entity_updates, messages, validation
from .config import LimitRanges
from .errors import ApiError, bad_request


def build(namespace: str, name: str, body: Any, previous: dict[str, Any] | None,
          ranges: LimitRanges) -> dict[str, Any]:
    content = validation.json_object(body, "The package")
    binding = _binding(content.get("binding"), namespace) if "binding" in content else None
    if previous is not None:
        if binding and not previous.get("binding"):
            raise ApiError(409, messages.PACKAGE_CANNOT_BECOME_BINDING)
        if binding is None:
            binding = previous.get("binding") or None
    parameters = entity_updates.parameters(content, previous, ranges)
    annotations = entity_updates.annotations(content, previous, ranges)
    publish = entity_updates.publish(content, previous)
    version = entity_updates.next_version(previous)
    return {"namespace": namespace, "name": name, "version": version, "publish": publish,
            "annotations": list(annotations.values()), "parameters": parameters,
            "binding": binding or {}, "updated": int(time.time() * 1000)}


def _binding(value: Any, namespace: str) -> dict[str, str] | None:
    if value in (None, {}):
        return None
    if (not isinstance(value, dict) or not isinstance(value.get("name"), str)
            or not isinstance(value.get("namespace", ""), str)):
        raise bad_request(messages.malformed("'binding' must be {\"namespace\": ..., \"name\": ...}."))
    validation.entity_name(value["name"])
    bound_namespace = value.get("namespace") or "_"
    return {"namespace": namespace if bound_namespace == "_" else bound_namespace, "name": value["name"]}


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: doc[key] for key in ("namespace", "name", "version", "publish", "annotations", "binding",
                                      "updated")}
