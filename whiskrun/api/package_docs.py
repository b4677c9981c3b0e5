"""Package documents (WhiskPackage.scala): a package groups actions and binds
parameters under theirs; a binding points at another package with its own."""

import time
from typing import Any

from . import messages, validation
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
    if "parameters" in content:
        parameters = validation.key_values(content["parameters"], "parameters")
        validation.check_size(validation.parameters_size(parameters), ranges.payload_bytes, "parameters")
    else:
        parameters = (previous or {}).get("parameters", [])
    given_annotations = validation.key_values(content.get("annotations"), "annotations")
    validation.check_size(validation.parameters_size(given_annotations), ranges.payload_bytes, "annotations")
    removed = content.get("delAnnotations") or []
    annotations = {a["key"]: a for a in (previous or {}).get("annotations", []) if a["key"] not in removed}
    for entry in given_annotations:
        annotations[entry["key"]] = entry
    publish = content.get("publish", (previous or {}).get("publish", False))
    if not isinstance(publish, bool):
        raise bad_request(messages.malformed(messages.expected_boolean(validation.compact_json(publish))))
    version = "0.0.1"
    if previous is not None:
        major, minor, patch = (int(p) for p in previous["version"].split("."))
        version = f"{major}.{minor}.{patch + 1}"
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
