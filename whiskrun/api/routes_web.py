"""``/api/v1/web/{namespace}/{package or default}/{action}.{ext}``: web actions,
answered without a key unless the action asks for one."""

import concurrent.futures
import dataclasses
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from . import action_docs, messages, system_catalog, validation, webactions
from .catalog import Resolved
from .errors import ApiError, not_found
from .http import error_response
from .identity import Identity
from .services import services

blueprint = Blueprint("web", __name__, url_prefix="/api/v1/web")
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


@blueprint.route("/<namespace>/<package>/<path:rest>", methods=_METHODS)
def web_action(namespace: str, package: str, rest: str) -> Response:
    svc = services()
    action_part, _, extra_path = rest.partition("/")
    name, extension = webactions.split_extension(action_part)
    validation.entity_name(name)
    owner = svc.keys.lookup(namespace) or (system_catalog.IDENTITY if namespace == system_catalog.NAMESPACE else None)
    if owner is None:
        raise not_found()
    target = svc.catalog.resolve(owner.namespace, name if package == "default" else f"{package}/{name}")
    return serve(owner, target, extension, extra_path, request.headers.get("X-Require-Whisk-Auth"))


def serve(owner: Identity, target: Resolved, extension: str, extra_path: str, secret: str | None) -> Response:
    """Answer the current request with the web action ``target`` of ``owner``;
    ``secret`` is the X-Require-Whisk-Auth value it came with (the API gateway
    adds a route's own)."""
    annotation = lambda key, default=None: action_docs.annotation(target.doc, key, default)  # noqa: E731
    if not annotation("web-export", False):
        raise not_found()
    # Once the action is found, every answer (refusals too) carries the default CORS headers,
    # unless the action answers them itself (web-custom-options).
    cors = {} if annotation("web-custom-options", False) else _cors()
    if request.method == "OPTIONS" and cors:
        return Response(b"", 200, headers=cors)
    try:
        answer = _activate(owner, target, extension, extra_path, annotation, secret)
    except ApiError as exc:
        answer = error_response(exc.status, exc.message)
    answer.headers.update(cors)
    return answer


def _activate(owner: Identity, target: Resolved, extension: str, extra_path: str,
              annotation: Callable[..., Any], secret: str | None) -> Response:
    svc = services()
    # RestAPIs.scala: valid credentials make the caller known (`__ow_user`); missing or
    # invalid ones make an anonymous call, refused only if the action requires auth.
    try:
        user: str | None = svc.keys.authenticate(request.headers.get("Authorization")).namespace
    except ApiError:
        user = None
    if not webactions.require_auth(annotation("require-whisk-auth", webactions.ABSENT), user is not None, secret):
        return error_response(401, messages.WEB_UNAUTHORIZED)
    body = request.get_data(cache=True)
    validation.check_size(len(body), svc.config.limits.payload_bytes)
    web_request = webactions.WebRequest(
        method=request.method, headers={k.lower(): v for k, v in request.headers.items()},
        path=f"/{extra_path}" if extra_path else "", query_string=request.query_string.decode("latin-1"),
        content_type=request.content_type or "", body=body)
    arguments = webactions.arguments(web_request, target.parameters, target.final_keys,
                                     raw=bool(annotation("raw-http", False)), user=user)
    # The arguments already hold the bound parameters, checked against `final` above.
    pending = svc.activator.start(owner, dataclasses.replace(target, parameters={}, final_keys=frozenset()),
                                  arguments)
    try:
        record = pending.future.result(timeout=svc.config.limits.blocking_wait_ms / 1000)
    except concurrent.futures.TimeoutError:
        answer = error_response(202, messages.RESPONSE_NOT_READY)
        answer.headers["x-openwhisk-activation-id"] = pending.activation_id
        return answer
    try:
        return webactions.respond(record, extension)
    except ApiError as exc:
        answer = error_response(exc.status, exc.message)
        answer.headers["x-openwhisk-activation-id"] = record["activationId"]
        return answer


def _cors() -> dict[str, str]:
    return {"Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH",
            "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers",
                                                                "Authorization, Origin, X-Requested-With, "
                                                                "Content-Type, Accept, User-Agent")}
