"""Errors of the API package.

Hierarchy::

    ApiError            a request refused with an HTTP status and OpenWhisk's message;
                        answered as ``{"error": message, "code": transaction id}``
    StoreError          the SQLite store could not be opened or written
    ServerSetupError    ``whiskrun serve`` could not prepare the host or the data folder
"""

from ..errors import WhiskrunError


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class StoreError(WhiskrunError):
    pass


class ServerSetupError(WhiskrunError):
    pass


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str = "The requested resource does not exist.") -> ApiError:
    return ApiError(404, message)
