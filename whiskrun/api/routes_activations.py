"""``/namespaces/{ns}/activations``: list with filters, get, logs, result
(Activations.scala)."""

from flask import Blueprint, Response, request

from . import activation_views, messages, validation
from .errors import ApiError, not_found
from .http import json_response, namespace_of
from .services import services
from .store import ActivationQuery

blueprint = Blueprint("activations", __name__, url_prefix="/api/v1/namespaces/<namespace>/activations")


@blueprint.get("")
@blueprint.get("/")
def list_activations(namespace: str) -> Response:
    owner = namespace_of(namespace)
    svc = services()
    args = request.args
    docs = validation.query_flag(args, "docs")
    count = validation.query_flag(args, "count")
    if docs and count:
        raise ApiError(400, messages.DOCS_NOT_ALLOWED_WITH_COUNT)
    limit, skip = validation.paging(args, svc.config.limits, "activations")
    query = ActivationQuery(owner, name=_name_filter(args.get("name")), since=_epoch(args.get("since"), "since"),
                            upto=_epoch(args.get("upto"), "upto"), skip=skip, limit=limit)
    if count:
        return json_response({"activations": svc.store.count_activations(query)})
    records = svc.store.activations(query)
    view = activation_views.extended if docs else activation_views.summary
    return json_response([view(record) for record in records])


def _name_filter(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    refusal = ApiError(400, messages.malformed_query("name", messages.bad_name_filter(value)))
    parts = value.strip("/").split("/")
    if len(parts) > 2 or not all(parts):
        raise refusal
    for part in parts:
        try:
            validation.entity_name(part)
        except ApiError:
            raise refusal from None
    return "/".join(parts)


def _epoch(value: str | None, parameter: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        epoch = int(value)
    except ValueError:
        epoch = None
    if epoch is None or not validation.INT64_MIN <= epoch <= validation.INT64_MAX:  # a Long upstream
        raise ApiError(400, messages.malformed_query(parameter, messages.bad_epoch(value)))
    return epoch


def _record(namespace: str, activation_id: str) -> dict:
    owner = namespace_of(namespace)
    record = services().store.get_activation(owner, validation.activation_id(activation_id))
    if record is None:
        raise not_found()
    return record


@blueprint.get("/<activation_id>")
def get_activation(namespace: str, activation_id: str) -> Response:
    return json_response(activation_views.extended(_record(namespace, activation_id)))


@blueprint.get("/<activation_id>/logs")
def get_logs(namespace: str, activation_id: str) -> Response:
    return json_response({"logs": _record(namespace, activation_id)["logs"]})


@blueprint.get("/<activation_id>/result")
def get_result(namespace: str, activation_id: str) -> Response:
    return json_response(activation_views.result(_record(namespace, activation_id)))
