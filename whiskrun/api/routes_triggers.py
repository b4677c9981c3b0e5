"""``/namespaces/{ns}/triggers``: create, update, get, list, delete, and fire
(Triggers.scala). A trigger's name is one path segment."""

from flask import Blueprint, Response, request

from . import messages, validation
from .errors import ApiError
from .http import ACTIVATION_ID_HEADER, body_json, identity, json_response, namespace_of
from .services import services

blueprint = Blueprint("triggers", __name__, url_prefix="/api/v1/namespaces/<namespace>")


@blueprint.get("/triggers")
@blueprint.get("/triggers/")
def list_triggers(namespace: str) -> Response:
    owner = namespace_of(namespace)
    svc = services()
    limit, skip = validation.paging(request.args, svc.config.limits, "triggers")
    if validation.query_flag(request.args, "count"):
        return json_response({"triggers": svc.events.count(owner, "triggers", skip=skip)})
    return json_response(svc.events.list_triggers(owner, skip=skip, limit=limit))


@blueprint.get("/triggers/<name>")
def get_trigger(namespace: str, name: str) -> Response:
    return json_response(services().events.get_trigger(namespace_of(namespace), name))


@blueprint.put("/triggers/<name>")
def put_trigger(namespace: str, name: str) -> Response:
    owner = namespace_of(namespace)
    svc = services()
    body = body_json(svc.config.limits.payload_bytes * 2, default={})
    return json_response(svc.events.put_trigger(owner, name, body,
                                                overwrite=validation.query_flag(request.args, "overwrite")))


@blueprint.delete("/triggers/<name>")
def delete_trigger(namespace: str, name: str) -> Response:
    return json_response(services().events.delete_trigger(namespace_of(namespace), name))


@blueprint.post("/triggers/<name>")
def fire_trigger(namespace: str, name: str) -> Response:
    """202 with the trigger activation's id, or 204 (no record) when no rule is active."""
    owner = namespace_of(namespace)
    svc = services()
    payload = body_json(svc.config.limits.payload_bytes, default=None)
    if payload is not None and not isinstance(payload, dict):
        raise ApiError(400, messages.malformed(messages.JSON_OBJECT_EXPECTED))
    trigger = svc.events.get_trigger(owner, name)
    # The request's headers, lower-cased, as OpenWhisk 2.0 hands them to the rules' actions
    # (pekko keeps Content-Type and Content-Length on the entity, not among the headers).
    headers = {key.lower(): value for key, value in request.headers.items()
               if key.lower() not in ("timeout-access", "content-type", "content-length")}
    activation_id = svc.firer.fire(identity(), trigger, payload, headers)
    if activation_id is None:
        return Response(status=204)
    return json_response({"activationId": activation_id}, 202, {ACTIVATION_ID_HEADER: activation_id})
