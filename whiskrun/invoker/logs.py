"""Collect one activation's log lines from its container, up to the sentinels.

The proxy writes the sentinel on stdout and stderr after each activation;
Docker's log copier writes them to the json-file shortly after. Collection
stops at both sentinels, at the size limit, or at a deadline, so a missing
sentinel never hangs it.
"""

import time
from dataclasses import dataclass

from actionproxy.protocol import SENTINEL

from .backend.base import ContainerBackend, LogLine

TRUNCATED = "Logs were truncated because the total bytes size exceeds the limit of {limit} bytes."
MISSING = "There was an issue while collecting your logs. Data might be missing."
AFTER_FAILURE = "The action did not initialize or run as expected. Log data might be missing."


@dataclass(frozen=True)
class CollectedLogs:
    lines: tuple[str, ...]
    offset: int
    complete: bool


def format_line(line: LogLine) -> str:
    """OpenWhisk's form: time padded to 30 characters, stream, text."""
    return f"{line.time:<30} {line.stream}: {line.text}"


def collect(backend: ContainerBackend, container_id: str, offset: int, *, limit_bytes: int,
            wait_s: float, expect_sentinels: bool = True) -> CollectedLogs:
    deadline = time.monotonic() + (wait_s if expect_sentinels else min(wait_s, 0.05))
    lines: list[str] = []
    size = 0
    truncated = False
    sentinels = 0
    while True:
        chunk = backend.logs(container_id, offset)
        consumed = offset
        for line in chunk.lines:
            if line.text == SENTINEL:
                sentinels += 1
                if sentinels == 2:
                    break
                continue
            size += len(line.text.encode("utf-8"))
            if size > limit_bytes:
                truncated = True
            elif not truncated:
                lines.append(format_line(line))
        offset = chunk.offset
        if sentinels >= 2 or time.monotonic() >= deadline:
            break
        if chunk.offset == consumed:
            time.sleep(0.0005)
    complete = sentinels >= 2
    if limit_bytes <= 0:  # OpenWhisk: a log limit of 0 disables collection
        return CollectedLogs((), offset, complete)
    stamp = lines[-1][:30] if lines else ""
    if truncated:
        lines.append(f"{stamp:<30} stderr: " + TRUNCATED.format(limit=limit_bytes))
    if expect_sentinels and not complete:
        lines.append(f"{stamp:<30} stderr: {MISSING}")
    return CollectedLogs(tuple(lines), offset, complete)
