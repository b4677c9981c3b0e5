"""The /init and /run bodies, checked and typed at the edge."""

from dataclasses import dataclass, field
from typing import Any

from .env import init_environment, run_context
from .errors import BadRequest, ProxyError
from .protocol import NOT_DICT_ARGUMENT


@dataclass(frozen=True)
class InitRequest:
    code: str | None
    binary: bool
    main: str
    name: str | None
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Any) -> "InitRequest":
        if not isinstance(body, dict):
            raise BadRequest("The /init body must be a JSON object such as {\"value\": {\"code\": ...}}.")
        value = body.get("value")
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise BadRequest("The /init field 'value' must be a JSON object holding code, main, binary and env.")
        code = _optional(value, "code", str, "a string")
        binary = _optional(value, "binary", bool, "true or false")
        main = _optional(value, "main", str, "a string naming the entry point")
        name = _optional(value, "name", str, "a string")
        env = _optional(value, "env", dict, "a JSON object of variables")
        return cls(
            code=code,
            binary=bool(binary),
            main=main or "main",
            name=name,
            env=init_environment(env),
        )


@dataclass(frozen=True)
class RunRequest:
    value: Any
    context: dict[str, str]

    @classmethod
    def from_json(cls, body: Any) -> "RunRequest":
        if body is None:  # a JSON null body: both upstream proxies run it as {}
            body = {}
        if not isinstance(body, dict):
            # dockerskeleton answers 404 for anything that is not an object.
            raise ProxyError(NOT_DICT_ARGUMENT, status=404)
        value = body.get("value", {})
        if not isinstance(value, (dict, list)):
            raise ProxyError(NOT_DICT_ARGUMENT, status=404)
        return cls(value=value, context=run_context(body))


def _optional(value: dict[str, Any], key: str, kind: type, described: str) -> Any:
    item = value.get(key)
    if item is None or isinstance(item, kind):
        return item
    raise BadRequest(
        f"The /init field '{key}' must be {described}, not {type(item).__name__}; "
        "fix the field or leave it out."
    )
