"""The report as a terminal table (rich)."""

from rich.console import Console
from rich.table import Table

from .activations import ActionFigures

PHASES = ("queue", "create", "start", "unpause", "restore", "init", "run", "logs")


def print_table(figures: list[ActionFigures], console: Console, *, title: str) -> None:
    table = Table(title=title)
    for column in ("action", "path", "n", "failed", "p50 ms", "p95 ms", "p99 ms", "max ms", "p50 / cold",
                   "phases p50 (ms)"):
        table.add_column(column, justify="left" if column in ("action", "path", "phases p50 (ms)") else "right")
    for entry in figures:
        for index, (path, f) in enumerate(entry.paths.items()):
            total = f.total
            numbers = ([f"{total[k]:.1f}" for k in ("p50", "p95", "p99", "max")] if total.get("n")
                       else ["-"] * 4)
            phases = ", ".join(f"{name} {f.phases[name]:.1f}" for name in PHASES if name in f.phases)
            table.add_row(entry.action if index == 0 else "", path, str(f.count), str(f.failures) or "0",
                          *numbers, f"{f.ratio_to_cold:.3f}" if f.ratio_to_cold is not None else "-", phases)
        table.add_section()
    console.print(table)
