"""The shapes in which the API returns activation records (WhiskActivation.scala)."""

from typing import Any

_SUMMARY_FIELDS = ("namespace", "name", "version", "publish", "annotations", "activationId", "start", "end",
                   "duration", "cause")


def extended(record: dict[str, Any], *, with_logs: bool = True) -> dict[str, Any]:
    """The API view: ``response.statusCode`` is internal (toExtendedJson drops it); a
    trigger's record has no end (it is the epoch upstream, and left out)."""
    response = {k: v for k, v in record["response"].items() if k != "statusCode"}
    view = {**record, "response": response, "logs": record["logs"] if with_logs else []}
    if not _has_end(record):
        view.pop("end", None)
    return view


def _has_end(record: dict[str, Any]) -> bool:
    return bool(record.get("end"))


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """A list entry: no result and no logs, the status as a top-level ``statusCode``;
    for a trigger's record (no end) neither end, duration nor statusCode
    (WhiskActivation.summaryAsJson)."""
    entry = {k: record[k] for k in _SUMMARY_FIELDS if k in record}
    if not _has_end(record):
        entry.pop("end", None)
        return entry
    # WhiskActivation.summaryAsJson: the stored duration (a sequence's is the sum of its
    # components'), end - start only when none is stored.
    entry["duration"] = record.get("duration", record["end"] - record["start"])
    entry["statusCode"] = record["response"].get("statusCode", 0)
    return entry


def result(record: dict[str, Any]) -> dict[str, Any]:
    """``/activations/{id}/result``: the response without its internal status code."""
    response = record["response"]
    view = {"result": response.get("result"), "status": response["status"], "success": response["success"]}
    if "size" in response:
        view["size"] = response["size"]
    return view


def http_status(record: dict[str, Any]) -> int:
    """Blocking invoke: 200 for success, 502 for application and developer errors,
    500 for whisk errors (Actions.scala doInvoke)."""
    code = record["response"].get("statusCode", 0)
    return {0: 200, 1: 502, 2: 502}.get(code, 500)
