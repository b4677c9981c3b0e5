"""Errors the action proxy answers with.

Hierarchy::

    ProxyError                  an HTTP answer other than 200: status + message
      BadRequest                the request itself is wrong (400)
      InitFailed                the action could not be prepared or started
      RunFailed                 the activation could not produce a result

Every error carries the HTTP status, the message for the JSON body, an
optional detail for the container's logs, and whether a sentinel must follow.
"""

from typing import Any


class ProxyError(Exception):
    """An answer with a non-200 status and a JSON ``{"error": message}`` body."""

    status: int = 500

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        log_detail: str | None = None,
        sentinel: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.log_detail = log_detail
        self.sentinel = sentinel

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.message}


class BadRequest(ProxyError):
    status = 400


class InitFailed(ProxyError):
    status = 502


class RunFailed(ProxyError):
    status = 502
