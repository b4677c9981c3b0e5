"""The report as a terminal table (rich)."""

from typing import Any

from rich.console import Console
from rich.table import Table

from .samples import PHASES


def print_table(report: dict[str, Any], console: Console, *, title: str) -> None:
    table = Table(title=title)
    for column in ("action", "runtime", "path", "n", "failed", "p50 ms", "p95 ms", "p99 ms", "max ms",
                   "p50 / cold", "phases p50 (ms)"):
        table.add_column(column, justify="left" if column in ("action", "runtime", "path", "phases p50 (ms)")
                         else "right")
    previous = None
    for group in report["groups"]:
        key = (group["action"], group["runtime"])
        if previous is not None and key != previous:
            table.add_section()
        latency = group["latency_ms"]
        numbers = ([f"{latency[k]:.1f}" for k in ("p50", "p95", "p99", "max")] if latency.get("n")
                   else ["-"] * 4)
        phases = ", ".join(f"{name} {group['phases_p50_ms'][name]:.1f}" for name in PHASES
                           if name in group["phases_p50_ms"])
        ratio = group["ratio_to_cold"]
        table.add_row(group["action"] if key != previous else "", group["runtime"] if key != previous else "",
                      group["path"], str(group["count"]), str(group["failures"]), *numbers,
                      f"{ratio:.3f}" if ratio is not None else "-", phases)
        previous = key
    console.print(table)


def print_comparison(rows: list[dict[str, Any]], console: Console, *, title: str) -> None:
    table = Table(title=title)
    for column in ("action", "runtime", "path", "p50 old → new", "p50 ratio", "p95 old → new", "p95 ratio",
                   "p99 old → new", "p99 ratio"):
        table.add_column(column, justify="left" if column in ("action", "runtime", "path") else "right")
    for row in rows:
        cells = []
        for name in ("p50", "p95", "p99"):
            figure = row["figures"].get(name)
            if figure is None:
                cells += [row.get("note", "-"), ""]
                continue
            ratio = figure["ratio"]
            mark = "≈ noise" if figure["within_noise"] else ("slower" if ratio and ratio > 1 else "faster")
            cells += [f"{figure['old']:.1f} → {figure['new']:.1f}",
                      f"{ratio:.2f}x {mark}" if ratio is not None else "-"]
        table.add_row(row["action"], row["runtime"], row["path"], *cells)
    console.print(table)
    console.print("≈ noise: the 95 % bootstrap intervals of the two figures overlap, so the change is within "
                  "what re-running either side could give. A tail figure from few samples (a p95 needs about "
                  "70, a p99 about 370) cannot be bounded and is always marked so.")


def print_goals(report: dict[str, Any], console: Console) -> None:
    """The speed goals a bench run can judge (whiskrun/report/goals.py)."""
    if not report.get("goals"):
        return
    table = Table(title="Goals, from figures measured side by side in this run")
    for column in ("action", "goal", "figure", "target", ""):
        table.add_column(column, justify="right" if column in ("figure", "target") else "left")
    for goal in report["goals"]:
        table.add_row(goal["action"], goal["goal"], f"{goal['value']:.3f}", f"{goal['target']:g}",
                      "met" if goal["met"] else "[bold]missed[/bold]")
    console.print(table)
