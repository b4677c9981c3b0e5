"""What actions and packages share when a PUT creates or updates them
(WhiskEntity's parameters, annotations, publish and version rules)."""

import re
from typing import Any

from . import messages, validation
from .config import LimitRanges
from .errors import bad_request

_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


def parameters(content: dict[str, Any], previous: dict[str, Any] | None,
               ranges: LimitRanges) -> list[dict[str, Any]]:
    """The given parameters (size-checked), or the previous ones when none are given."""
    if "parameters" not in content:
        return (previous or {}).get("parameters", [])
    given = validation.key_values(content["parameters"], "parameters")
    validation.check_size(validation.parameters_size(given), ranges.payload_bytes, "parameters")
    return given


def annotations(content: dict[str, Any], previous: dict[str, Any] | None,
                ranges: LimitRanges) -> dict[str, dict[str, Any]]:
    """The previous annotations minus ``delAnnotations``, with the given ones merged over
    them (size-checked), by key."""
    given = validation.key_values(content.get("annotations"), "annotations")
    validation.check_size(validation.parameters_size(given), ranges.payload_bytes, "annotations")
    removed = content.get("delAnnotations") or []
    if not isinstance(removed, list) or not all(isinstance(key, str) for key in removed):
        raise bad_request(messages.malformed("'delAnnotations' must be an array of annotation keys."))
    merged = {a["key"]: a for a in (previous or {}).get("annotations", []) if a["key"] not in removed}
    for entry in given:
        merged[entry["key"]] = entry
    return merged


def replaced_annotations(content: dict[str, Any], previous: dict[str, Any] | None,
                         ranges: LimitRanges) -> list[dict[str, Any]]:
    """Triggers and rules (Triggers.scala, Rules.scala update): the given
    annotations replace the previous ones; none given keeps them."""
    if "annotations" not in content:
        return (previous or {}).get("annotations", [])
    given = validation.key_values(content["annotations"], "annotations")
    validation.check_size(validation.parameters_size(given), ranges.payload_bytes, "annotations")
    return given


def publish(content: dict[str, Any], previous: dict[str, Any] | None) -> bool:
    value = content.get("publish", (previous or {}).get("publish", False))
    if not isinstance(value, bool):
        raise bad_request(messages.malformed(messages.expected_boolean(validation.compact_json(value))))
    return value


def version(content: dict[str, Any], previous: dict[str, Any] | None) -> str:
    """The version a PUT gives (a semantic version), else the next one."""
    if "version" in content:
        text = content["version"]
        # SemVer.scala holds each part in an Int.
        if not isinstance(text, str) or not _SEMVER.fullmatch(text) or \
                any(len(part) > 10 or int(part) > validation.INT32_MAX for part in text.split(".")):
            raise bad_request(messages.malformed(messages.SEMVER_MALFORMED))
        return content["version"]
    return next_version(previous)


def next_version(previous: dict[str, Any] | None) -> str:
    """0.0.1 for a new entity; every update bumps the patch number (SemVer.upPatch)."""
    if previous is None:
        return "0.0.1"
    major, minor, patch = (int(p) for p in previous["version"].split("."))
    return f"{major}.{minor}.{patch + 1}"
