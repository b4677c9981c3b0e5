"""Collecting one activation's logs up to the sentinels (openwhisk-api.md 9.6), from the fake backend.

Collection stops at two sentinels, at the size limit, or at its deadline: a
missing sentinel costs at most the wait time and is reported, never a hang.
"""

import threading
import time

import pytest

from actionproxy.protocol import SENTINEL
from tests.fakes import FakeBackend, concat, log_lines
from whiskrun.invoker.backend.base import LogLine
from whiskrun.invoker.logs import AFTER_FAILURE, MISSING, TRUNCATED, CollectedLogs, collect, format_line

pytestmark = pytest.mark.timeout(10)

CID = "c0ffee"
MB = 1024 * 1024
SENTINELS = concat(log_lines(SENTINEL, start=900), log_lines(SENTINEL, stream="stderr", start=901))


def shown(*lines: LogLine) -> tuple[str, ...]:
    return tuple(format_line(line) for line in lines)


def backend_with(*lines: LogLine, log_batch: int | None = None) -> FakeBackend:
    backend = FakeBackend(log_batch=log_batch)
    backend.write_logs(CID, *lines)
    return backend


def test_the_messages_are_openwhisks() -> None:
    assert TRUNCATED.format(limit=10) == "Logs were truncated because the total bytes size exceeds the limit of 10 bytes."
    assert MISSING == "There was an issue while collecting your logs. Data might be missing."
    assert AFTER_FAILURE == "The action did not initialize or run as expected. Log data might be missing."


@pytest.mark.parametrize("line, text", [
    pytest.param(LogLine("2024-01-01T00:00:00.123456789Z", "stdout", "hello"),
                 "2024-01-01T00:00:00.123456789Z stdout: hello", id="nanoseconds-fill-30"),
    pytest.param(LogLine("2024-01-01T00:00:00.1Z", "stderr", "  indented"),
                 "2024-01-01T00:00:00.1Z         stderr:   indented", id="short-time-padded"),
])
def test_format_line_is_openwhisks(line: LogLine, text: str) -> None:
    assert format_line(line) == text


@pytest.mark.parametrize("log_batch", [None, 1], ids=["one-read", "line-by-line"])
def test_collection_stops_at_two_sentinels_and_hides_them(log_batch: int | None) -> None:
    out = log_lines("hello", "world")
    err = log_lines("oops", stream="stderr", start=2)
    backend = backend_with(*out, *err, *SENTINELS, log_batch=log_batch)
    collected = collect(backend, CID, 0, limit_bytes=MB, wait_s=5)
    assert collected == CollectedLogs(shown(*out, *err), 5, True)


def test_lines_after_the_second_sentinel_are_not_this_activations() -> None:
    backend = backend_with(*log_lines("mine"), *SENTINELS, *log_lines("later", start=5))
    assert collect(backend, CID, 0, limit_bytes=MB, wait_s=5).lines == shown(*log_lines("mine"))


def test_each_activation_reads_from_the_previous_offset() -> None:
    backend = backend_with(*log_lines("first"), *SENTINELS)
    first = collect(backend, CID, 0, limit_bytes=MB, wait_s=5)
    backend.write_logs(CID, *log_lines("second", start=10), *SENTINELS)
    second = collect(backend, CID, first.offset, limit_bytes=MB, wait_s=5)
    assert (first.lines, first.offset) == (shown(*log_lines("first")), 3)
    assert second == CollectedLogs(shown(*log_lines("second", start=10)), 6, True)


def test_collection_waits_for_a_late_sentinel() -> None:
    early = log_lines("early")
    late = log_lines("late", stream="stderr", start=1)
    backend = backend_with(*early, SENTINELS[0])
    writer = threading.Timer(0.1, backend.write_logs, args=(CID, *late, SENTINELS[1]))
    began = time.monotonic()
    writer.start()
    collected = collect(backend, CID, 0, limit_bytes=MB, wait_s=5)
    writer.join()
    assert collected == CollectedLogs(shown(*early, *late), 4, True)
    assert 0.1 <= time.monotonic() - began < 2


@pytest.mark.parametrize("present", [(), SENTINELS[:1], SENTINELS[1:]], ids=["none", "stdout-only", "stderr-only"])
def test_a_missing_sentinel_ends_collection_at_the_deadline_and_says_so(present: tuple[LogLine, ...]) -> None:
    line = log_lines("hello")
    backend = backend_with(*line, *present)
    began = time.monotonic()
    collected = collect(backend, CID, 0, limit_bytes=MB, wait_s=0.2)
    elapsed = time.monotonic() - began
    assert collected == CollectedLogs((*shown(*line), f"{line[0].time} stderr: {MISSING}"), 1 + len(present), False)
    assert 0.2 <= elapsed < 1.0


def test_no_logs_at_all_give_only_the_missing_line() -> None:
    collected = collect(FakeBackend(), CID, 0, limit_bytes=MB, wait_s=0.05)
    assert collected == CollectedLogs((f"{'':<30} stderr: {MISSING}",), 0, False)


def test_without_sentinels_expected_it_returns_at_once_and_adds_nothing() -> None:
    line = log_lines("before the crash")
    backend = backend_with(*line)
    began = time.monotonic()
    collected = collect(backend, CID, 0, limit_bytes=MB, wait_s=30, expect_sentinels=False)
    assert collected == CollectedLogs(shown(*line), 1, False)
    assert time.monotonic() - began < 1


@pytest.mark.parametrize("texts, limit, kept", [
    pytest.param(("12345", "67890", "x", "y"), 10, 2, id="up-to-the-limit-exactly"),
    pytest.param(("12345", "678901", "x"), 10, 1, id="the-line-crossing-it-is-dropped"),
    pytest.param(("12345", "678901", "1234"), 10, 1, id="nothing-after-the-first-dropped"),
    pytest.param(("é", "é"), 3, 1, id="counted-in-utf8-bytes"),
])
def test_logs_over_the_limit_end_with_the_truncation_line(texts: tuple[str, ...], limit: int, kept: int) -> None:
    lines = log_lines(*texts)
    backend = backend_with(*lines, *SENTINELS)
    collected = collect(backend, CID, 0, limit_bytes=limit, wait_s=5)
    assert collected.lines == (*shown(*lines[:kept]), (
        f"{lines[kept - 1].time} stderr: Logs were truncated because the total bytes size exceeds "
        f"the limit of {limit} bytes."))
    assert collected.complete is True


def test_truncated_and_missing_sentinels_give_both_lines() -> None:
    lines = log_lines("12345", "678901")
    backend = backend_with(*lines)
    collected = collect(backend, CID, 0, limit_bytes=5, wait_s=0.05)
    stamp = lines[0].time
    assert collected.lines == (*shown(lines[0]), f"{stamp} stderr: {TRUNCATED.format(limit=5)}",
                               f"{stamp} stderr: {MISSING}")


def test_a_log_limit_of_zero_collects_nothing() -> None:
    backend = backend_with(*log_lines("hello"), *SENTINELS)
    assert collect(backend, CID, 0, limit_bytes=0, wait_s=5) == CollectedLogs((), 3, True)
