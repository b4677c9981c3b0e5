"""``whiskrun report --compare OLD NEW``: every figure of two reports side by
side with its ratio, and whether the change is within the runs' own noise."""

from typing import Any

import numpy

FIGURES = ("p50", "p95", "p99")
RESAMPLES = 300


def interval(samples: list[float], fraction: float, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of a percentile (numpy's "nearest", as stats.percentile), seeded
    so that a comparison is repeatable.

    A bootstrap never reaches past the samples, so a side that even the sample's extreme
    does not bound with 97.5 % confidence (fewer than 6 samples for a median, 72 for a p95,
    368 for a p99) is left open: otherwise two runs of the same code differ "beyond noise"
    in 10-20 % of their p95s and p99s."""
    values = numpy.asarray(samples, dtype=float)
    if len(values) < 2:
        return (-numpy.inf, numpy.inf)
    rng = numpy.random.default_rng(seed)
    draws = rng.choice(values, size=(RESAMPLES, len(values)), replace=True)
    estimates = numpy.percentile(draws, fraction * 100, axis=1, method="nearest")
    low, high = numpy.percentile(estimates, [2.5, 97.5])
    # The sample's minimum is below the true percentile unless every sample is above it:
    # probability (1 - fraction) ** n; its maximum is above it but with probability fraction ** n.
    if (1 - fraction) ** len(values) > 0.025:
        low = -numpy.inf
    if fraction ** len(values) > 0.025:
        high = numpy.inf
    return float(low), float(high)


def _key(group: dict[str, Any]) -> tuple[str, str, str]:
    return (group["action"], group["runtime"], group["path"])


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (action, runtime, path) present in either report."""
    old_groups = {_key(g): g for g in old["groups"]}
    new_groups = {_key(g): g for g in new["groups"]}
    rows = []
    for key in list(old_groups) + [k for k in new_groups if k not in old_groups]:
        before, after = old_groups.get(key), new_groups.get(key)
        row: dict[str, Any] = {"action": key[0], "runtime": key[1], "path": key[2], "figures": {}}
        if before is None or after is None or not before["samples_ms"] or not after["samples_ms"]:
            row["note"] = ("only in the old report" if after is None else "only in the new report"
                           if before is None else "no successful samples on one side")
            rows.append(row)
            continue
        for name, fraction in zip(FIGURES, (0.50, 0.95, 0.99)):
            was, now = before["latency_ms"][name], after["latency_ms"][name]
            old_low, old_high = interval(before["samples_ms"], fraction)
            new_low, new_high = interval(after["samples_ms"], fraction)
            row["figures"][name] = {
                "old": was, "new": now, "ratio": now / was if was else None,
                # The intervals overlap: the change is within what re-running either side could give.
                "within_noise": not (new_high < old_low or new_low > old_high),
            }
        rows.append(row)
    return rows
