"""Timing facts of activation records (OpenWhisk's API view) grouped by
action and start path."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .stats import summary

#: The order start paths are shown in, fastest kind of start last.
PATHS = ("cold", "prewarm", "restore", "unpause", "warm")


@dataclass(frozen=True)
class Timing:
    action: str  # the path annotation: ns/[pkg/]name
    start_path: str
    total_ms: float  # waitTime + duration: from the request reaching the invoker to the result
    wait_ms: float
    init_ms: float | None
    phases: dict[str, float]
    success: bool


def timing_of(record: dict[str, Any]) -> Timing | None:
    """None for records without whiskrun's start path (sequences, platform failures)."""
    annotations = {a["key"]: a["value"] for a in record.get("annotations", [])}
    start_path = annotations.get("startPath")
    if start_path is None:
        return None
    wait = float(annotations.get("waitTime", 0))
    return Timing(action=annotations.get("path", f"{record['namespace']}/{record['name']}"),
                  start_path=start_path, total_ms=wait + float(record.get("duration", 0)), wait_ms=wait,
                  init_ms=float(annotations["initTime"]) if "initTime" in annotations else None,
                  phases={k: float(v) for k, v in (annotations.get("phases") or {}).items()},
                  success=bool(record.get("response", {}).get("success", record.get("statusCode", 1) == 0)))


@dataclass
class PathFigures:
    count: int
    failures: int
    total: dict[str, float]
    phases: dict[str, float]  # p50 of each phase
    ratio_to_cold: float | None = None


@dataclass
class ActionFigures:
    action: str
    paths: dict[str, PathFigures] = field(default_factory=dict)


def summarise(records: list[dict[str, Any]]) -> tuple[list[ActionFigures], int]:
    """Per action and start path: count, percentiles, phase medians, ratio of p50 to cold.
    Also returns how many records had no start path (sequences, platform failures)."""
    grouped: dict[str, dict[str, list[Timing]]] = defaultdict(lambda: defaultdict(list))
    skipped = 0
    for record in records:
        timing = timing_of(record)
        if timing is None:
            skipped += 1
            continue
        grouped[timing.action][timing.start_path].append(timing)
    figures = []
    for action in sorted(grouped):
        entry = ActionFigures(action)
        for path in sorted(grouped[action], key=lambda p: PATHS.index(p) if p in PATHS else len(PATHS)):
            timings = grouped[action][path]
            ok = [t for t in timings if t.success]
            phase_names = sorted({name for t in ok for name in t.phases})
            entry.paths[path] = PathFigures(
                count=len(timings), failures=len(timings) - len(ok), total=summary([t.total_ms for t in ok]),
                phases={name: summary([t.phases[name] for t in ok if name in t.phases])["p50"]
                        for name in phase_names})
        cold = entry.paths.get("cold")
        if cold and cold.total.get("n"):
            for figures_of_path in entry.paths.values():
                if figures_of_path.total.get("n") and cold.total["p50"] > 0:
                    figures_of_path.ratio_to_cold = figures_of_path.total["p50"] / cold.total["p50"]
        figures.append(entry)
    return figures, skipped
