"""Firing a trigger (Triggers.scala activate): each active rule's action is
started, non-blocking, as the caller; the trigger's own activation record
says which rule started what, one JSON line per rule in its logs."""

import json
import time
from collections.abc import Mapping
from typing import Any

from ..invoker.invoker import new_activation_id
from . import messages, rule_docs, trigger_docs, validation
from .activator import Activator
from .catalog import Catalog
from .errors import ApiError
from .identity import Identity
from .store import Store

#: What OpenWhisk 2.0 passes a rule's action besides the trigger's parameters and the payload.
HEADERS_PARAMETER = "__ow_headers"
#: Status codes of a rule's line in a trigger record (ActivationResponse).
_SUCCESS, _APPLICATION_ERROR, _WHISK_ERROR = 0, 1, 3


class TriggerFirer:
    def __init__(self, activator: Activator, catalog: Catalog, store: Store) -> None:
        self._activator = activator
        self._catalog = catalog
        self._store = store

    def fire(self, caller: Identity, trigger: dict[str, Any], payload: dict[str, Any] | None,
             headers: Mapping[str, str]) -> str | None:
        """The trigger activation's id, or None when no rule of the trigger is
        active (then nothing runs and no record is made, as upstream: 204)."""
        links: dict[str, dict[str, Any]] = trigger.get("rules", {})
        if not any(link["status"] == trigger_docs.ACTIVE for link in links.values()):
            return None
        activation_id, started = new_activation_id(), int(time.time() * 1000)
        # Trigger parameters < {"__ow_headers": ...} < the payload (Triggers.scala mergedPayload).
        arguments = {**validation.as_map(trigger.get("parameters", [])), HEADERS_PARAMETER: dict(headers),
                     **(payload or {})}
        lines = [self._run_rule(caller, rule, link, arguments) for rule, link in links.items()]
        self._store.add_activation({
            "activationId": activation_id, "namespace": caller.namespace, "name": trigger["name"],
            "version": trigger["version"], "subject": caller.namespace, "start": started,
            # No end: a trigger activation has no duration (its record's `end` is the epoch upstream).
            "end": 0,
            "response": {"status": "success", "statusCode": 0, "success": True, "result": payload or {}},
            "logs": [json.dumps(line, separators=(",", ":"), ensure_ascii=False) for line in lines],
            "annotations": [], "publish": False,
        })
        return activation_id

    def _run_rule(self, caller: Identity, rule: str, link: dict[str, Any],
                  arguments: dict[str, Any]) -> dict[str, Any]:
        """One line of the trigger record, keys in the order upstream prints them."""
        action = rule_docs.qualified(link["action"])
        if link["status"] != trigger_docs.ACTIVE:
            return _failed(_APPLICATION_ERROR, messages.rule_inactive(rule, action), rule, action)
        try:
            target = self._catalog.resolve_reference(caller.namespace, link["action"])
            pending = self._activator.start(caller, target, arguments)
        except ApiError as refused:  # a deleted action, a throttle, a final parameter
            return _failed(_WHISK_ERROR if refused.status >= 500 else _APPLICATION_ERROR, refused.message,
                           rule, action)
        return {"statusCode": _SUCCESS, "success": True, "activationId": pending.activation_id,
                "rule": rule, "action": action}


def _failed(code: int, error: str, rule: str, action: str) -> dict[str, Any]:
    return {"statusCode": code, "success": False, "error": error, "rule": rule, "action": action}
