"""``/namespaces/{ns}/packages``: packages and bindings, created, listed,
read (with their actions) and deleted (Packages.scala)."""

from flask import Blueprint, Response, request

from . import validation
from .http import body_json, json_response, namespace_of, readable_namespace
from .services import services

blueprint = Blueprint("packages", __name__, url_prefix="/api/v1/namespaces/<namespace>")


@blueprint.get("/packages")
@blueprint.get("/packages/")
def list_packages(namespace: str) -> Response:
    owner, own = readable_namespace(namespace)
    svc = services()
    limit, skip = validation.paging(request.args, svc.config.limits, "packages")
    if not own:  # another namespace: its published packages only
        return json_response(svc.shared.list_packages(owner, skip=skip, limit=limit))
    return json_response(svc.catalog.list_packages(owner, skip=skip, limit=limit))


@blueprint.get("/packages/<name>")
def get_package(namespace: str, name: str) -> Response:
    owner, own = readable_namespace(namespace)
    svc = services()
    return json_response(svc.catalog.get_package(owner, name) if own else svc.shared.package(owner, name))


@blueprint.put("/packages/<name>")
def put_package(namespace: str, name: str) -> Response:
    owner = namespace_of(namespace)
    svc = services()
    body = body_json(svc.config.limits.payload_bytes * 2, default={})
    return json_response(svc.catalog.put_package(owner, name, body,
                                                 overwrite=validation.query_flag(request.args, "overwrite")))


@blueprint.delete("/packages/<name>")
def delete_package(namespace: str, name: str) -> Response:
    return json_response(services().catalog.delete_package(namespace_of(namespace), name,
                                                           force=validation.query_flag(request.args, "force")))
