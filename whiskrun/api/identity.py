"""Who is calling: HTTP Basic credentials checked against the namespaces' keys."""

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from . import messages
from .errors import ApiError


@dataclass(frozen=True)
class Identity:
    namespace: str
    uuid: str
    key: str

    @property
    def api_key(self) -> str:
        return f"{self.uuid}:{self.key}"


class KeyRing:
    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._by_uuid: dict[str, Identity] = {}
        for namespace, api_key in namespaces.items():
            uuid, key = api_key.split(":", 1)
            self._by_uuid[uuid] = Identity(namespace, uuid, key)

    def authenticate(self, authorization: str | None) -> Identity:
        """The identity of a ``Basic`` Authorization header; 401 otherwise."""
        if not authorization:
            raise ApiError(401, messages.AUTH_MISSING)
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":  # credentials of another scheme are rejected, not missing (pekko)
            raise ApiError(401, messages.AUTH_INVALID)
        try:
            uuid, _, key = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):  # not base64, not ASCII, not UTF-8 inside
            raise ApiError(401, messages.AUTH_INVALID) from None
        identity = self._by_uuid.get(uuid)
        if identity is None or not hmac.compare_digest(identity.key.encode(), key.encode()):
            raise ApiError(401, messages.AUTH_INVALID)
        return identity

    def by_uuid(self, uuid: str) -> Identity | None:
        return self._by_uuid.get(uuid)

    def lookup(self, namespace: str) -> Identity | None:
        return next((i for i in self._by_uuid.values() if i.namespace == namespace), None)
