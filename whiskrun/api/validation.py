"""Checks of what a request carries (names, limits, key-value lists, query
numbers), each refusing with OpenWhisk's status and message."""

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from . import messages
from .config import LimitRanges
from .errors import ApiError, bad_request

# EntityPath.scala REGEX; Scala's \w is ASCII.
_ENTITY_NAME = re.compile(r"[\w]|[\w][\w@ .&-]{0,254}[\w@.&-]", re.ASCII)
_ACTIVATION_ID = re.compile(r"[0-9a-f]{32}")
MAX_NAME_LENGTH = 256
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def entity_name(segment: str) -> str:
    if _ENTITY_NAME.fullmatch(segment):
        return segment
    if len(segment) > MAX_NAME_LENGTH:
        raise bad_request(messages.entity_name_too_long(len(segment)))
    raise bad_request(messages.ENTITY_NAME_ILLEGAL)


def activation_id(text: str) -> str:
    if len(text) != 32:
        raise bad_request(messages.activation_id_length(len(text)))
    if not _ACTIVATION_ID.fullmatch(text):
        raise bad_request(messages.ACTIVATION_ID_ILLEGAL)
    return text


def json_object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(messages.malformed(f"{what} must be a JSON object, not {_json_type(body)}."))
    return body


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def key_values(value: Any, field: str) -> list[dict[str, Any]]:
    """``parameters``/``annotations``: an array of ``{"key": string, "value": any}``; a later
    entry for the same key replaces an earlier one, as OpenWhisk's Parameters map does."""
    if value is None:
        return []
    # Parameter.scala reads annotations with the same reader, hence one message for both.
    if not isinstance(value, list):
        raise bad_request(messages.malformed(messages.PARAMETERS_MALFORMED))
    merged: dict[str, dict[str, Any]] = {}
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or "value" not in item:
            raise bad_request(messages.malformed(messages.PARAMETERS_MALFORMED))
        entry = {"key": item["key"], "value": item["value"]}
        if field == "parameters" and item.get("init") is True:
            entry["init"] = True
        merged[item["key"]] = entry
    return list(merged.values())


def compact_json(value: Any) -> str:
    """JSON as spray-json's compactPrint writes it (sizes and messages count these bytes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parameters_size(entries: list[dict[str, Any]]) -> int:
    """Parameters.size: each key's bytes plus the bytes of its value's compact JSON."""
    return sum(len(e["key"].encode("utf-8")) + len(compact_json(e["value"]).encode("utf-8")) for e in entries)


def as_map(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {entry["key"]: entry["value"] for entry in entries}


# (field, range attribute, below, exceeds, name in "must be whole number", name in "malformed"),
# the last two as the limits' spray-json readers say them (TimeLimit.scala and the others).
_LIMIT_CHECKS = (
    ("timeout", "timeout_ms", messages.duration_below, messages.duration_exceeds, "time", "time"),
    ("memory", "memory_mb", lambda v, a: messages.size_below("memory", v, a),
     lambda v, a: messages.size_exceeds("memory", v, a), "memory", "memory"),
    ("logs", "logs_mb", lambda v, a: messages.size_below("log", v, a),
     lambda v, a: messages.size_exceeds("log", v, a), "log", "log"),
    ("concurrency", "concurrency", messages.concurrency_below, messages.concurrency_exceeds,
     "intra concurrency", "concurrency"),
)


def limits(value: Any, ranges: LimitRanges, previous: Mapping[str, int] | None = None) -> dict[str, int]:
    """Merge given limits over the previous ones (or the defaults), each within its range."""
    merged = dict(previous) if previous else {name: getattr(ranges, attr)[1] for name, attr, *_ in _LIMIT_CHECKS}
    if value is None:
        return merged
    if not isinstance(value, dict):
        raise bad_request(messages.malformed(f"'limits' must be a JSON object, not {_json_type(value)}."))
    for name, attr, below, exceeds, whole_name, malformed_name in _LIMIT_CHECKS:
        if name not in value:
            continue
        number = value[name]
        # An int of any size is a number here (math.isfinite of a 400-digit int overflows).
        if isinstance(number, bool) or not isinstance(number, (int, float)) or \
                (isinstance(number, float) and not math.isfinite(number)):
            raise bad_request(messages.malformed(messages.limit_malformed(malformed_name)))
        if number != int(number):
            raise bad_request(messages.malformed(messages.limit_not_whole(whole_name)))
        number = int(number)
        low, _, high = getattr(ranges, attr)
        # OpenWhisk checks the maximum first (TimeLimit.checkNamespaceLimit and the others).
        if number > high:
            raise bad_request(exceeds(number, high))
        if number < low:
            raise bad_request(below(number, low))
        merged[name] = number
    return merged


def query_int(args: Mapping[str, str], name: str, default: int, collection: str) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    # Upstream reads limit and skip as a 32-bit Int: anything past it is "not an integer".
    if value is None or not INT32_MIN <= value <= INT32_MAX:
        raise bad_request(messages.malformed_query(name, messages.argument_not_integer(collection, raw)))
    return value


def paging(args: Mapping[str, str], ranges: LimitRanges, collection: str) -> tuple[int, int]:
    """``limit`` (0 means the maximum) and ``skip`` of a list request."""
    limit = query_int(args, "limit", ranges.list_page, collection)
    skip = query_int(args, "skip", 0, collection)
    if limit < 0 or limit > ranges.list_max:
        raise bad_request(messages.malformed_query(
            "limit", messages.list_limit_out_of_range(collection, limit, ranges.list_max)))
    if skip < 0:
        raise bad_request(messages.malformed_query("skip", messages.list_skip_out_of_range(collection, skip)))
    return (limit or ranges.list_max), skip


def query_flag(args: Mapping[str, str], name: str) -> bool:
    return args.get(name, "false").lower() == "true"


def check_size(size: int, allowed: int, field: str = "Request") -> None:
    if size > allowed:
        raise ApiError(413, messages.entity_too_big(field, size, allowed))


def namespace_name(segment: str) -> bool:
    """Whether ``segment`` can name a namespace (EntityPath's rule for one segment)."""
    return bool(_ENTITY_NAME.fullmatch(segment))


#: The most digits of an integer a double can come near (1.8e308).
MAX_INT_DIGITS = 308


def parse_json(data: bytes) -> Any:
    """A request body as JSON, or a 400 that says what is wrong with it: not
    JSON, NaN or Infinity (1e999 too), an integer no double holds, nesting
    deeper than the parser goes, a lone UTF-16 surrogate."""
    try:
        value = json.loads(data, parse_constant=_not_json, parse_float=_finite, parse_int=_bounded_int)
    except RecursionError:
        raise ApiError(400, messages.malformed(messages.JSON_TOO_DEEP)) from None
    except ValueError as exc:
        raise ApiError(400, messages.malformed(f"The body is not valid JSON ({exc}).")) from None
    # A \uD800-\uDFFF escape may be a lone surrogate, which is not Unicode (looked for without copying the body).
    if b"\\ud" in data or b"\\uD" in data:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, messages.malformed(messages.LONE_SURROGATE)) from None
    return value


def _not_json(constant: str) -> Any:
    """Python reads NaN and Infinity; JSON (and OpenWhisk) does not."""
    raise ValueError(f"{constant} is not a JSON value")


def _finite(text: str) -> float:
    """1e999 would become Infinity, which no JSON answer can carry."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is outside the range of a JSON number (a double)")
    return number


def _bounded_int(text: str) -> int:
    """An integer no double can hold (309 digits and more) is refused, as 1e999 is."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"the number {text[:40]}... ({len(text)} digits) is outside the range of a JSON number")
    return int(text)
