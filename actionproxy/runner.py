"""What the Flask app needs from a runtime: init once, then run."""

from typing import Any, Protocol

from .payloads import InitRequest, RunRequest


class Runner(Protocol):
    """A way of running one action: a launcher loop or a native executable."""

    def init(self, request: InitRequest) -> None:
        """Prepare the action; raise a ProxyError when it cannot be run."""

    def run(self, request: RunRequest) -> Any:
        """Run one activation and return its JSON result; raise a ProxyError otherwise."""

    def after_restore(self) -> Any:
        """Called once after a CRIU restore, before the clone's first /run."""
