"""The project's speed goals, judged on a report of a bench run (issues 2-4):
each a ratio of figures measured side by side in the same run."""

import math
from typing import Any


def _groups(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    by_workload: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for group in report["groups"]:
        by_workload.setdefault((group["action"], group["runtime"]), {})[group["path"]] = group
    return by_workload


def evaluate(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per goal and workload: the figure, the target, met or not; goals whose
    figures were not measured in the run are left out."""
    results = []
    for (action, runtime), paths in _groups(report).items():
        def p50(path: str, phase: str | None = None) -> float:
            group = paths.get(path)
            if group is None:
                return math.nan
            if phase is not None:
                return group["phases_p50_ms"].get(phase, math.nan)
            return group["latency_ms"].get("p50", math.nan)

        def add(goal: str, value: float, target: float, met: bool) -> None:
            if not math.isnan(value):
                results.append({"action": action, "runtime": runtime, "goal": goal, "value": value,
                                "target": target, "met": met})

        added = p50("warm") - p50("raw direct /run")
        add("warm adds under 1 ms (p50) to a direct /run", added, 1.0, added < 1.0)
        ratio = p50("unpause") / (p50("raw runc resume") + p50("raw direct /run"))
        add("unpause within 1.5x of runc resume + a direct /run", ratio, 1.5, ratio <= 1.5)
        raw_cold = p50("raw docker run") + p50("raw docker run", "init") + p50("raw docker run", "run")
        ratio = p50("cold") / raw_cold
        add("cold within 1.15x of docker run + /init + /run", ratio, 1.15, ratio <= 1.15)
        if "restore" in paths and paths["restore"]["latency_ms"].get("n"):
            target = 15.0 if "heavy" in action else 8.0
            ratio = p50("cold") / p50("restore")
            add(f"restore at least {target:.0f}x faster than cold", ratio, target, ratio >= target)
            if "prewarm" in paths and paths["prewarm"]["latency_ms"].get("n"):
                versus = p50("restore") / p50("prewarm")
                add("restore p50 at or below the stem cell's (prewarm) p50", versus, 1.0, versus <= 1.0)
            spread = paths["restore"]["latency_ms"]["p99"] / p50("restore")
            add("restore p99 within 2x of its p50", spread, 2.0, spread <= 2.0)
            # The raw sample is the engine's restore into a ready sandbox plus a direct /run.
            overhead = p50("restore") / p50("raw CRIU restore") - 1
            add("the invoker adds under 10 % to its raw restore engine + /run", overhead, 0.10, overhead < 0.10)
    return results
