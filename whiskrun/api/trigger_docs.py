"""Trigger documents (WhiskTrigger.scala): a named event with parameters,
and the map of the rules that link it to actions, which is where each rule's
status lives."""

import time
from typing import Any

from . import entity_updates, messages, validation
from .config import LimitRanges
from .errors import bad_request

#: The annotation that names a trigger's feed action (Parameters.Feed).
FEED = "feed"


def build(namespace: str, name: str, body: Any, previous: dict[str, Any] | None,
          ranges: LimitRanges) -> dict[str, Any]:
    """A new trigger from a PUT's content, or ``previous`` updated by it: absent
    fields keep their old values, the version goes up, the rules map stays."""
    content = validation.json_object(body, "The trigger")
    parameters = entity_updates.parameters(content, previous, ranges)
    annotations = entity_updates.replaced_annotations(content, previous, ranges)
    publish = entity_updates.publish(content, previous)
    if not isinstance(content.get("limits", {}), dict):  # TriggerLimits has no fields: {} is all there is
        raise bad_request(messages.malformed("'limits' must be a JSON object."))
    doc: dict[str, Any] = {
        "namespace": namespace, "name": name, "parameters": parameters, "limits": {},
        "version": entity_updates.version(content, previous), "publish": publish,
        "annotations": annotations,
    }
    if previous is not None and "rules" in previous:
        doc["rules"] = previous["rules"]
    elif previous is None:
        _check_feed(next((a for a in annotations if a["key"] == FEED), None))  # on create only, as upstream
    doc["updated"] = int(time.time() * 1000)
    return doc


def _check_feed(annotation: dict[str, Any] | None) -> None:
    """A feed must name an entity: ``name``, ``ns/name`` or ``ns/pkg/name``, with or
    without a leading slash (EntityPath.validate)."""
    if annotation is None:
        return
    value = annotation["value"]
    parts = value.strip("/").split("/") if isinstance(value, str) else []
    if not parts or len(parts) > 3 or not all(_valid_name(part) for part in parts):
        raise bad_request(messages.FEED_NAME_INVALID)


def _valid_name(part: str) -> bool:
    try:
        validation.entity_name(part)
    except Exception:  # noqa: BLE001 - an ApiError: not a name
        return False
    return True


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """A list entry (the CouchDB view): no parameters, limits or rules."""
    return {key: doc[key] for key in ("namespace", "name", "version", "publish", "annotations", "updated")}


def link_rule(doc: dict[str, Any], rule: str, action: dict[str, str], status: str) -> dict[str, Any]:
    """``doc`` with rule ``ns/name`` linked to ``action`` in ``status`` (the map keeps its order)."""
    rules = {key: value for key, value in doc.get("rules", {}).items() if key != rule}
    rules[rule] = {"action": action, "status": status}
    return {**doc, "rules": rules}


def unlink_rule(doc: dict[str, Any], rule: str) -> dict[str, Any]:
    if "rules" not in doc:
        return doc
    return {**doc, "rules": {key: value for key, value in doc["rules"].items() if key != rule}}


def rule_status(doc: dict[str, Any] | None, rule: str) -> str:
    """The rule's status as its trigger records it; inactive if the trigger or the link is gone."""
    link = (doc or {}).get("rules", {}).get(rule)
    return link["status"] if link else INACTIVE


ACTIVE = "active"
INACTIVE = "inactive"
