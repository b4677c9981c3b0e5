"""``/namespaces/{ns}/actions``: create, update, get, list, delete, and
invoke (Actions.scala)."""

import concurrent.futures
from typing import Any

from flask import Blueprint, Response, request

from . import action_docs, activation_views, activator, messages, validation
from .errors import ApiError
from .http import ACTIVATION_ID_HEADER, body_json, identity, json_response, namespace_of, readable_namespace
from .services import services

blueprint = Blueprint("actions", __name__, url_prefix="/api/v1/namespaces/<namespace>")


@blueprint.get("/actions")
@blueprint.get("/actions/")
def list_actions(namespace: str) -> Response:
    return _list(namespace, None)


def list_package_actions(namespace: str, package: str) -> Response:
    validation.entity_name(package)
    owner, own = readable_namespace(namespace)
    if not own:  # the actions of another namespace's published package
        svc = services()
        limit, skip = validation.paging(request.args, svc.config.limits, "actions")
        return json_response(svc.shared.list_actions(owner, package, skip=skip, limit=limit))
    return _list(namespace, package)


def _list(namespace: str, package: str | None) -> Response:
    owner = namespace_of(namespace)
    svc = services()
    if validation.query_flag(request.args, "count"):
        skip = validation.paging(request.args, svc.config.limits, "actions")[1]
        return json_response({"actions": svc.catalog.count_actions(owner, package=package, skip=skip)})
    limit, skip = validation.paging(request.args, svc.config.limits, "actions")
    return json_response(svc.catalog.list_actions(owner, package=package, skip=skip, limit=limit))


@blueprint.get("/actions/<path:name>")
def get_action(namespace: str, name: str) -> Response:
    # One rule for both: a separate `/actions/<package>/` rule makes Werkzeug redirect
    # every `GET /actions/name` to `/actions/name/`.
    if name.endswith("/") and name.count("/") == 1:
        return list_package_actions(namespace, name[:-1])
    owner, own = readable_namespace(namespace)
    svc = services()
    doc = svc.catalog.get_action(owner, name) if own else svc.shared.action(owner, name)
    with_code = request.args.get("code", "true").lower() != "false"
    return json_response(doc if with_code else action_docs.without_code(doc))


@blueprint.put("/actions/<path:name>")
def put_action(namespace: str, name: str) -> Response:
    owner = namespace_of(namespace)
    svc = services()
    body = body_json(svc.config.limits.code_bytes + svc.config.limits.payload_bytes)
    overwrite = validation.query_flag(request.args, "overwrite")
    return json_response(svc.catalog.put_action(owner, name, body, overwrite=overwrite))


@blueprint.delete("/actions/<path:name>")
def delete_action(namespace: str, name: str) -> Response:
    return json_response(services().catalog.delete_action(namespace_of(namespace), name))


@blueprint.post("/actions/<path:name>")
def invoke_action(namespace: str, name: str) -> Response:
    owner, own = readable_namespace(namespace)
    svc = services()
    ranges = svc.config.limits
    payload = body_json(ranges.payload_bytes, default={})
    if not isinstance(payload, dict):  # Actions.scala reads the body as Option[JsObject]
        raise ApiError(400, messages.malformed(messages.JSON_OBJECT_EXPECTED))
    blocking = validation.query_flag(request.args, "blocking")
    wait_ms = _wait_ms(request.args.get("timeout"), ranges.blocking_wait_ms)
    # Another namespace's action runs as the caller, in the caller's namespace.
    target = svc.catalog.resolve(owner, name) if own else svc.catalog.resolve_shared(owner, name)
    pending = svc.activator.start(identity(), target, payload)
    if not blocking:
        return _accepted(pending.activation_id)
    try:
        record = pending.future.result(timeout=wait_ms / 1000)
    except concurrent.futures.TimeoutError:
        return _accepted(pending.activation_id)  # still running; the client polls for the record
    if activator.overloaded(record):
        # OpenWhisk refuses with 503 when no invoker has room; the record stays for pollers.
        raise ApiError(503, messages.SYSTEM_OVERLOADED)
    return invoke_answer(record, result_only=validation.query_flag(request.args, "result"))


def _accepted(activation_id: str) -> Response:
    return json_response({"activationId": activation_id}, 202, {ACTIVATION_ID_HEADER: activation_id})


def _wait_ms(raw: str | None, maximum: int) -> int:
    if raw is None or raw == "":
        return maximum
    refusal = ApiError(400, messages.malformed_query("timeout", messages.invalid_timeout(maximum)))
    try:
        value = int(raw)
    except ValueError:
        raise refusal from None
    if not 0 < value <= maximum:
        raise refusal
    return value


def invoke_answer(record: dict[str, Any], *, result_only: bool) -> Response:
    result = record["response"].get("result")
    if isinstance(result, list):
        body: Any = result  # Actions.scala: an array result is returned bare either way
    elif result_only:
        body = result if result is not None else {}
    else:
        # A primitive's answer comes before its logs (GET the activation for them); a
        # sequence's logs are its components' activation ids, known when it ends.
        sequence = any(a["key"] == "kind" and a["value"] == "sequence" for a in record["annotations"])
        body = activation_views.extended(record, with_logs=sequence)
    return json_response(body, activation_views.http_status(record),
                         {ACTIVATION_ID_HEADER: record["activationId"]})
