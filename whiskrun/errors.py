"""Errors of the whiskrun package.

Hierarchy::

    WhiskrunError               anything whiskrun reports to a user
      UsageError                bad input from the user: a file, a kind, a parameter
      ContainerError            a container could not be started, reached or removed
        ImageMissing            a runtime image is not built (run `make setup`)
"""


class WhiskrunError(Exception):
    """A failure told to the user as one sentence that says what to do."""


class UsageError(WhiskrunError):
    pass


class ContainerError(WhiskrunError):
    def __init__(self, message: str, *, container_id: str | None = None) -> None:
        super().__init__(message)
        self.container_id = container_id


class ImageMissing(ContainerError):
    pass
