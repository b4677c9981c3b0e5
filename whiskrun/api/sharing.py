"""What a caller may see of another namespace (PackageCollection.scala): its
published packages, their actions, and nothing else. A package that is
private or missing answers the same 403, so that its existence does not leak."""

from typing import Any

from . import messages, package_docs, validation
from .catalog import PACKAGES, Catalog
from .errors import ApiError
from .store import Store


class SharedPackages:
    def __init__(self, store: Store, catalog: Catalog) -> None:
        self._store = store
        self._catalog = catalog

    def package(self, owner: str, name: str) -> dict[str, Any]:
        validation.entity_name(name)
        return self._catalog.with_contents(owner, name, self._published(owner, name))

    def list_packages(self, owner: str, *, skip: int, limit: int) -> list[dict[str, Any]]:
        # Few namespaces publish many packages: filter, then page.
        published = [d for d in self._store.entities(owner, PACKAGES, limit=10_000)
                     if d.get("publish") and not d.get("binding")]
        return [package_docs.summary(d) for d in published[skip:skip + limit]]

    def list_actions(self, owner: str, package: str, *, skip: int, limit: int) -> list[dict[str, Any]]:
        validation.entity_name(package)
        self._published(owner, package)
        return self._catalog.list_actions(owner, package=package, skip=skip, limit=limit)

    def action(self, owner: str, name: str) -> dict[str, Any]:
        return self._catalog.resolve_shared(owner, name).doc

    def _published(self, owner: str, name: str) -> dict[str, Any]:
        doc = self._store.get(owner, PACKAGES, name)
        if doc is None or not doc.get("publish") or doc.get("binding"):
            raise ApiError(403, messages.NOT_AUTHORIZED)
        return doc


