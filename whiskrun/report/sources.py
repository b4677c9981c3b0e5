"""Where a report's samples come from: a bench run folder, a report.json
written earlier, or a running server's activation records."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..benchmark import runfile
from ..errors import UsageError
from . import model
from .samples import from_activation
from .source_api import fetch

DEFAULT_APIHOST = "http://localhost:3233"


def wskprops(environ: Mapping[str, str]) -> dict[str, str]:
    """The keys of `wsk`'s properties file: WSK_CONFIG_FILE or ~/.wskprops."""
    path = Path(environ.get("WSK_CONFIG_FILE", Path.home() / ".wskprops"))
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.strip().startswith("#"):
                values[key.strip()] = value.strip()
    return values


def api_target(apihost: str | None, auth: str | None, environ: Mapping[str, str],
               guest_key: str) -> tuple[str, str]:
    """The API and key as `wsk` would pick them: options, WHISK_* variables, the
    properties file, then OpenWhisk standalone's defaults."""
    props = wskprops(environ)
    return (apihost or environ.get("WHISK_APIHOST") or props.get("APIHOST") or DEFAULT_APIHOST,
            auth or environ.get("WHISK_AUTH") or props.get("AUTH") or guest_key)


def bench_report(run: Path | None) -> tuple[dict[str, Any], Path]:
    """The report of a bench run (the latest in this folder when none is named) and the
    folder its outputs go to."""
    folder = run if run is not None else runfile.latest(Path("."))
    meta, samples = runfile.read(folder)
    folder = folder if folder.is_dir() else folder.parent
    if not samples:
        raise UsageError(f"The run {folder} has no samples (it was stopped before the first one); "
                         "run `whiskrun bench` again.")
    return model.build(samples, {"kind": "bench", "run": str(folder), **meta}), folder


def load_report(path: Path) -> dict[str, Any]:
    """A report from a run folder, its samples.json, or a report.json."""
    if path.is_file() and path.name != runfile.SAMPLES_FILE:
        try:
            loaded = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UsageError(f"Cannot read the report {path}: {exc}.") from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("groups"), list):
            raise UsageError(f"{path} is not a report.json written by `whiskrun report`.")
        return loaded
    meta, samples = runfile.read(path)
    return model.build(samples, {"kind": "bench", "run": str(path), **meta})


def server_report(apihost: str, auth: str, *, name: str | None, since: int | None, upto: int | None,
                  limit: int, command: str) -> tuple[dict[str, Any] | None, int]:
    """The report of a server's records (None when none has a start path) and how many
    records were read."""
    records = fetch(apihost, auth, name=name, since=since, upto=upto, limit=limit)
    samples = [s for s in map(from_activation, records) if s is not None]
    if not samples:
        return None, len(records)
    source = {"kind": "server", "apihost": apihost, "command": command, "activations": len(records),
              "without_start_path": len(records) - len(samples)}
    return model.build(samples, source), len(records)

