"""API gateway routes: what ``wsk api``, the npm client's ``routes``,
serverless-openwhisk's ``http`` events and wskdeploy's ``apis`` create
through ``/whisk.system/apimgmt`` (createApi, getApi, deleteApi), kept as
one swagger 2.0 document per base path, in the swagger upstream's
routemgmt actions build (core/routemgmt/common/apigw-utils.js), and served
at ``/api/<key uuid>/<base path><path>`` (routes_gateway.py).

The apimgmt actions are intrinsic (system_catalog): this module answers
them as web actions do, 200 with the JSON body or 502 ``{"error": ...}``."""

import json
import re
from dataclasses import dataclass
from typing import Any

from .identity import KeyRing
from .store import Store

APIMGMT = "apimgmt"


class GatewayError(ValueError):
    """A refused apimgmt call; its message is upstream's."""


@dataclass(frozen=True)
class Operation:
    """One routed operation: the web action behind it and how to call it."""

    namespace: str
    package: str
    action: str
    response_type: str  # http, json, html, text, svg
    secure_key: str | None
    relative_path: str  # what follows the base path in the request, for .http actions


class Gateway:
    def __init__(self, store: Store, keys: KeyRing) -> None:
        self._store = store
        self._keys = keys

    # -- apimgmt -------------------------------------------------------------

    def handle(self, _caller: Any, action: str, params: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """The intrinsic apimgmt actions, answering as web actions (statusCode, body)."""
        try:
            body = self._call(action, params)
        except GatewayError as refused:
            return True, {"statusCode": 502, "headers": {"Content-Type": "application/json"},
                          "body": {"error": str(refused)}}
        return True, {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}

    def _call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        user = params.get("__ow_user")
        identity = self._keys.lookup(user) if isinstance(user, str) else None
        if identity is None:
            raise GatewayError("A valid auth key is required.")
        host = str((params.get("__ow_headers") or {}).get("host", "localhost"))
        base_url = f"http://{host}/api/{identity.uuid}"
        if action == "createApi":
            return self._create(identity.namespace, base_url, params)
        if action == "getApi":
            return self._get(identity.namespace, base_url, params)
        if action == "deleteApi":
            return self._delete(identity.namespace, params)
        raise GatewayError(f"{action} is not an apimgmt action")

    def _create(self, namespace: str, base_url: str, params: dict[str, Any]) -> dict[str, Any]:
        doc = _apidoc(params.get("apidoc"))
        if "swagger" in doc and doc["swagger"]:
            swagger = _swagger(doc["swagger"])
        else:
            _check_endpoint(doc)
            basepath = doc["gatewayBasePath"]
            existing = self._find(namespace, basepath)
            swagger = existing or base_swagger(basepath, doc.get("apiName"))
            add_endpoint(swagger, doc, str(params.get("responsetype") or "json"), namespace)
        self._store.put_api(namespace, swagger["basePath"], swagger)
        return _cli_api(base_url, swagger)["value"]

    def _get(self, namespace: str, base_url: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("basepath")
        apis = [s for s in self._store.apis(namespace)
                if not wanted or s["basePath"] == wanted or s.get("info", {}).get("title") == wanted]
        return {"apis": [_cli_api(base_url, s) for s in apis]}

    def _delete(self, namespace: str, params: dict[str, Any]) -> dict[str, Any]:
        basepath = params.get("basepath")
        if not basepath:
            raise GatewayError("basepath is required.")
        relpath, operation = params.get("relpath"), params.get("operation")
        if operation and not relpath:
            raise GatewayError("When specifying an operation, the path is required.")
        swagger = self._find(namespace, basepath)
        if swagger is None:
            raise GatewayError(f"API '{basepath}' does not exist.")
        if not relpath:
            self._store.delete_api(namespace, swagger["basePath"])
            return {}
        paths = swagger["paths"]
        if relpath not in paths or (operation and operation.lower() not in paths[relpath]):
            raise GatewayError(f"API '{basepath}' does not contain {'operation ' + operation + ' of ' if operation else ''}"
                               f"path '{relpath}'.")
        if operation:
            del paths[relpath][operation.lower()]
        if not operation or not paths[relpath]:
            del paths[relpath]
        if paths:
            self._store.put_api(namespace, swagger["basePath"], swagger)
        else:  # upstream: removing the last path removes the API
            self._store.delete_api(namespace, swagger["basePath"])
        return {}

    def _find(self, namespace: str, basepath_or_name: str) -> dict[str, Any] | None:
        return next((s for s in self._store.apis(namespace) if s["basePath"] == basepath_or_name
                     or s.get("info", {}).get("title") == basepath_or_name), None)

    # -- serving ----------------------------------------------------------------

    def route(self, tenant: str, path: str, method: str) -> tuple[Operation | None, bool]:
        """The operation for ``method`` on ``/<path>`` of the tenant (a key's uuid), and
        whether the path exists at all (for 404 against 405)."""
        identity = self._keys.by_uuid(tenant)
        if identity is None:
            return None, False
        request_path = "/" + path
        found_path = False
        for swagger in sorted(self._store.apis(identity.namespace), key=lambda s: -len(s["basePath"])):
            base = swagger["basePath"].rstrip("/")
            if not (request_path == base or request_path.startswith(base + "/")):
                continue
            relative = request_path[len(base):] or "/"
            for template, operations in swagger["paths"].items():
                if not _matches(template, relative):
                    continue
                found_path = True
                spec = operations.get(method.lower())
                if spec is None:
                    continue
                return _operation(swagger, spec, relative), True
        return None, found_path


def base_swagger(basepath: str, name: Any) -> dict[str, Any]:
    return {"swagger": "2.0", "info": {"title": name or basepath, "version": "1.0.0"}, "basePath": basepath,
            "paths": {}, "x-ibm-configuration": {"assembly": {}, "cors": {"enabled": True}}}


def operation_id(verb: str, relpath: str) -> str:
    """apigw-utils.js makeOperationId: ``get`` + ``/hello/world`` -> ``getHelloWorld``."""
    words = re.sub(r"[^0-9a-z_-]", " ", relpath, flags=re.IGNORECASE)
    camel = re.sub(r"\w\S*", lambda m: m.group(0)[0].upper() + m.group(0)[1:].lower(), words)
    return verb.lower() + re.sub(r"\s", "", camel)


def add_endpoint(swagger: dict[str, Any], doc: dict[str, Any], response_type: str, namespace: str) -> None:
    verb = doc["gatewayMethod"].lower()
    relpath = doc["gatewayPath"]
    action = doc["action"]
    package, _, name = action["name"].rpartition("/")
    action_namespace = namespace if action["namespace"] in ("_", "") else action["namespace"]
    op_id = operation_id(verb, relpath)
    url = f"/api/v1/web/{action_namespace}/{package or 'default'}/{name}.{response_type}"
    entry: dict[str, Any] = {"operationId": op_id,
                             "x-openwhisk": {"url": url, "namespace": action_namespace, "package": package,
                                             "action": name},
                             "responses": {"default": {"description": "Default response"}}}
    if doc.get("pathParameters"):
        entry["parameters"] = doc["pathParameters"]
    swagger["paths"].setdefault(relpath, {})[verb] = entry
    execute: list[dict[str, Any]] = [{"invoke": {"target-url": url + ("$(request.path)" if response_type == "http"
                                                                      else ""), "verb": "keep"}}]
    if action.get("secureKey"):
        execute.append({"set-variable": {"actions": [{"set": "message.headers.X-Require-Whisk-Auth",
                                                      "value": action["secureKey"]}]}})
    cases = swagger["x-ibm-configuration"].setdefault("assembly", {}).setdefault(
        "execute", [{"operation-switch": {"case": []}}])[0]["operation-switch"]["case"]
    cases[:] = [c for c in cases if c.get("operations", [None])[0] != op_id]
    cases.append({"operations": [op_id], "execute": execute})


def _apidoc(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        raise GatewayError("apidoc is required.")
    value = _decoded(value, "apidoc")
    if not isinstance(value, dict):
        raise GatewayError(f"apidoc field is of type {_js_type(value)} and should be a JSON object or a JSON string.")
    if not value.get("namespace"):
        raise GatewayError("apidoc is missing the namespace field")
    if value.get("swagger") and value.get("gatewayBasePath"):
        raise GatewayError("swagger and gatewayBasePath are mutually exclusive and cannot be specified together.")
    return value


def _swagger(value: Any) -> dict[str, Any]:
    value = _decoded(value, "swagger")
    if not isinstance(value, dict):
        raise GatewayError(f"swagger field is {_js_type(value)} and should be an object or a JSON string.")
    for field in ("basePath", "paths", "info"):
        if not value.get(field):
            raise GatewayError(f"swagger is missing the {field} field.")
    value.setdefault("x-ibm-configuration", {"assembly": {}, "cors": {"enabled": True}})
    return value


def _decoded(value: Any, field: str) -> Any:
    """A field the clients send as an object or as a JSON string of one."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise GatewayError(f"{field} field cannot be parsed. Ensure it is valid JSON.") from None


def _check_endpoint(doc: dict[str, Any]) -> None:
    for field in ("gatewayBasePath", "gatewayPath", "gatewayMethod"):
        if not doc.get(field):
            raise GatewayError(f"apidoc is missing the {field} field")
    action = doc.get("action")
    if not isinstance(action, dict) or not action:
        raise GatewayError("apidoc is missing the action field.")
    for field in ("backendMethod", "backendUrl", "namespace", "name", "authkey"):
        if not action.get(field):
            raise GatewayError(f"action is missing the {field} field.")


def _js_type(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "object"}.get(type(value), "object")


def _cli_api(base_url: str, swagger: dict[str, Any]) -> dict[str, Any]:
    """One entry as the CLI reads it (generateCliApiFromGwApi)."""
    return {"id": "Not Used", "key": "Not Used", "value": {
        "namespace": "Not Used", "gwApiActivated": True, "tenantId": "Not Used",
        "gwApiUrl": base_url + swagger["basePath"].rstrip("/"), "apidoc": swagger}}


def _matches(template: str, path: str) -> bool:
    """``/books/{id}`` matches ``/books/7``; each ``{name}`` is one path segment."""
    pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part)
                      for part in re.split(r"(\{[^/}]+\})", template.rstrip("/") or "/"))
    return re.fullmatch(pattern + "/?", path) is not None


def _operation(swagger: dict[str, Any], spec: dict[str, Any], relative: str) -> Operation:
    target = spec.get("x-openwhisk") or {}
    url = str(target.get("url", ""))
    response_type = url.rsplit(".", 1)[-1] if "." in url.rsplit("/", 1)[-1] else "json"
    secure_key = None
    cases = (((swagger.get("x-ibm-configuration") or {}).get("assembly") or {}).get("execute") or [{}])[0]
    for case in (cases.get("operation-switch") or {}).get("case", []):
        if spec.get("operationId") in case.get("operations", []):
            for step in case.get("execute", []):
                for change in (step.get("set-variable") or {}).get("actions", []):
                    if change.get("set") == "message.headers.X-Require-Whisk-Auth":
                        secure_key = str(change.get("value"))
            target_url = next((s["invoke"].get("target-url", "") for s in case.get("execute", []) if "invoke" in s), "")
            if target_url and not url:
                response_type = target_url.split("$(")[0].rsplit(".", 1)[-1]
    return Operation(namespace=str(target.get("namespace", "")), package=str(target.get("package") or ""),
                     action=str(target.get("action", "")), response_type=response_type.split("$")[0],
                     secure_key=secure_key, relative_path=relative)
