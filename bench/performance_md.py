"""Render the latest benchmark results as docs/performance.md.

    .venv/bin/python bench/performance_md.py [--results bench/results] [--out docs/performance.md]

Takes the newest runtime-images-*.json, the report.json of the newest
whiskrun-bench-* run and the newest restore-clones-*.json, api-overhead-*.json
api-stack-*.json and events-*.json under bench/results;
every figure in the page comes from those files, with the command that made
them.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whiskrun.benchmark.runfile import machine  # noqa: E402



def newest(folder: Path, pattern: str) -> dict | None:
    files = sorted(folder.glob(pattern))
    return json.loads(files[-1].read_text()) if files else None


def engine_versions() -> str:
    """Docker, runc and CRIU as installed when the page is written."""
    def first_line(command: list[str], prefix: str) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            return f"{prefix} unknown"
        line = next((l for l in out.splitlines() if l.strip()), "")
        # "Docker version 20.10.24+dfsg1, build 5d6db84", "runc version 1.1.5", "Version: 4.2.1"
        words = line.replace(",", " ").split()
        version = next((w for w in words if w[:1].isdigit()), "unknown")
        return f"{prefix} {version}"
    return ", ".join([first_line(["dockerd", "--version"], "Docker"), first_line(["runc", "--version"], "runc"),
                      first_line(["criu", "--version"], "CRIU")])


def images_section(data: dict) -> list[str]:
    lines = [f"### Runtime images, called directly (`{data['command']}`, {data['when']})", "",
             "| kind | bare `docker run … true` p50 | `docker run` to ready p50 (p99) | ready / bare "
             "| `/init` echo p50 | warm `/run` p50 | warm `/run` p99 |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kind, f in data["images"].items():
        bare = f["bare_docker_run_true_ms"]["p50"]
        ready = f["docker_run_to_ready_ms"]
        lines.append(f"| {kind} | {bare:.0f} ms | {ready['p50']:.0f} ms ({ready['p99']:.0f}) | "
                     f"{ready['p50'] / bare:.2f}x | {f['init_ms']['p50']:.1f} ms | "
                     f"{f['warm_run_ms']['p50']:.3f} ms | {f['warm_run_ms']['p99']:.3f} ms |")
    goals = []
    for kind, f in data["images"].items():
        ratio = f["docker_run_to_ready_ms"]["p50"] / f["bare_docker_run_true_ms"]["p50"]
        goals.append(f"- {kind}: ready within 1.5x of a bare `docker run`: {ratio:.2f}x "
                     f"({'met' if ratio <= 1.5 else 'missed'}); warm `/run` p50 under 1 ms: "
                     f"{f['warm_run_ms']['p50']:.3f} ms ({'met' if f['warm_run_ms']['p50'] < 1 else 'missed'})")
    return lines + ["", "Goals:", "", *goals, ""]


def paths_section(report: dict) -> list[str]:
    source = report["source"]
    lines = [f"### Start paths through the invoker (`{source.get('command')}`, then `whiskrun report`; "
             f"{source.get('when')})", "",
             "Every sample is the caller's time for one activation (the invoker call), each path forced on "
             "purpose and interleaved round by round with the others; `raw ...` rows are the primitives "
             "measured on a bare container of the same image in the same rounds.", ""]
    workloads: dict[tuple[str, str], list[dict]] = {}
    for group in report["groups"]:
        workloads.setdefault((group["action"], group["runtime"]), []).append(group)
    for (action, runtime), groups in workloads.items():
        lines += [f"#### {action} ({runtime})", "",
                  "| path | n | failed | p50 ms | p95 ms | p99 ms | max ms | p50 / cold | phases p50 (ms) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for g in groups:
            f = g["latency_ms"]
            figures = " | ".join(f"{f[k]:.2f}" for k in ("p50", "p95", "p99", "max")) if f.get("n") else "- | - | - | -"
            ratio = f"{g['ratio_to_cold']:.3f}" if g["ratio_to_cold"] is not None else ""
            phases = ", ".join(f"{k} {v:.1f}" for k, v in g["phases_p50_ms"].items())
            lines.append(f"| {g['path']} | {g['count']} | {g['failures']} | {figures} | {ratio} | {phases} |")
        goals = [goal for goal in report.get("goals", []) if (goal["action"], goal["runtime"]) == (action, runtime)]
        if goals:
            lines += ["", "Goals:", ""] + [
                f"- {goal['goal']}: {goal['value']:.2f} (goal {goal['target']:g}): "
                f"{'met' if goal['met'] else '**missed**'}" for goal in goals]
        lines.append("")
    return lines


def api_section(data: dict) -> list[str]:
    lines = [f"### The REST API next to the invoker (`{data['command']}`, {data['when']})", "",
             "A warm Python echo action, blocking invokes; `direct` calls the invoker in the server's process, "
             "`api` goes through `whiskrun serve`'s HTTP stack from client processes.", "",
             "| mode | n | p50 ms | p95 ms | p99 ms | activations/s (p50 of batches) | server CPU ms per "
             "activation (p50 of batches) | errors |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for mode, f in data["modes"].items():
        lat = f["latency_ms"]
        cpu = f.get("server_cpu_ms_per_activation", {}).get("p50")
        lines.append(f"| {mode} | {lat['n']} | {lat['p50']:.3f} | {lat['p95']:.3f} | {lat['p99']:.3f} | "
                     f"{f['per_second']['p50']:.0f} | {f'{cpu:.3f}' if cpu is not None else '-'} | {f['errors']} |")
    goals = data["goals"]
    lines += ["", "Goals:", "",
              f"- the API adds under 2 ms at p50: {goals['api_added_p50_ms']:.3f} ms: "
              f"{'met' if goals['api_added_p50_met'] else '**missed**'}",
              f"- with 4 clients the API sustains at least half the invoker's direct throughput: "
              f"{goals['throughput_ratio_x4']:.2f}: {'met' if goals['throughput_ratio_met'] else '**missed**'}",
              f"- no errors: {'met' if goals['no_errors'] else '**missed**'}", ""]
    return lines


def stack_section(data: dict) -> list[str]:
    lines = [f"### The API's HTTP stack alone (`{data['command']}`, {data['when']})", "",
             "waitress and the Flask app with a stub in place of the invoker (it sleeps as long as a warm "
             "`/run`), from client processes.", "",
             "| clients | requests/s | p50 ms | server CPU ms per request | errors |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, f in data["clients"].items():
        lines.append(f"| {name[1:]} | {f['per_second']:.0f} | {f['latency_ms']['p50']:.3f} | "
                     f"{f['server_cpu_ms_per_request']:.3f} | {f['errors']} |")
    return lines + [""]


def clones_section(data: dict) -> list[str]:
    lines = [f"### Restores of one snapshot, alone and four at once (`{data['command']}`, {data['when']})", "",
             f"Engine: {data['engine']}. Each sample is a restore into a ready sandbox plus a direct `/run`; "
             "PSS sums /proc/PID/smaps_rollup over every process of a clone's cgroups. *shared*: the clones "
             "map the snapshot's pages copy-on-write (CRIU `--mmap-page-image`, whiskrun's patch); *copied*: "
             "they read them (stock CRIU), in the same rounds.", "",
             "| action | pages | snapshot | lone p50 (p99) | each of 4 at once p50 (p99) | 4 at once / lone "
             "| PSS 1 clone | PSS 4 clones | 4 / 1 |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    goals = []
    for name, by_mode in data["actions"].items():
        for mode in ("shared", "copied"):
            r = by_mode.get(mode)
            if r is None:
                continue
            lone, four = r["lone_ms"], r["four_at_once_ms"]
            spread, memory = four["p50"] / lone["p50"], r["pss_four_mb"] / r["pss_one_mb"]
            lines.append(f"| {name} | {mode} | {by_mode['snapshot_mb']:.0f} MB | {lone['p50']:.1f} ms "
                         f"({lone['p99']:.1f}) | {four['p50']:.1f} ms ({four['p99']:.1f}) | {spread:.2f}x | "
                         f"{r['pss_one_mb']:.1f} MB | {r['pss_four_mb']:.1f} MB | {memory:.2f}x |")
            if mode != "shared":
                continue
            goals.append(f"- {name}: each of 4 restores at once within 2x of a lone one: {spread:.2f}x "
                         f"({'met' if spread <= 2 else '**missed**'})")
            if "heavy" in name:
                copied = by_mode.get("copied")
                saved = f"; copied: {copied['pss_four_mb']:.0f} MB for 4" if copied else ""
                goals.append(f"- {name}: 4 clones at most 1.5x the PSS of one: {memory:.2f}x "
                             f"({'met' if memory <= 1.5 else '**missed**'}; {r['pss_four_mb']:.0f} MB for 4"
                             f"{saved})")
    return lines + ["", "Goals:", ""] + goals + [""]


def events_section(data: dict) -> list[str]:
    rule, direct, late = data["to_invoker_ms"]["rule"], data["to_invoker_ms"]["direct"], data["alarm_lateness_ms"]
    goals = data["goals"]
    return [f"### Events: a fire through a rule, and alarms (`{data['command']}`, {data['when']})", "",
            "From the request being sent to the activation reaching the invoker, a warm Python echo action "
            "(one process: the invoker, the API server and the client); then the lateness of "
            f"{data['alarms']} alarms on seconds crons (ten a second) against their ticks.", "",
            "| path | n | p50 ms | p95 ms | p99 ms |", "| --- | ---: | ---: | ---: | ---: |",
            f"| fire, one rule | {rule['n']} | {rule['p50']:.3f} | {rule['p95']:.3f} | {rule['p99']:.3f} |",
            f"| invoke, non-blocking | {direct['n']} | {direct['p50']:.3f} | {direct['p95']:.3f} | {direct['p99']:.3f} |",
            f"| alarm lateness | {late['n']} | {late['p50']:.1f} | {late['p95']:.1f} | {late['p99']:.1f} |",
            "", "Goals:", "",
            f"- a rule adds under 2 ms at p50: {goals['rule_added_p50_ms']:.3f} ms "
            f"({'met' if goals['rule_added_met'] else '**missed**'})",
            f"- alarms fire within 1 s of their ticks at p99 with {data['alarms']} scheduled: "
            f"{goals['alarm_lateness_p99_ms']:.1f} ms ({'met' if goals['alarm_lateness_met'] else '**missed**'})", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("bench/results"))
    parser.add_argument("--run", type=Path, help="the whiskrun bench run folder (default: the newest "
                        "whiskrun-bench-* under --results that has a report.json)")
    parser.add_argument("--notes", type=Path, default=Path("bench/performance-notes.md"),
                        help="hand-written analysis appended to the page")
    parser.add_argument("--out", type=Path, default=Path("docs/performance.md"))
    args = parser.parse_args()
    images = newest(args.results, "runtime-images-*.json")
    reports = sorted(args.results.glob("whiskrun-bench-*/report.json"))
    report_file = args.run / "report.json" if args.run else (reports[-1] if reports else None)
    paths = json.loads(report_file.read_text()) if report_file and report_file.exists() else None
    api = newest(args.results, "api-overhead-*.json")
    stack = newest(args.results, "api-stack-*.json")
    events = newest(args.results, "events-*.json")
    clones = newest(args.results, "restore-clones-*.json")
    lines = ["# Performance", "",
             "Generated by `bench/performance_md.py` from the newest results of the benchmarks below "
             "(`make bench` runs them all, then this); "
             "every figure comes from one run of the command shown with it.", "",
             f"Machine: {machine()}; {engine_versions()}. "
             "Machines here are shared and noisy: compare figures within one run, not across runs.", ""]
    if images:
        lines += images_section(images)
    if paths:
        lines += paths_section(paths)
    if clones:
        lines += clones_section(clones)
    if api:
        lines += api_section(api)
    if stack:
        lines += stack_section(stack)
    if events:
        lines += events_section(events)
    if args.notes.exists():
        lines += [args.notes.read_text()]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
