"""Clocks and intervals. Phases are measured on a monotonic clock; the
epoch-millisecond fields of a record come from the wall clock."""

import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""

    def wall_ms(self) -> int:
        """Milliseconds since the epoch."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Interval:
    """A span on the monotonic clock, as OpenWhisk's Interval(start, end)."""

    start: float
    end: float

    @property
    def duration_ms(self) -> float:
        return (self.end - self.start) * 1000.0
