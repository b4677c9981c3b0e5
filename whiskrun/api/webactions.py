"""Web actions (WebActions.scala): an HTTP request becomes an action's
arguments (``__ow_*``), and its result becomes the HTTP response, by the
URL's extension (.http, .json, .html, .svg, .text)."""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flask import Response

from . import action_docs, messages, validation
from .errors import ApiError

EXTENSIONS = (".http", ".json", ".html", ".svg", ".text")
RESERVED = frozenset({"__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_query", "__ow_body"})


def split_extension(name: str) -> tuple[str, str]:
    """``hello.json`` -> ("hello", ".json"); without a known extension, ``.http``."""
    for extension in EXTENSIONS:
        if name.endswith(extension):
            return name[: -len(extension)], extension
    return name, ".http"


@dataclass(frozen=True)
class WebRequest:
    method: str
    headers: dict[str, str]  # lower-case names
    path: str  # what follows the action in the URL
    query_string: str
    content_type: str
    body: bytes


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _is_text(media: str) -> bool:
    return media.startswith("text/") or media in ("application/xml", "application/javascript") or \
        media.endswith("+xml")


def arguments(request: WebRequest, bound: dict[str, Any], final_keys: frozenset[str], *, raw: bool,
              user: str | None) -> dict[str, Any]:
    """The action's arguments: bound parameters, then query, then body (last wins), then the
    request's context under ``__ow_*``. Overriding a reserved or final key is refused."""
    media = request.content_type.split(";")[0].strip().lower()
    body: Any = None
    if request.body:
        if _is_json(media) and not raw:
            body = validation.parse_json(request.body)
        elif media == "application/x-www-form-urlencoded" and not raw:
            body = dict(parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))
        elif _is_text(media) or media == "application/x-www-form-urlencoded":
            body = request.body.decode("utf-8", errors="replace")
        else:  # binary, and JSON in raw mode ("for legacy, we are encoding application/json still")
            body = base64.b64encode(request.body).decode("ascii")
    context: dict[str, Any] = {"__ow_method": request.method.lower(), "__ow_headers": request.headers,
                               "__ow_path": request.path}
    if user is not None:
        context["__ow_user"] = user
    if raw:
        given = {"__ow_query": request.query_string, "__ow_body": body if body is not None else ""}
        return {**bound, **context, **given}
    query = dict(parse_qsl(request.query_string, keep_blank_values=True))
    body_fields = body if isinstance(body, dict) else ({"__ow_body": body} if body is not None else {})
    overriding = set(query) | (set(body) if isinstance(body, dict) else set())
    if overriding & (RESERVED | final_keys):
        raise ApiError(400, messages.PARAMETERS_NOT_ALLOWED)
    return {**bound, **context, **query, **body_fields}


def respond(record: dict[str, Any], extension: str) -> Response:
    """The HTTP answer for a finished activation."""
    response = record["response"]
    status = response.get("statusCode", 0)
    if status not in (0, 1):
        raise ApiError(400, messages.ERROR_PROCESSING_REQUEST)
    result = response.get("result")
    if status == 1:  # an application error answers with its `error` value
        if not isinstance(result, dict) or "error" not in result:
            raise ApiError(404, messages.PROPERTY_NOT_FOUND)
        result = result["error"]
    answer = {".http": _as_http, ".json": _as_json, ".html": _as_html, ".svg": _as_svg,
              ".text": _as_text}[extension](result)
    answer.headers["x-openwhisk-activation-id"] = record["activationId"]
    return answer


def _invalid(media: str) -> ApiError:
    return ApiError(400, f"Response is not valid '{media}'.")


def _as_json(result: Any) -> Response:
    if not isinstance(result, (dict, list)):
        raise _invalid("application/json")
    return Response(json.dumps(result, ensure_ascii=False), 200, mimetype="application/json")


def _field(result: Any, *names: str) -> Any:
    if isinstance(result, dict):
        for name in names:
            if name in result:
                return result[name]
        return None
    return result


def _as_html(result: Any) -> Response:
    html = _field(result, "body", "html")
    if not isinstance(html, str):
        raise _invalid("text/html")
    return Response(html, 200, content_type="text/html; charset=UTF-8")


def _as_svg(result: Any) -> Response:
    svg = _field(result, "body", "svg")
    if not isinstance(svg, str):
        raise _invalid("image/svg+xml")
    return Response(svg.encode("utf-8"), 200, content_type="image/svg+xml")


def _as_text(result: Any) -> Response:
    if isinstance(result, dict) and "body" not in result and "text" not in result:
        raise ApiError(404, messages.PROPERTY_NOT_FOUND)
    text = _field(result, "body", "text")
    if isinstance(text, (dict, list)):
        text = json.dumps(text, indent=2, ensure_ascii=False)
    elif isinstance(text, bool):
        text = "true" if text else "false"
    elif text is None:
        text = "null"
    return Response(str(text), 200, content_type="text/plain; charset=UTF-8")


def _as_http(result: Any) -> Response:
    """``{statusCode, headers, body}``: a string body is text (base64 for a binary content
    type), any other JSON value is sent as JSON; no body answers 204."""
    if not isinstance(result, dict):
        raise _invalid("message/http")
    headers: list[tuple[str, str]] = []
    raw_headers = result.get("headers", {})
    if not isinstance(raw_headers, dict):
        raise _invalid("message/http")
    for name, value in raw_headers.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                headers.append((name, "true" if item else "false"))
            elif isinstance(item, (str, int, float)):
                headers.append((name, str(item)))
            else:
                raise _invalid("message/http")
    code = result.get("statusCode")
    try:
        code = int(code) if code is not None and not isinstance(code, bool) else None
    except (TypeError, ValueError):
        raise _invalid("message/http") from None
    if code is not None and not 100 <= code <= 599:
        raise _invalid("message/http")
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    others = [(k, v) for k, v in headers if k.lower() != "content-type"]
    body = result.get("body")
    if body is None or body == "":
        return Response(b"", code or 204, headers=others)
    if isinstance(body, str):
        media = (content_type or "text/html").split(";")[0].strip().lower()
        if _is_text(media) or (_is_json(media) and not action_docs.is_binary(body)):
            return Response(body.encode("utf-8"), code or 200, headers=others,
                            content_type=content_type or "text/html; charset=UTF-8")
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(media) from None
        return Response(data, code or 200, headers=others, content_type=content_type)
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if not _is_json(media):
        raise ApiError(400, "Response type in header did not match generated content type.")
    return Response(json.dumps(body, ensure_ascii=False), code or 200, headers=others,
                    content_type=content_type or "application/json")


#: The default of a missing annotation, told apart from a null value.
ABSENT = object()


def require_auth(annotation: Any, authenticated: bool, header_secret: str | None) -> bool:
    """``require-whisk-auth`` (WebActions.scala confirmAuthenticated): absent or false lets
    anyone in; true needs valid credentials; a string or number must equal the
    ``X-Require-Whisk-Auth`` header; any other value lets no one in."""
    if annotation is ABSENT or annotation is False:
        return True
    if annotation is True:
        return authenticated
    if isinstance(annotation, (str, int, float)):
        return header_secret is not None and header_secret == str(annotation)
    return False
