"""Rule documents (WhiskRule.scala): a rule links one trigger to one action.
Its status is not in the rule but in the trigger's rules map
(trigger_docs); the API adds it to the rule it answers with."""

import time
from typing import Any

from . import entity_updates, messages, validation
from .config import LimitRanges
from .errors import ApiError, bad_request


def reference(value: Any, namespace: str) -> dict[str, str]:
    """A rule's ``trigger`` or ``action``: ``/ns/name``, ``ns/pkg/name`` (``_`` for
    the rule's own namespace) or ``{"path": ..., "name": ...}``, as ``{path, name}``."""
    if isinstance(value, dict):
        path, name = value.get("path"), value.get("name")
        if not isinstance(path, str) or not isinstance(name, str):
            raise bad_request(messages.malformed(messages.FQN_MALFORMED))
        parts = [*path.strip("/").split("/"), name]
    elif isinstance(value, str):
        parts = value.strip("/").split("/")
    else:
        raise bad_request(messages.malformed(messages.FQN_MALFORMED))
    if len(parts) < 2 or len(parts) > 3 or not all(parts):
        raise bad_request(messages.malformed(messages.FQN_MALFORMED))
    for part in parts:
        validation.entity_name(part)
    if parts[0] == "_":
        parts[0] = namespace
    return {"path": "/".join(parts[:-1]), "name": parts[-1]}


def qualified(ref: dict[str, str]) -> str:
    """``guest/t`` or ``guest/pkg/a``: how trigger records and rule links name them."""
    return f"{ref['path']}/{ref['name']}"


def build(namespace: str, name: str, body: Any, previous: dict[str, Any] | None,
          ranges: LimitRanges) -> dict[str, Any]:
    """A new rule from a PUT's content, or ``previous`` updated by it. ``status``
    in the content is ignored (wsk sends ``"status": ""``)."""
    content = validation.json_object(body, "The rule")
    given = {field: reference(content[field], namespace) for field in ("trigger", "action")
             if content.get(field) not in (None, "")}
    if previous is None and len(given) < 2:
        raise bad_request(messages.RULE_NEEDS_TRIGGER_AND_ACTION)
    return {
        "namespace": namespace, "name": name,
        "version": entity_updates.version(content, previous),
        "publish": entity_updates.publish(content, previous),
        "annotations": entity_updates.replaced_annotations(content, previous, ranges),
        "trigger": given.get("trigger") or previous["trigger"],  # type: ignore[index]
        "action": given.get("action") or previous["action"],  # type: ignore[index]
        "updated": int(time.time() * 1000),
    }


def with_status(doc: dict[str, Any], status: str) -> dict[str, Any]:
    """The rule as the API answers with it (WhiskRuleResponse's field order)."""
    return {"namespace": doc["namespace"], "name": doc["name"], "version": doc["version"],
            "publish": doc["publish"], "annotations": doc["annotations"], "status": status,
            "trigger": doc["trigger"], "action": doc["action"], "updated": doc["updated"]}


def requested_state(body: Any) -> str:
    """The body of ``POST /rules/{name}``: ``{"status": "active" | "inactive"}``."""
    if not isinstance(body, dict):
        raise ApiError(400, messages.malformed(
            f"The body must be {{\"status\": \"active\"}} or {{\"status\": \"inactive\"}}, not "
            f"{validation.compact_json(body)}."))
    if "status" not in body:
        raise ApiError(400, messages.malformed("key not found: status"))
    status = body["status"]
    if status not in ("active", "inactive"):
        shown = status if isinstance(status, str) else validation.compact_json(status)
        raise ApiError(400, messages.malformed(messages.rule_state_unrecognized(shown)))
    return status
