"""Errors of the invoker package.

Hierarchy::

    InvokerError
      BackendError              the container engine failed a lifecycle verb
        ContainerNotFound       the container is gone
        ImageNotFound           the runtime image is not built
        CheckpointUnsupported   CRIU checkpoint/restore is not available
      ContainerStartupError     a container started but never listened on 8080
      PoolExhausted             the activation queue is full
      InvalidTransition         a container was moved between states illegally (a bug)

Every error carries the container id where one is involved. Failures of the
action itself (init or run errors, timeouts, OOM) are not exceptions: they
become activation records with OpenWhisk's status and message.
"""


class InvokerError(Exception):
    def __init__(self, message: str, *, container_id: str | None = None) -> None:
        super().__init__(message)
        self.container_id = container_id


class BackendError(InvokerError):
    pass


class ContainerNotFound(BackendError):
    pass


class ImageNotFound(BackendError):
    pass


class CheckpointUnsupported(BackendError):
    pass


class ContainerStartupError(InvokerError):
    pass


class PoolExhausted(InvokerError):
    pass


class InvalidTransition(InvokerError):
    pass
