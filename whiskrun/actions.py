"""Read an action from a file into an ActionSpec, refusing what cannot run."""

import base64
import io
import zipfile
from pathlib import Path

from . import kinds
from .errors import UsageError
from .invoker.records import ActionSpec, Limits

#: What a zip must hold at its root, per kind family (OpenWhisk's rules).
ZIP_ENTRY_POINTS = {
    "python": (("__main__.py",), "a __main__.py"),
    "nodejs": (("package.json", "index.js"), "a package.json or an index.js"),
    "blackbox": (("exec",), "an executable named exec"),
}


def load_action(path: Path, *, kind: str | None, main: str = "main", limits: Limits = Limits(),
                namespace: str = "guest", name: str | None = None) -> ActionSpec:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read the action file {path}: {exc.strerror or exc}.") from exc
    binary = zipfile.is_zipfile(io.BytesIO(data))
    if binary and not kind:
        raise UsageError(f"{path.name} is a zip, whose kind cannot be inferred; pass --kind "
                         "(python:3.11, nodejs:18 or blackbox).")
    chosen = kinds.resolve(kind) if kind else kinds.infer(path)
    if binary:
        _check_zip(path, data, chosen.family, main)
        code = base64.b64encode(data).decode("ascii")
    else:
        try:
            code = data.decode("utf-8")
        except UnicodeDecodeError:
            if chosen.family != "blackbox":
                raise UsageError(f"{path} is not UTF-8 text; a {chosen.name} action must be source "
                                 "code or a zip.") from None
            code, binary = base64.b64encode(data).decode("ascii"), True
    return ActionSpec(namespace=namespace, name=name or path.stem, kind=chosen.name, image=chosen.image,
                      code=code, main=main, binary=binary, limits=limits)


def _check_zip(path: Path, data: bytes, family: str, main: str) -> None:
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    wanted, described = ZIP_ENTRY_POINTS[family]
    if family == "nodejs" and "." in main:
        wanted = (main.split(".")[0] + ".js",)
        described = f"the file {wanted[0]} named by --main {main}"
    if not names.intersection(wanted):
        raise UsageError(f"{path.name} has no entry point: a {family} zip needs {described} at its root.")
