"""The built-in ``/whisk.system`` namespace: published packages every
namespace can read, bind and invoke, as an OpenWhisk deployment installs
them from openwhisk-catalog and openwhisk-package-alarms.

* ``utils``: small Node.js actions (echo, cat, date, head, namespace, smash,
  sort, split) that behave as the catalog's; whiskrun's own code, run by the
  invoker like any action.
* ``alarms``: the feed actions ``alarm``, ``once`` and ``interval``. They are
  intrinsic: the server answers them itself (alarm_feeds.py) and fires the
  triggers on schedule (alarm_scheduler.py), since the schedules are the
  server's state.

The server writes them afresh at every start, so that what the
``whisk.system`` key (OpenWhisk's standard one, for installing catalogs)
changed in them does not outlive a restart."""

from typing import Any

from . import action_docs, package_docs
from .config import LimitRanges
from .identity import Identity
from .store import Store

NAMESPACE = "whisk.system"
#: Annotation of an intrinsic action, honoured only in this namespace: its value
#: names the server's handler.
INTRINSIC = "whiskrun-intrinsic"
ALARMS = "alarms"
APIMGMT = "apimgmt"
#: Who runs /whisk.system's web actions (the apimgmt ones) when no key of the
#: namespace is configured.
IDENTITY = Identity(NAMESPACE, "", "")

_UTILS = {
    "echo": ("Returns the input", [], "function main(params) {\n  return params;\n}\n"),
    "cat": ("Concatenates input into a string", ["lines"],
            "function main(params) {\n  const lines = params.lines || [];\n"
            "  if (!Array.isArray(lines)) return { error: 'lines must be an array' };\n"
            "  return { lines: lines, payload: lines.join('\\n') };\n}\n"),
    "date": ("Current date and time", [], "function main() {\n  return { date: new Date() };\n}\n"),
    "head": ("Extract prefix of an array", ["lines", "num"],
             "function main(params) {\n  const lines = params.lines || [];\n"
             "  const num = params.num || 1;\n  return { lines: lines.slice(0, num), num: num };\n}\n"),
    "namespace": ("Returns namespace for the authorization key used to invoke this action", [],
                  "function main() {\n  return { namespace: process.env.__OW_NAMESPACE };\n}\n"),
    "smash": ("Nests all properties under given property", ["$fieldName"],
              "function main(params) {\n  const field = params.$fieldName;\n  delete params.$fieldName;\n"
              "  const nested = {};\n  nested[field] = params;\n  return nested;\n}\n"),
    "sort": ("Sorts an array", ["lines"],
             "function main(params) {\n  const lines = (params.lines || []).slice();\n  lines.sort();\n"
             "  return { lines: lines, length: lines.length };\n}\n"),
    "split": ("Split a string into an array", ["payload", "separator"],
              "function main(params) {\n  const payload = params.payload || '';\n"
              "  const separator = params.separator || /\\r?\\n/;\n"
              "  return { lines: payload.split(separator), payload: payload };\n}\n"),
}

_ALARMS = {
    "alarm": ("Fire trigger when alarm occurs",
              [("cron", True, "A crontab pattern, 5 fields or 6 with seconds first"),
               ("timezone", False, "An IANA time zone for the cron pattern"),
               ("trigger_payload", False, "The payload of every fire"),
               ("startDate", False, "When the first fire may be (ISO or ms)"),
               ("stopDate", False, "When the fires stop (ISO or ms)"),
               ("maxTriggers", False, "How many fires at most (deprecated: use stopDate)")]),
    "once": ("Fire trigger once when alarm occurs",
             [("date", True, "When to fire (ISO or ms)"), ("trigger_payload", False, "The payload of the fire"),
              ("deleteAfterFire", False, "false, true (the trigger) or rules (the trigger and its rules)")]),
    "interval": ("Fire trigger at specified interval",
                 [("minutes", True, "The interval, in minutes"), ("trigger_payload", False, "The payload of every fire"),
                  ("startDate", False, "When the first fire is (ISO or ms)"),
                  ("stopDate", False, "When the fires stop (ISO or ms)")]),
}
_FEED_CODE = ("// whiskrun answers this feed action inside its server (whiskrun/api/alarm_feeds.py):\n"
              "// CREATE, READ, UPDATE and DELETE of the alarm of the trigger named by triggerName.\n")


def install(store: Store, ranges: LimitRanges) -> None:
    """Write the built-in packages and their actions (replacing older ones)."""
    with store.transaction() as tx:
        for package, description, actions in (("utils", "Building blocks that format and assemble data",
                                               _utils_actions()),
                                              (ALARMS, "Alarms and periodic utility", _alarm_actions()),
                                              (APIMGMT, "API gateway routes (wsk api, the npm client's routes)",
                                               _apimgmt_actions())):
            stored = {d["name"] for d in tx.entities(NAMESPACE, "actions", prefix=f"{package}/", limit=10_000)}
            for gone in stored - set(actions):
                tx.delete(NAMESPACE, "actions", f"{package}/{gone}")
            # apimgmt is reached as web actions, which need no publishing (as upstream, it is private).
            tx.put(NAMESPACE, "packages", package, package_docs.build(
                NAMESPACE, package, {"publish": package != APIMGMT,
                                     "annotations": [{"key": "description", "value": description}]},
                None, ranges))
            for name, body in actions.items():
                tx.put(NAMESPACE, "actions", f"{package}/{name}",
                       action_docs.build(NAMESPACE, package, name, body, None, ranges))


def _utils_actions() -> dict[str, dict[str, Any]]:
    return {name: {"exec": {"kind": "nodejs:18", "code": code}, "annotations": [
        {"key": "description", "value": description},
        {"key": "parameters", "value": [{"name": p, "required": False} for p in parameters]}]}
        for name, (description, parameters, code) in _UTILS.items()}


def _alarm_actions() -> dict[str, dict[str, Any]]:
    return {name: {"exec": {"kind": "nodejs:18", "code": _FEED_CODE}, "annotations": [
        {"key": "description", "value": description}, {"key": "feed", "value": True},
        {"key": INTRINSIC, "value": ALARMS},
        {"key": "parameters", "value": [{"name": p, "required": required, "description": text}
                                        for p, required, text in parameters]}]}
        for name, (description, parameters) in _ALARMS.items()}


def _apimgmt_actions() -> dict[str, dict[str, Any]]:
    code = "// whiskrun answers this web action inside its server (whiskrun/api/gateway.py).\n"
    return {name: {"exec": {"kind": "nodejs:18", "code": code}, "annotations": [
        {"key": "web-export", "value": True}, {"key": "final", "value": True},
        {"key": INTRINSIC, "value": APIMGMT}]} for name in ("createApi", "getApi", "deleteApi")}


def intrinsic(doc: dict[str, Any]) -> str | None:
    """The handler of a built-in intrinsic action; None for every other action
    (the annotation means nothing outside /whisk.system)."""
    if doc["namespace"].split("/")[0] != NAMESPACE:
        return None
    value = action_docs.annotation(doc, INTRINSIC, None)
    return value if isinstance(value, str) else None


