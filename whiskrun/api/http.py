"""Request and response helpers shared by the routes: JSON bodies, error
bodies with a transaction id, the caller's identity and namespace."""

import json
import secrets
from typing import Any

from flask import Response, g, request

from . import messages, validation
from .errors import ApiError
from .identity import Identity
from .services import services

ACTIVATION_ID_HEADER = "x-openwhisk-activation-id"


def transaction_id() -> str:
    if "transaction_id" not in g:
        g.transaction_id = secrets.token_hex(16)
    return g.transaction_id


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    mimetype="application/json")


def error_response(status: int, message: str) -> Response:
    """OpenWhisk's ErrorResponse: `wsk` treats a body without both fields as a connection failure."""
    return json_response({"error": message, "code": transaction_id()}, status)


def identity() -> Identity:
    if "identity" not in g:
        g.identity = services().keys.authenticate(request.headers.get("Authorization"))
    return g.identity


def namespace_of(segment: str) -> str:
    """``_`` is the caller's namespace; another namespace is not the caller's to see."""
    caller = identity()
    if segment == "_" or segment == caller.namespace:
        return caller.namespace
    if not segment or "/" in segment:
        raise ApiError(400, messages.NAMESPACE_ILLEGAL)
    raise ApiError(403, messages.NOT_AUTHORIZED)


def readable_namespace(segment: str) -> tuple[str, bool]:
    """The namespace a read names and whether it is the caller's own. Another
    namespace is readable only through its published packages (the catalog
    checks that); a segment that is no namespace name is a 400."""
    caller = identity()
    if segment == "_" or segment == caller.namespace:
        return caller.namespace, True
    if not segment or "/" in segment or not validation.namespace_name(segment):
        raise ApiError(400, messages.NAMESPACE_ILLEGAL)
    return segment, False


def body_json(limit: int | None = None, *, default: Any = None) -> Any:
    """The request's JSON body (``default`` when empty); 413 above ``limit`` bytes."""
    data = request.get_data(cache=True)
    if limit is not None:
        validation.check_size(len(data), limit)
    if not data.strip():
        return default
    return validation.parse_json(data)

