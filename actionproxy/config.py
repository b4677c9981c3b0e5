"""The proxy's configuration, read once from the container's environment."""

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .protocol import ALLOW_CONCURRENT_ENV, ALLOW_REINIT_ENV, SNAPSHOT_SOURCE_ENV


@dataclass(frozen=True)
class ProxyConfig:
    """How this image runs actions.

    ``mode`` is ``loop`` (a long-lived launcher process, Python and Node.js)
    or ``native`` (``/action/exec`` once per activation, as the dockerskeleton).
    """

    mode: str
    launcher: tuple[str, ...]
    action_dir: Path
    allow_reinit: bool
    allow_concurrent: bool
    threads: int
    #: Worker threads until the after-restore hook: a snapshot source starts
    #: with fewer (each thread costs CRIU ptrace work at every restore).
    threads_at_start: int
    base_env: Mapping[str, str]
    #: A snapshot source (whiskrun's OW_SNAPSHOT_SOURCE=1): freeze the GC
    #: state after a successful /init, just before the dump.
    snapshot_source: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "ProxyConfig":
        mode = environ.get("OW_ACTION_MODE", "loop")
        if mode not in ("loop", "native"):
            raise ValueError(f"OW_ACTION_MODE must be 'loop' or 'native', not {mode!r}.")
        launcher = tuple(shlex.split(environ.get("OW_LAUNCHER", "")))
        if mode == "loop" and not launcher:
            raise ValueError("OW_LAUNCHER must name the launcher command for loop mode.")
        # Only runtimes that can overlap activations (Node.js) declare support;
        # the container-level switch is OpenWhisk's __OW_ALLOW_CONCURRENT.
        concurrent = (
            environ.get("OW_SUPPORTS_CONCURRENCY", "false").lower() == "true"
            and environ.get(ALLOW_CONCURRENT_ENV, "false").lower() == "true"
        )
        default_threads = "128" if concurrent else "4"
        threads = int(environ.get("OW_PROXY_THREADS", default_threads))
        at_start = int(environ.get("OW_PROXY_THREADS_AT_SNAPSHOT", threads))
        return cls(
            mode=mode,
            launcher=launcher,
            action_dir=Path(environ.get("OW_ACTION_DIR", "/action")),
            allow_reinit=environ.get(ALLOW_REINIT_ENV, "0").lower() in ("1", "true"),
            allow_concurrent=concurrent,
            threads=threads,
            threads_at_start=max(1, min(threads, at_start)),
            base_env=dict(environ),
            snapshot_source=environ.get(SNAPSHOT_SOURCE_ENV) == "1",
        )
