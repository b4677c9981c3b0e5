"""Environments for action processes, always built as new dicts.

The proxy never writes to its own ``os.environ``: OpenWhisk's Flask
dockerskeleton did (``env = os.environ``), leaking one activation's
``__OW_*`` values into the next process and into the proxy itself.
"""

import json
from collections.abc import Mapping
from typing import Any

from .protocol import context_variable


def stringify(value: Any) -> str:
    """Render a value as OpenWhisk's invoker does for environment variables."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def init_environment(init_env: Mapping[str, Any] | None) -> dict[str, str]:
    """The ``env`` of an /init as strings; ``null`` means none."""
    return {str(key): stringify(value) for key, value in (init_env or {}).items()}


def run_context(body: Mapping[str, Any]) -> dict[str, str]:
    """Every top-level /run key except ``value`` as an ``__OW_*`` variable."""
    return {
        context_variable(key): stringify(value) for key, value in body.items() if key != "value"
    }


def merged(*layers: Mapping[str, str]) -> dict[str, str]:
    """A new environment: later layers win."""
    result: dict[str, str] = {}
    for layer in layers:
        result.update(layer)
    return result
