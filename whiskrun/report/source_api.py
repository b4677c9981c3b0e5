"""Activation records from a running `whiskrun serve` (or any OpenWhisk API)."""

import time
from typing import Any

import requests

from ..errors import UsageError

PAGE = 200  # OpenWhisk's largest page


def fetch(apihost: str, auth: str, *, name: str | None = None, since: int | None = None,
          upto: int | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
    """Full records (``docs=true``), newest first, paging until `limit` or the end."""
    base = apihost.rstrip("/")
    if "://" not in base:
        base = f"http://{base}"
    user, _, key = auth.partition(":")
    records: list[dict[str, Any]] = []
    session = requests.Session()
    if upto is None:
        # Pages are newest first by `skip`: a record added while paging would shift them.
        upto = int(time.time() * 1000)
    while len(records) < limit:
        params: dict[str, Any] = {"docs": "true", "limit": min(PAGE, limit - len(records)), "skip": len(records)}
        for key_name, value in (("name", name), ("since", since), ("upto", upto)):
            if value is not None:
                params[key_name] = value
        try:
            answer = session.get(f"{base}/api/v1/namespaces/_/activations", params=params, auth=(user, key),
                                 timeout=60)
        except requests.RequestException as exc:
            raise UsageError(f"Cannot reach the API at {base} ({exc}); is `whiskrun serve` running?") from exc
        if answer.status_code != 200:
            try:
                detail = answer.json().get("error", answer.text)
            except ValueError:
                detail = answer.text[:200]
            raise UsageError(f"The API at {base} refused to list activations: HTTP {answer.status_code}: {detail}")
        page = answer.json()
        records += page
        if len(page) < params["limit"]:
            break
    return records
