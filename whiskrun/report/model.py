"""A report: samples grouped by action and path, with percentiles, the ratio
of each path to cold, phase medians and the noise of each median."""

import math
from collections import defaultdict
from typing import Any

from . import goals
from .samples import PHASES, START_PATHS, Sample
from .stats import percentile, summary


def median_noise(values: list[float]) -> float:
    """Half-width of the median's notch, 1.58 IQR / sqrt(n) (McGill, Tukey and Larsen
    1978, as box plots draw it): two medians whose notches overlap differ within noise."""
    if len(values) < 2:
        return math.inf
    return 1.58 * (percentile(values, 0.75) - percentile(values, 0.25)) / math.sqrt(len(values))


def _order(path: str) -> tuple[int, str]:
    return (START_PATHS.index(path), path) if path in START_PATHS else (len(START_PATHS), path)


def build(samples: list[Sample], source: dict[str, Any]) -> dict[str, Any]:
    """Everything a report shows, as JSON-ready data (written as report.json)."""
    grouped: dict[tuple[str, str], dict[str, list[Sample]]] = defaultdict(lambda: defaultdict(list))
    for sample in samples:
        grouped[(sample.action, sample.runtime)][sample.path].append(sample)
    groups = []
    for (action, runtime) in sorted(grouped):
        paths = grouped[(action, runtime)]
        cold_ok = [s.total_ms for s in paths.get("cold", []) if s.success and s.total_ms is not None]
        cold_p50 = percentile(cold_ok, 0.5) if cold_ok else None
        for path in sorted(paths, key=_order):
            entries = paths[path]
            values = [s.total_ms for s in entries if s.success and s.total_ms is not None]
            failures = [s for s in entries if not s.success]
            latency = summary(values)
            if len(values) >= 2:  # one sample has no spread to judge (and JSON has no Infinity)
                latency["noise_p50"] = median_noise(values)
            phases = {name: percentile([s.phases[name] for s in entries if s.success and name in s.phases], 0.5)
                      for name in PHASES if any(s.success and name in s.phases for s in entries)}
            groups.append({
                "action": action, "runtime": runtime, "path": path,
                "primitive": path not in START_PATHS,
                "count": len(entries), "failures": len(failures),
                "failure_samples": sorted({s.error for s in failures})[:5],
                "latency_ms": latency,
                "ratio_to_cold": (latency["p50"] / cold_p50 if values and cold_p50 and path in START_PATHS
                                  else None),
                "phases_p50_ms": phases,
                "samples_ms": values,
            })
    report = {"source": source, "groups": groups,
              "totals": {"samples": len(samples), "failures": sum(1 for s in samples if not s.success)}}
    # The goals compare forced paths with primitives measured in the same run: a bench run's.
    report["goals"] = goals.evaluate(report) if source.get("kind") == "bench" else []
    return report
