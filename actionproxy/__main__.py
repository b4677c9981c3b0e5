"""Serve the proxy on port 8080 with waitress (Debian's python3-waitress).

waitress rather than gunicorn: one process with no master/worker heartbeat,
so a paused or CRIU-restored container wakes up with nothing timed out.
"""

import gc
import logging
import os
import sys

from waitress import create_server

from .app import create_app
from .config import ProxyConfig
from .loop import LoopRunner
from .native import NativeRunner
from .protocol import PORT


def freeze_gc() -> None:
    """Before the dump of a snapshot source: what exists now moves to the GC's
    permanent generation, so that no collection in a clone walks (and writes
    to: gc_refs, refcounts) the pages it shares with the other clones."""
    gc.collect()
    gc.freeze()


def main() -> None:
    try:
        config = ProxyConfig.from_env(os.environ)
    except ValueError as exc:
        sys.exit(f"actionproxy: {exc}")
    runner = NativeRunner(config) if config.mode == "native" else LoopRunner(config)
    servers = []

    def all_threads() -> None:
        # After a restore: the workers a snapshot source was started without.
        servers[0].task_dispatcher.set_thread_count(config.threads)

    app = create_app(runner, allow_reinit=config.allow_reinit, concurrent=config.allow_concurrent,
                     on_restored=all_threads, after_init=freeze_gc if config.snapshot_source else None)
    # OpenWhisk's tests require the proxy to print nothing of its own.
    logging.getLogger("waitress").setLevel(logging.CRITICAL)
    servers.append(create_server(
        app,
        host="0.0.0.0",
        port=PORT,
        threads=config.threads_at_start,
        connection_limit=max(100, config.threads * 2),
        channel_timeout=3600,
    ))
    servers[0].run()


if __name__ == "__main__":
    main()
