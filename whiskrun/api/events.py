"""Triggers and rules of each namespace: create, update, get, list, delete,
and a rule's status (Triggers.scala, Rules.scala). Names share one space per
namespace with actions and packages: a name taken by another kind is a 409."""

from typing import Any

from . import messages, rule_docs, trigger_docs, validation
from .catalog import Catalog, missing
from .config import LimitRanges
from .errors import ApiError, bad_request, not_found
from .store import Store

TRIGGERS = "triggers"
RULES = "rules"


class EventCatalog:
    def __init__(self, store: Store, catalog: Catalog, ranges: LimitRanges) -> None:
        self._store = store
        self._catalog = catalog
        self._ranges = ranges

    # Triggers.

    def put_trigger(self, namespace: str, name: str, body: Any, *, overwrite: bool) -> dict[str, Any]:
        validation.entity_name(name)
        with self._store.transaction() as store:
            previous = self._existing(namespace, TRIGGERS, name, overwrite)
            doc = trigger_docs.build(namespace, name, body, previous, self._ranges)
            store.put(namespace, TRIGGERS, name, doc)
        return doc

    def get_trigger(self, namespace: str, name: str) -> dict[str, Any]:
        return self._get(namespace, TRIGGERS, name)

    def delete_trigger(self, namespace: str, name: str) -> dict[str, Any]:
        """The deleted trigger, with its rules map; the rules stay, inactive."""
        with self._store.transaction() as store:
            doc = self._get(namespace, TRIGGERS, name)
            store.delete(namespace, TRIGGERS, name)
        return doc

    def list_triggers(self, namespace: str, *, skip: int, limit: int) -> list[dict[str, Any]]:
        return [trigger_docs.summary(d) for d in self._store.entities(namespace, TRIGGERS, skip=skip, limit=limit)]

    def count(self, namespace: str, collection: str, *, skip: int) -> int:
        return max(0, self._store.count(namespace, collection) - skip)

    # Rules.

    def put_rule(self, namespace: str, name: str, body: Any, *, overwrite: bool) -> dict[str, Any]:
        """Create (linked active into its trigger) or update (the link moves with
        the trigger, its status stays) a rule; the rule with its status."""
        validation.entity_name(name)
        rule_id = f"{namespace}/{name}"
        with self._store.transaction() as store:
            previous = self._existing(namespace, RULES, name, overwrite)
            doc = rule_docs.build(namespace, name, body, previous, self._ranges)
            trigger = self._trigger_of(namespace, doc["trigger"])
            if trigger is None:
                raise bad_request(messages.entity_does_not_exist("trigger", rule_docs.qualified(doc["trigger"])))
            if not self._action_exists(namespace, doc["action"]):
                raise bad_request(messages.entity_does_not_exist("action", rule_docs.qualified(doc["action"])))
            status = trigger_docs.ACTIVE
            if previous is not None:
                old_trigger = self._trigger_of(namespace, previous["trigger"])
                status = trigger_docs.rule_status(old_trigger, rule_id)
                if old_trigger is not None and old_trigger["name"] != trigger["name"]:
                    store.put(namespace, TRIGGERS, old_trigger["name"], trigger_docs.unlink_rule(old_trigger, rule_id))
            store.put(namespace, TRIGGERS, trigger["name"],
                      trigger_docs.link_rule(trigger, rule_id, doc["action"], status))
            store.put(namespace, RULES, name, doc)
        return rule_docs.with_status(doc, status)

    def get_rule(self, namespace: str, name: str) -> dict[str, Any]:
        doc = self._get(namespace, RULES, name)
        trigger = self._trigger_of(namespace, doc["trigger"])
        return rule_docs.with_status(doc, trigger_docs.rule_status(trigger, f"{namespace}/{name}"))

    def set_rule_state(self, namespace: str, name: str, state: str) -> None:
        """Enable or disable a rule; asking for the state it is in changes nothing."""
        rule_id = f"{namespace}/{name}"
        with self._store.transaction() as store:
            doc = self._get(namespace, RULES, name)
            trigger = self._trigger_of(namespace, doc["trigger"])
            if trigger_docs.rule_status(trigger, rule_id) == state:
                return
            if trigger is None:
                raise not_found(messages.RULE_NEEDS_EXISTING_TRIGGER)
            # A rule missing from its trigger's map (the trigger was made again) is linked anew.
            store.put(namespace, TRIGGERS, trigger["name"], trigger_docs.link_rule(trigger, rule_id, doc["action"], state))

    def delete_rule(self, namespace: str, name: str) -> dict[str, Any]:
        """The deleted rule (inactive); its link leaves the trigger, if the trigger is still there."""
        with self._store.transaction() as store:
            doc = self._get(namespace, RULES, name)
            trigger = self._trigger_of(namespace, doc["trigger"])
            if trigger is not None:
                store.put(namespace, TRIGGERS, trigger["name"], trigger_docs.unlink_rule(trigger, f"{namespace}/{name}"))
            store.delete(namespace, RULES, name)
        return rule_docs.with_status(doc, trigger_docs.INACTIVE)

    def list_rules(self, namespace: str, *, skip: int, limit: int) -> list[dict[str, Any]]:
        """Full rules without their status (Rules.scala lists documents; wsk GETs each for it)."""
        return self._store.entities(namespace, RULES, skip=skip, limit=limit)

    # Shared.

    def _existing(self, namespace: str, collection: str, name: str, overwrite: bool) -> dict[str, Any] | None:
        """The entity a PUT replaces (None for a new one); 409 where it may not."""
        previous = self._store.get(namespace, collection, name)
        if previous is not None and not overwrite:
            raise ApiError(409, messages.RESOURCE_EXISTS)
        if previous is None and self._store.collection_of(namespace, name) is not None:
            raise ApiError(409, messages.NOT_IN_COLLECTION)
        return previous

    def _get(self, namespace: str, collection: str, name: str) -> dict[str, Any]:
        validation.entity_name(name)
        doc = self._store.get(namespace, collection, name)
        if doc is None:
            raise missing(self._store, namespace, name)
        return doc

    def _trigger_of(self, namespace: str, ref: dict[str, str]) -> dict[str, Any] | None:
        """The trigger a rule names, if it is this namespace's and exists (a key sees only its own)."""
        if ref["path"] != namespace:
            return None
        return self._store.get(namespace, TRIGGERS, ref["name"])

    def _action_exists(self, namespace: str, ref: dict[str, str]) -> bool:
        try:
            self._catalog.resolve_reference(namespace, ref)
        except ApiError:
            return False
        return True
