"""Actions and packages of each namespace: create, update, get, list, delete,
and resolve a name to something runnable, on top of the store."""

import threading
from dataclasses import dataclass
from typing import Any

from . import action_docs, messages, package_docs, validation
from .config import LimitRanges
from .errors import ApiError, bad_request, not_found
from .store import Store

ACTIONS = "actions"
PACKAGES = "packages"


@dataclass(frozen=True)
class Resolved:
    """An action found by name, with every parameter bound above it merged in
    (package < binding < action, as OpenWhisk's resolveActionAndMergeParameters)."""

    doc: dict[str, Any]
    parameters: dict[str, Any]
    final_keys: frozenset[str]  # keys a caller may not override (the `final` annotation)
    binding: str | None = None  # "ns/binding" when reached through a package binding

    @property
    def is_sequence(self) -> bool:
        return self.doc["exec"]["kind"] == "sequence"

    @property
    def path(self) -> str:
        return f"{self.doc['namespace']}/{self.doc['name']}"


def split_action_name(name: str) -> tuple[str, str]:
    """``pkg/action`` -> ("pkg", "action"); ``action`` -> ("", "action"), names checked."""
    parts = name.split("/")
    if len(parts) > 2 or not all(parts):
        raise not_found()
    for part in parts:
        validation.entity_name(part)
    return (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])


def missing(store: Store, namespace: str, name: str) -> ApiError:
    """Why ``name`` is not found: 409 when another kind of entity holds the name
    (one name space per namespace), else 404."""
    if store.collection_of(namespace, name) is not None:
        return ApiError(409, messages.NOT_IN_COLLECTION)
    return not_found()


class Catalog:
    def __init__(self, store: Store, ranges: LimitRanges) -> None:
        self._store = store
        self._ranges = ranges
        # Invokes resolve the same names again and again: the cache saves a SQLite read and a
        # JSON parse of the action (code included) per invoke, and hands out the same doc
        # object until the action changes, so the activator makes its ActionSpec (and code
        # digest) once per revision. Every write empties it and bumps the generation, so that
        # a read that raced a write is not cached.
        self._cache: dict[tuple[str, str], Resolved] = {}
        self._generation = 0
        self._cache_lock = threading.Lock()

    def _changed(self) -> None:
        with self._cache_lock:
            self._generation += 1
            self._cache.clear()

    # Actions.

    def put_action(self, namespace: str, name: str, body: Any, *, overwrite: bool) -> dict[str, Any]:
        package, simple = split_action_name(name)
        with self._store.transaction() as store:
            if package:
                owner = store.get(namespace, PACKAGES, package)
                if owner is None:
                    raise not_found()
                if owner.get("binding"):
                    raise bad_request(messages.NOT_ALLOWED_ON_BINDING)
            previous = store.get(namespace, ACTIONS, name)
            if previous is not None and not overwrite:
                raise ApiError(409, messages.RESOURCE_EXISTS)
            # One name space per namespace: packages, triggers and rules take names too.
            if previous is None and not package and store.collection_of(namespace, name) not in (None, ACTIONS):
                raise ApiError(409, messages.NOT_IN_COLLECTION)
            doc = action_docs.build(namespace, package, simple, body, previous, self._ranges)
            if doc["exec"]["kind"] == "sequence":
                self._check_sequence(namespace, f"/{namespace}/{name}", doc["exec"]["components"])
            store.put(namespace, ACTIONS, name, doc)
            self._changed()
        return doc

    def _check_sequence(self, namespace: str, itself: str, components: list[str]) -> None:
        """Actions.scala checkSequenceActionLimits: not empty, no cycle, components exist,
        at most `sequence_length` atomic actions once nested sequences are inlined."""
        if not components:
            raise bad_request(messages.SEQUENCE_NO_COMPONENT)
        if len(components) > self._ranges.sequence_length:
            raise bad_request(messages.SEQUENCE_TOO_LONG)
        count = self._count_atomic(namespace, itself, components, depth=0)
        if count > self._ranges.sequence_length:
            raise bad_request(messages.SEQUENCE_TOO_LONG)

    def _count_atomic(self, namespace: str, itself: str, components: list[str], depth: int) -> int:
        total = 0
        for component in components:
            if component == itself:
                raise bad_request(messages.SEQUENCE_CYCLIC)
            try:
                resolved = self.resolve_qualified(namespace, component)
            except ApiError:
                raise bad_request(messages.SEQUENCE_COMPONENT_NOT_FOUND) from None
            if f"/{resolved.path}" == itself:  # the same action reached through a binding
                raise bad_request(messages.SEQUENCE_CYCLIC)
            if resolved.is_sequence:
                if depth > self._ranges.sequence_length:
                    raise bad_request(messages.SEQUENCE_TOO_LONG)
                total += self._count_atomic(namespace, itself, resolved.doc["exec"]["components"], depth + 1)
            else:
                total += 1
            if total > self._ranges.sequence_length:
                raise bad_request(messages.SEQUENCE_TOO_LONG)
        return total

    def get_action(self, namespace: str, name: str) -> dict[str, Any]:
        split_action_name(name)
        doc = self._store.get(namespace, ACTIONS, name)
        if doc is None:
            raise missing(self._store, namespace, name)
        return doc

    def delete_action(self, namespace: str, name: str) -> dict[str, Any]:
        with self._store.transaction() as store:
            doc = self.get_action(namespace, name)
            store.delete(namespace, ACTIONS, name)
            self._changed()
        return doc

    def list_actions(self, namespace: str, *, package: str | None, skip: int, limit: int) -> list[dict[str, Any]]:
        prefix = f"{package}/" if package else None
        if package:
            pkg = self._store.get(namespace, PACKAGES, package)
            if pkg is None:
                raise not_found()
            if pkg.get("binding"):  # a binding lists the bound package's actions
                prefix = f"{pkg['binding']['name']}/"
                namespace = pkg["binding"]["namespace"]
        return [action_docs.summary(d) for d in self._store.entities(namespace, ACTIONS, prefix=prefix,
                                                                  skip=skip, limit=limit)]

    def count_actions(self, namespace: str, *, package: str | None = None, skip: int = 0) -> int:
        """How many actions (of one package, or of the package a binding names), past `skip`."""
        prefix = None
        if package:
            pkg = self._store.get(namespace, PACKAGES, package)
            if pkg is None:
                raise not_found()
            if pkg.get("binding"):
                namespace, package = pkg["binding"]["namespace"], pkg["binding"]["name"]
            prefix = f"{package}/"
        return max(0, self._store.count(namespace, ACTIONS, prefix=prefix) - skip)

    def resolve(self, namespace: str, name: str) -> Resolved:
        """An action of `namespace` by ``action`` or ``pkg/action`` (through a binding too)."""
        cached = self._cache.get((namespace, name))
        if cached is not None:
            return cached
        generation = self._generation
        resolved = self._resolve(namespace, name)
        with self._cache_lock:
            if generation == self._generation:
                self._cache[(namespace, name)] = resolved
        return resolved

    def _resolve(self, namespace: str, name: str) -> Resolved:
        package, simple = split_action_name(name)
        if not package:
            return self._resolved(self.get_action(namespace, simple), [], None)
        pkg = self._store.get(namespace, PACKAGES, package)
        if pkg is None:
            raise not_found()
        layers = [pkg]
        binding = None
        if pkg.get("binding"):
            bound = pkg["binding"]
            target = self._store.get(bound["namespace"], PACKAGES, bound["name"])
            if target is None or (bound["namespace"] != namespace and not target.get("publish")):
                raise not_found()
            binding = f"{namespace}/{package}"
            layers = [target, pkg]  # package params under the binding's
            namespace, package = bound["namespace"], bound["name"]
        doc = self._store.get(namespace, ACTIONS, f"{package}/{simple}")
        if doc is None:
            raise not_found()
        return self._resolved(doc, layers, binding)

    def resolve_qualified(self, namespace: str, qualified: str) -> Resolved:
        """``/ns/[pkg/]name`` as sequences store their components; another
        namespace's action only in a published package."""
        owner, _, rest = qualified.lstrip("/").partition("/")
        if owner != namespace:
            return self.resolve_shared(owner, rest)
        return self.resolve(namespace, rest)

    def resolve_reference(self, namespace: str, ref: dict[str, str]) -> Resolved:
        """The action a rule names (``{"path": "ns" or "ns/pkg", "name": ...}``),
        for a rule of ``namespace``: only that namespace's own (404 otherwise)."""
        root, _, package = ref["path"].partition("/")
        if root != namespace:
            raise not_found()
        return self.resolve(namespace, f"{package}/{ref['name']}" if package else ref["name"])

    def resolve_shared(self, owner: str, name: str) -> Resolved:
        """An action of another namespace, for a caller who does not own it: only
        ``pkg/action`` of a published package (not a binding) is there to see;
        anything else is 403 whether it exists or not, so that nothing leaks."""
        parts = name.split("/")
        if len(parts) != 2 or not all(parts):
            raise ApiError(403, messages.NOT_AUTHORIZED)
        package = self._store.get(owner, PACKAGES, parts[0])
        if package is None or not package.get("publish") or package.get("binding"):
            raise ApiError(403, messages.NOT_AUTHORIZED)
        return self.resolve(owner, name)

    @staticmethod
    def _resolved(doc: dict[str, Any], layers: list[dict[str, Any]], binding: str | None) -> Resolved:
        parameters: dict[str, Any] = {}
        for layer in [*layers, doc]:
            parameters.update(validation.as_map([p for p in layer.get("parameters", []) if not p.get("init")]))
        final = bool(action_docs.annotation(doc, "final", False))
        return Resolved(doc, parameters, frozenset(parameters) if final else frozenset(), binding)

    # Packages.

    def put_package(self, namespace: str, name: str, body: Any, *, overwrite: bool) -> dict[str, Any]:
        validation.entity_name(name)
        if name == "default":  # web action URLs name actions outside a package with it
            raise bad_request(f"Package name '{name}' is reserved.")
        with self._store.transaction() as store:
            previous = store.get(namespace, PACKAGES, name)
            if previous is not None and not overwrite:
                raise ApiError(409, messages.RESOURCE_EXISTS)
            if previous is None and store.collection_of(namespace, name) not in (None, PACKAGES):
                raise ApiError(409, messages.NOT_IN_COLLECTION)
            doc = package_docs.build(namespace, name, body, previous, self._ranges)
            binding = doc.get("binding")
            if binding:
                target = store.get(binding["namespace"], PACKAGES, binding["name"])
                # Another namespace's package only when it is published (and then its
                # existence is all a binding reveals).
                if target is None or (binding["namespace"] != namespace and not target.get("publish")):
                    raise bad_request(messages.BINDING_DOES_NOT_EXIST)
                if target.get("binding"):
                    raise bad_request(messages.BINDING_CANNOT_REFERENCE_BINDING)
            store.put(namespace, PACKAGES, name, doc)
            self._changed()
        return doc

    def get_package(self, namespace: str, name: str) -> dict[str, Any]:
        validation.entity_name(name)
        doc = self._store.get(namespace, PACKAGES, name)
        if doc is None:
            raise missing(self._store, namespace, name)
        return self.with_contents(namespace, name, doc)

    def with_contents(self, namespace: str, name: str, doc: dict[str, Any]) -> dict[str, Any]:
        """A package as GET answers it: its (or its binding's package's) actions, the
        feed actions apart under ``feeds`` (Packages.scala)."""
        source = doc["binding"] if doc.get("binding") else {"namespace": namespace, "name": name}
        actions = self._store.entities(source["namespace"], ACTIONS, prefix=f"{source['name']}/", limit=10_000)
        entries = [({"name": a["name"], "version": a["version"], "annotations": a["annotations"]},
                    bool(action_docs.annotation(a, "feed", False))) for a in actions]
        return {**doc, "actions": [entry for entry, feed in entries if not feed],
                "feeds": [entry for entry, feed in entries if feed]}

    def delete_package(self, namespace: str, name: str, *, force: bool = False) -> dict[str, Any]:
        with self._store.transaction() as store:
            doc = self.get_package(namespace, name)
            contents = doc["actions"] + doc["feeds"]
            if contents and not doc.get("binding") and force:  # Packages.scala: force deletes them
                for action in contents:
                    store.delete(namespace, ACTIONS, f"{name}/{action['name']}")
            elif contents and not doc.get("binding"):
                count = len(contents)
                raise ApiError(409, f"Package not empty (contains {count} "
                                    f"{'entity' if count == 1 else 'entities'}). Set force param or "
                                    "delete package contents.")
            store.delete(namespace, PACKAGES, name)
            self._changed()
        return {k: v for k, v in doc.items() if k not in ("actions", "feeds")}

    def list_packages(self, namespace: str, *, skip: int, limit: int) -> list[dict[str, Any]]:
        return [package_docs.summary(d) for d in self._store.entities(namespace, PACKAGES, skip=skip, limit=limit)]
