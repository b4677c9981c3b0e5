"""Action kinds and the images that run them (the runtimes manifest)."""

from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError


@dataclass(frozen=True)
class Kind:
    name: str
    image: str
    family: str
    default: bool = False


KINDS: tuple[Kind, ...] = (
    Kind("python:3.11", "whiskrun/action-python-v3.11:latest", "python", default=True),
    Kind("nodejs:18", "whiskrun/action-nodejs-v18:latest", "nodejs", default=True),
    Kind("blackbox", "whiskrun/dockerskeleton:latest", "blackbox", default=True),
)

_EXTENSIONS = {".py": "python", ".js": "nodejs", ".sh": "blackbox"}


def resolve(name: str) -> Kind:
    """``python:3.11`` or ``python:default`` -> the Kind; unknown names are refused."""
    family, _, version = name.partition(":")
    for kind in KINDS:
        if kind.name == name or (version == "default" and kind.family == family and kind.default):
            return kind
    known = ", ".join(kind.name for kind in KINDS)
    raise UsageError(f"The kind '{name}' is not supported; use one of {known}.")


def infer(path: Path) -> Kind:
    """The kind for a source file, as `wsk action create` infers it from the extension."""
    family = _EXTENSIONS.get(path.suffix)
    if family is None:
        raise UsageError(
            f"Cannot tell the kind of '{path.name}' from its extension; pass --kind "
            "(python:3.11, nodejs:18 or blackbox)."
        )
    return resolve(f"{family}:default")
