"""``/api/<key uuid>/<base path><path>``: the managed URLs of API gateway
routes (gateway.py), served by invoking the route's web action with the
operation's verb; the route's secure key stands in for the caller's
``X-Require-Whisk-Auth``, and CORS is on, as upstream's gateway does."""

from flask import Blueprint, Response, request
from werkzeug.routing import BaseConverter

from . import messages
from .errors import ApiError, not_found
from .http import error_response
from .routes_web import serve
from .services import services

blueprint = Blueprint("gateway", __name__)


class TenantConverter(BaseConverter):
    """A tenant segment: anything but ``v1``, so that the API's own paths (and their
    405s for a method they lack) stay the API's."""

    regex = r"(?!v1(?:/|$))[^/]+"

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


@blueprint.route("/api/<tenant:tenant>/<path:rest>", methods=_METHODS)
def managed_route(tenant: str, rest: str) -> Response:
    svc = services()
    if request.method == "OPTIONS":  # CORS preflight, answered by the gateway itself
        return Response(b"", 200, headers=_cors())
    operation, path_exists = svc.gateway.route(tenant, rest, request.method)
    if operation is None:
        if path_exists:
            return error_response(405, messages.METHOD_NOT_ALLOWED + request.method + " is not routed here")
        raise not_found()
    owner = svc.keys.lookup(operation.namespace)
    if owner is None:
        raise not_found()
    # serverless-openwhisk names an action outside packages with package "default", as web URLs do.
    package = "" if operation.package in ("", "default") else operation.package
    name = f"{package}/{operation.action}" if package else operation.action
    try:
        target = svc.catalog.resolve(owner.namespace, name)
    except ApiError:
        return error_response(404, messages.RESOURCE_DOES_NOT_EXIST)
    # An .http action sees the path below the base path in __ow_path (target-url ...$(request.path)).
    extra = operation.relative_path.lstrip("/") if operation.response_type == "http" else ""
    answer = serve(owner, target, "." + operation.response_type, extra, operation.secure_key)
    answer.headers.update(_cors())
    return answer


def _cors() -> dict[str, str]:
    return {"Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH",
            "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers",
                                                                "Authorization, Content-Type")}
