"""PNG pictures of a report: latency distributions, phase medians and CDFs, one
panel per (action, runtime).

Built on `matplotlib.figure.Figure` with the Agg renderer and never pyplot, so
no global figure state is kept between calls (a server or a test can draw
concurrently). Each function returns None when no sample of the report
succeeded: the caller then says so instead of writing a blank picture.
"""

import io
import math
import textwrap
from collections.abc import Callable
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .samples import PHASES, START_PATHS

Group = dict[str, Any]
Panel = tuple[str, list[Group]]

#: One colour per start path, the same in every picture (matplotlib's tab10).
PATH_COLOURS = {"cold": "#d62728", "prewarm": "#ff7f0e", "restore": "#9467bd", "unpause": "#1f77b4",
                "warm": "#2ca02c"}
#: Primitives get their own hues (drawn dashed or grey), spares for names added later.
PRIMITIVE_COLOURS = {"raw docker run": "#8c564b", "raw direct /run": "#7f7f7f", "raw runc resume": "#bcbd22",
                     "raw CRIU restore": "#17becf"}
SPARE_COLOURS = ("#e377c2", "#393b79", "#637939", "#8c6d31")
PRIMITIVE_FILL = "#d9d9d9"
#: ColorBrewer Set2 for the eight phases every path has, and darker tones for the
#: rarer ones (a joiner's wait, a primitive's resume, the after-restore hook).
PHASE_COLOURS = {"queue": "#66c2a5", "create": "#fc8d62", "start": "#8da0cb", "unpause": "#e78ac3",
                 "restore": "#a6d854", "init": "#ffd92f", "run": "#e5c494", "logs": "#b3b3b3",
                 "wait": "#1b9e77", "resume": "#7570b3", "hook": "#66a61e",
                 "refill.cpu": "#999999",  # the invoker's CPU while it makes a restore sandbox
                 # the restore's steps: greens from light to dark, in the order they happen
                 "restore.sandbox": "#e5f5e0", "restore.mount": "#c7e9c0", "restore.criu.fork": "#a1d99b",
                 "restore.criu.tasks": "#74c476", "restore.criu.other": "#41ab5d", "restore.criu": "#31a354",
                 "restore.runc": "#238b45", "restore.listen": "#006d2c"}
assert set(PHASE_COLOURS) == set(PHASES), "every phase needs a colour"
NOTE_COLOUR = "#b2182b"
PANEL_SIZE = (7.0, 4.6)  # inches per panel at 100 dpi: labels stay legible at 8 panels
SINGLE_PANEL_SIZE = (9.0, 5.6)
LOG_FLOOR_MS = 1e-3  # log axes cannot show 0; a sample this small is below any timer's resolution
#: A bar below this share of the tallest beside it moves to a zoomed axis of its own (up to
#: ZOOM_TIERS axes per panel): a warm start's phases are invisible on a cold start's scale.
ZOOM_BELOW = 0.12
ZOOM_TIERS = 3


def latency_distribution(report: dict[str, Any]) -> bytes | None:
    """Notched box plots per start path (START_PATHS order), then the raw primitives in grey."""
    legend: list[Artist] = [Line2D([], [], color="black", linewidth=1.5, label="median (nearest rank)")]
    if any(g["primitive"] and g["samples_ms"] for g in report.get("groups", [])):
        legend.append(Patch(facecolor=PRIMITIVE_FILL, edgecolor="black", hatch="//",
                            label="raw primitive, measured alongside"))
    return _draw(report, "Activation latency per start path",
                 "box: quartiles · notch: median ± 1.58·IQR/√n (overlapping notches: within noise) · "
                 "whiskers: 1.5·IQR · dots: beyond", _box_panel, legend)


def phase_breakdown(report: dict[str, Any]) -> bytes | None:
    """A stacked bar of phase medians per start path (then primitives that record phases)."""
    present = {name for _, groups in _panels(report) for g in groups for name in g["phases_p50_ms"]}
    legend: list[Artist] = [Patch(facecolor=PHASE_COLOURS[name], edgecolor="black", label=name)
                            for name in PHASES if name in present]
    legend.append(Line2D([], [], color="black", marker="_", linestyle="none", markersize=14, markeredgewidth=2,
                         label="total p50"))
    return _draw(report, "Where the time goes: median of each phase",
                 "stacked medians of each phase (they need not add up to the median total) · right: short "
                 "paths on their own scale · hatched: raw primitives, whose phases add the steps after the timed "
                 "one", _phase_panel, legend)


def latency_cdf(report: dict[str, Any]) -> bytes | None:
    """The empirical CDF of each start path; primitives dashed."""
    present = {g["path"] for _, groups in _panels(report) for g in groups if g["samples_ms"]}
    legend: list[Artist] = [Line2D([], [], color=_colour(path), linestyle="--" if _primitive(path) else "-",
                                   linewidth=2, label=path)
                            for path in [*START_PATHS, *sorted(present - set(START_PATHS))] if path in present]
    return _draw(report, "Cumulative distribution of activation latency",
                 "fraction of samples at or below each latency · dotted: p50, p95, p99 · dashed: raw primitives",
                 _cdf_panel, legend)


# -- the three kinds of panel ------------------------------------------------------------------------------


def _box_panel(panel: SubFigure, groups: list[Group]) -> None:
    ax = panel.subplots()
    positions = list(range(1, len(groups) + 1))
    drawn = [(x, g) for x, g in zip(positions, groups) if g["samples_ms"]]
    if drawn:
        # The model's nearest-rank median and notch, so that the picture and the table agree.
        medians, notches = [], []
        for _, g in drawn:
            p50, noise = g["latency_ms"]["p50"], g["latency_ms"].get("noise_p50", math.inf)
            medians.append(max(p50, LOG_FLOOR_MS))
            # A notch reaching zero or below cannot be drawn on a log axis: it stops at p50 / 100.
            notches.append((max(p50 - noise, p50 / 100, LOG_FLOOR_MS), p50 + noise) if math.isfinite(noise)
                           else None)
        boxes = ax.boxplot([[max(v, LOG_FLOOR_MS) for v in g["samples_ms"]] for _, g in drawn],
                           positions=[x for x, _ in drawn], widths=0.6, notch=True, patch_artist=True,
                           usermedians=medians, conf_intervals=notches,
                           medianprops={"color": "black", "linewidth": 1.5},
                           flierprops={"marker": ".", "markersize": 3, "alpha": 0.5})
        for box, (_, g) in zip(boxes["boxes"], drawn):
            if g["primitive"]:
                box.set(facecolor=PRIMITIVE_FILL, hatch="//")
            else:
                box.set(facecolor=PATH_COLOURS.get(g["path"], "#bbbbbb"), alpha=0.8)
        _log_axis(ax, ax.yaxis)
        ax.set_ylabel("latency (ms, log scale)")
        ax.grid(axis="y", which="major", alpha=0.3)
    _separate_primitives(ax, groups)
    _slot_labels(ax, groups, positions)
    _note_missing(ax, groups, positions, has_data=bool(drawn))


def _phase_panel(panel: SubFigure, groups: list[Group]) -> None:
    # Primitives that record no phase (raw direct /run) say nothing here.
    groups = [g for g in groups if not g["primitive"] or g["phases_p50_ms"]]
    tiers = _tiers(groups)
    axes = panel.subplots(1, len(tiers), width_ratios=[len(t) for t in tiers], squeeze=False)[0]
    for index, (ax, tier) in enumerate(zip(axes, tiers)):
        _phase_bars(ax, tier)
        if index:
            ax.set_ylabel("")
            ax.set_title("zoomed: own scale", fontsize=9, color="grey")


def _tiers(groups: list[Group]) -> list[list[Group]]:
    """Groups split by bar height, tallest first, each tier within 1 / ZOOM_BELOW of its
    tallest bar; slots without a bar (failed, no phases) stay in the first tier."""
    tiers: list[list[Group]] = []
    rest = groups
    while rest:
        tallest = max(map(_bar_height, rest))
        if len(tiers) == ZOOM_TIERS - 1 or tallest == 0:
            tiers.append(rest)
            break
        tier = [g for g in rest if _bar_height(g) >= ZOOM_BELOW * tallest or (not tiers and not _bar_height(g))]
        tiers.append(tier)
        rest = [g for g in rest if not any(g is t for t in tier)]
    return tiers


def _bar_height(group: Group) -> float:
    if not group["samples_ms"] or not group["phases_p50_ms"]:
        return 0.0
    stacked = sum(group["phases_p50_ms"].values())
    return stacked if group["primitive"] else max(stacked, group["latency_ms"]["p50"])


def _phase_bars(ax: Axes, groups: list[Group]) -> None:
    positions = list(range(1, len(groups) + 1))
    drawn = False
    for x, g in zip(positions, groups):
        if not g["samples_ms"] or not g["phases_p50_ms"]:
            continue
        bottom = 0.0
        for name in PHASES:
            value = g["phases_p50_ms"].get(name)
            if value is None:
                continue
            ax.bar(x, value, bottom=bottom, width=0.6, color=PHASE_COLOURS[name], edgecolor="white",
                   linewidth=0.5, hatch="//" if g["primitive"] else None)
            bottom += value
        if not g["primitive"]:  # a primitive's total times one step only; its marker would mislead
            ax.plot([x], [g["latency_ms"]["p50"]], marker="_", color="black", markersize=22, markeredgewidth=2)
        ax.annotate(f"Σ {bottom:.3g}", (x, _bar_height(g)), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
        drawn = True
    if drawn:
        ax.set_ylabel("phase median (ms)")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.08)  # room for the sums above the bars
        ax.grid(axis="y", alpha=0.3)
    _separate_primitives(ax, groups)
    _slot_labels(ax, groups, positions)
    _note_missing(ax, groups, positions, has_data=drawn, phases=True)


def _cdf_panel(panel: SubFigure, groups: list[Group]) -> None:
    ax = panel.subplots()
    drawn = [g for g in groups if g["samples_ms"]]
    for g in drawn:
        values = sorted(max(v, LOG_FLOOR_MS) for v in g["samples_ms"])
        fractions = [(i + 1) / len(values) for i in range(len(values))]
        ax.step([values[0], *values], [0.0, *fractions], where="post", color=_colour(g["path"]),
                linestyle="--" if g["primitive"] else "-", linewidth=1.6)
    missing = [g for g in groups if not g["samples_ms"]]
    if drawn:
        _log_axis(ax, ax.xaxis)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("latency (ms, log scale)")
        ax.set_ylabel("fraction of samples ≤ latency")
        for level, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
            ax.axhline(level, color="grey", linestyle=":", linewidth=0.8)
            ax.annotate(name, (1.0, level), xycoords=("axes fraction", "data"), xytext=(2, 0),
                        textcoords="offset points", fontsize=7, va="center", color="grey")
        ax.grid(which="major", alpha=0.3)
        if missing:
            ax.text(0.98, 0.04, "no successful samples:\n" + "\n".join(
                f"{g['path']} ({g['failures']} failed)" for g in missing), transform=ax.transAxes,
                ha="right", va="bottom", fontsize=8, color=NOTE_COLOUR,
                bbox={"facecolor": "white", "edgecolor": NOTE_COLOUR, "alpha": 0.9})
    else:
        _whole_panel_note(ax, groups)


# -- shared pieces ----------------------------------------------------------------------------------------


def _draw(report: dict[str, Any], title: str, subtitle: str,
          draw_panel: Callable[[SubFigure, list[Group]], None], legend: list[Artist]) -> bytes | None:
    panels = _panels(report)
    if not any(g["samples_ms"] for _, groups in panels for g in groups):
        return None
    rows, cols = _grid(len(panels))
    width, height = SINGLE_PANEL_SIZE if len(panels) == 1 else PANEL_SIZE
    figure = Figure(figsize=(cols * width, rows * height + 1.3), dpi=100, layout="constrained")
    # A subfigure per panel, so that a panel can hold two axes (the phases' zoom).
    for subfigure, (name, groups) in zip(figure.subfigures(rows, cols, squeeze=False).ravel(), panels):
        subfigure.suptitle(name, fontsize=11, fontweight="bold")
        draw_panel(subfigure, groups)
    figure.suptitle(f"{title}\n{_source_line(report)}", fontsize=12)
    ncols = min(len(legend), 5 if cols == 1 else 9)
    figure.legend(handles=_row_major(legend, ncols), loc="outside lower center", ncols=ncols, fontsize=9,
                  title=textwrap.fill(subtitle, int(cols * width * 14)), title_fontsize=9, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _row_major(handles: list[Artist], ncols: int) -> list[Artist]:
    """Handles reordered so that the legend, which matplotlib fills column by column (first
    columns longest, as numpy.array_split cuts), reads left to right, row by row."""
    rows = math.ceil(len(handles) / ncols)
    return [handles[r * ncols + c] for c in range(ncols) for r in range(rows) if r * ncols + c < len(handles)]


def _panels(report: dict[str, Any]) -> list[Panel]:
    """Groups by (action, runtime), in the report's order (the model sorts paths)."""
    panels: dict[tuple[str, str], list[Group]] = {}
    for group in report.get("groups", []):
        panels.setdefault((group["action"], group["runtime"]), []).append(group)
    return [(f"{action} ({runtime})" if runtime else action, groups)
            for (action, runtime), groups in panels.items()]


def _grid(count: int) -> tuple[int, int]:
    """Rows and columns: one wide panel alone, then two, then three abreast (8 pairs: 3 × 3)."""
    cols = 1 if count <= 1 else 2 if count <= 4 else 3
    return max(1, math.ceil(count / cols)), cols


def _source_line(report: dict[str, Any]) -> str:
    source = report.get("source") or {}
    what = source.get("command") or source.get("apihost") or source.get("kind") or ""
    line = " · ".join(str(part) for part in (what, source.get("when"), source.get("machine")) if part)
    return line if len(line) <= 140 else line[:139] + "…"


def _log_axis(ax: Axes, axis: Axis) -> None:
    """A log scale labelled 1, 2, 5, 10, 20, 50 ... in plain numbers, not bare powers of ten."""
    if axis is ax.yaxis:
        ax.set_yscale("log")
    else:
        ax.set_xscale("log")
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _primitive(path: str) -> bool:
    return path not in START_PATHS


def _colour(path: str) -> str:
    if path in PATH_COLOURS:
        return PATH_COLOURS[path]
    if path in PRIMITIVE_COLOURS:
        return PRIMITIVE_COLOURS[path]
    return SPARE_COLOURS[sum(map(ord, path)) % len(SPARE_COLOURS)]  # stable across runs, unlike hash()


def _slot_labels(ax: Axes, groups: list[Group], positions: list[int]) -> None:
    labels = []
    for g in groups:
        count = f"n={len(g['samples_ms'])}" + (f"\n{g['failures']} failed" if g["failures"] else "")
        labels.append(f"{textwrap.fill(g['path'], 8)}\n{count}")
    ax.set_xticks(positions, labels, fontsize=7.5)
    ax.set_xlim(0.4, len(groups) + 0.6)
    for tick, g in zip(ax.get_xticklabels(), groups):
        if g["failures"] and not g["samples_ms"]:
            tick.set_color(NOTE_COLOUR)


def _separate_primitives(ax: Axes, groups: list[Group]) -> None:
    first = next((i for i, g in enumerate(groups) if g["primitive"]), None)
    if first:  # neither None nor 0: only when start paths come before
        ax.axvline(first + 0.5, color="grey", linestyle="--", linewidth=0.8)
        ax.text(first + 0.55, 0.98, "raw primitives", transform=ax.get_xaxis_transform(), fontsize=7,
                color="grey", va="top", ha="left", rotation=90)


def _note_missing(ax: Axes, groups: list[Group], positions: list[int], *, has_data: bool,
                  phases: bool = False) -> None:
    """Write in each empty slot why it is empty; an all-empty panel loses its y axis, so
    that nothing in it reads as a measurement."""
    if not has_data:
        ax.set_yticks([])
        if not phases or not any(g["samples_ms"] for g in groups):
            _whole_panel_note(ax, groups)
            return
    for x, g in zip(positions, groups):
        if not g["samples_ms"]:
            text = f"no successful samples\n({g['failures']} failed)"
        elif phases and not g["phases_p50_ms"]:
            text = "no phase timings\nrecorded"
        else:
            continue
        ax.text(x, 0.5, text, transform=ax.get_xaxis_transform(), rotation=90, ha="center", va="center",
                fontsize=8, color=NOTE_COLOUR)


def _whole_panel_note(ax: Axes, groups: list[Group]) -> None:
    failed = sum(g["failures"] for g in groups)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, f"no successful samples ({failed} failed)\n"
            + ", ".join(f"{g['path']}: {g['failures']}" for g in groups if g["failures"]),
            transform=ax.transAxes, ha="center", va="center", fontsize=10, color=NOTE_COLOUR, wrap=True)
