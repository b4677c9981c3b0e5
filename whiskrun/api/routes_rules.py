"""``/namespaces/{ns}/rules``: create, update, get (with status), list,
enable/disable and delete (Rules.scala)."""

from flask import Blueprint, Response, request

from . import rule_docs, validation
from .http import body_json, json_response, namespace_of
from .services import services

blueprint = Blueprint("rules", __name__, url_prefix="/api/v1/namespaces/<namespace>")


@blueprint.get("/rules")
@blueprint.get("/rules/")
def list_rules(namespace: str) -> Response:
    owner = namespace_of(namespace)
    svc = services()
    limit, skip = validation.paging(request.args, svc.config.limits, "rules")
    if validation.query_flag(request.args, "count"):
        return json_response({"rules": svc.events.count(owner, "rules", skip=skip)})
    return json_response(svc.events.list_rules(owner, skip=skip, limit=limit))


@blueprint.get("/rules/<name>")
def get_rule(namespace: str, name: str) -> Response:
    return json_response(services().events.get_rule(namespace_of(namespace), name))


@blueprint.put("/rules/<name>")
def put_rule(namespace: str, name: str) -> Response:
    owner = namespace_of(namespace)
    svc = services()
    body = body_json(svc.config.limits.payload_bytes * 2, default={})
    return json_response(svc.events.put_rule(owner, name, body,
                                             overwrite=validation.query_flag(request.args, "overwrite")))


@blueprint.post("/rules/<name>")
def set_rule_state(namespace: str, name: str) -> Response:
    """Rules.scala answers ``complete(OK)``: status 200 with the text ``OK``."""
    owner = namespace_of(namespace)
    svc = services()
    state = rule_docs.requested_state(body_json(svc.config.limits.payload_bytes, default=None))
    svc.events.set_rule_state(owner, name, state)
    return Response("OK", status=200, mimetype="text/plain")


@blueprint.delete("/rules/<name>")
def delete_rule(namespace: str, name: str) -> Response:
    return json_response(services().events.delete_rule(namespace_of(namespace), name))
