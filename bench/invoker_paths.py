"""Start paths through the invoker, next to the raw primitives, in one run.

For the echo action of each runtime, each round forces every path on
purpose and measures the raw steps on a bare container right after, so
that machine drift hits all of them alike:

  cold     a new action version (at a memory no stem cell matches)
  warm     the same version again, right away (--warm-per-round times)
  unpause  after pausing that container on purpose
  prewarm  a new version once a stem cell of its memory is ready
  restore  a version snapshotted before the rounds, with no container left
  raw      `docker run` to a listening proxy, /init, /run (the cold steps);
           direct /run on a kept-alive connection; docker unpause (API);
           runc resume followed by a direct /run; a restore by runc and
           CRIU (holder ready) followed by a direct /run.

Actions: the echo action of each runtime, and wsk-samples/heavy_init.py
(about 1 s and 100 MB of initialisation).

    .venv/bin/python bench/invoker_paths.py [--rounds 20] [--warm-per-round 25]

Writes JSON under bench/results/ and prints p50/p95/p99 with the goals.
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.runtime_images import ECHO  # noqa: E402
from bench.stats import summary  # noqa: E402
from whiskrun import kinds  # noqa: E402
import docker  # noqa: E402

from whiskrun.direct import ActionContainer, connect  # noqa: E402
from whiskrun.invoker.backend.docker import RUNC_ROOT  # noqa: E402
from whiskrun.invoker.config import InvokerConfig  # noqa: E402
from whiskrun.invoker.invoker import Invocation, Invoker  # noqa: E402
from whiskrun.invoker.records import ActionSpec, Limits  # noqa: E402
from whiskrun.invoker.scheduling import StemCellSpec  # noqa: E402
from whiskrun.invoker.service import running_invoker  # noqa: E402

HEAVY = (Path(__file__).resolve().parent.parent / "wsk-samples" / "heavy_init.py").read_text()
#: label -> (kind, code, memory MB)
ACTIONS = {
    "python echo": ("python:3.11", ECHO["python:3.11"], 256),
    "nodejs echo": ("nodejs:18", ECHO["nodejs:18"], 256),
    "native echo": ("blackbox", ECHO["blackbox"], 256),
    "python heavy-init": ("python:3.11", HEAVY, 512),
}
PARAMS = {"hello": "world"}


def ms_since(mark: float) -> float:
    return (time.perf_counter() - mark) * 1000


def timed_invoke(invoker: Invoker, spec: ActionSpec, expected_path: str, samples: dict) -> None:
    mark = time.perf_counter()
    record = invoker.invoke(spec, Invocation(params=PARAMS))
    total = ms_since(mark)
    if record.start_path != expected_path or not record.response.success:
        samples.setdefault("failures", []).append(
            f"{expected_path}: got {record.start_path} {record.response.result}")
        return
    samples.setdefault(expected_path, []).append(total)
    # The result is known before log collection: what a caller waits for with
    # OpenWhisk's split acknowledgement.
    samples.setdefault(f"{expected_path} (result)", []).append(total - record.annotation("phases")["logs"])
    for phase, value in record.annotation("phases").items():
        samples.setdefault(f"{expected_path}.{phase}", []).append(value)


def raw_restore(manager, snapshot, samples: dict) -> None:
    """The restore primitive alone: runc + CRIU into a ready holder, then a direct /run."""
    from whiskrun.proxy_client import ProxyClient

    manager.refill_spares()
    time.sleep(0.5)  # let the spare holder come up, as the pool keeps one ready
    mark = time.perf_counter()
    restored = manager.restore(snapshot)
    restored_ms = ms_since(mark)
    client = ProxyClient(restored.host, restored.port, timeout=30)
    try:
        mark = time.perf_counter()
        client.post_json("/run", {"value": PARAMS})
        samples.setdefault("raw restore (runc+CRIU)", []).append(restored.phases["restore"])
        samples.setdefault("raw restore + /run", []).append(restored_ms + ms_since(mark))
    finally:
        client.close()
        manager._backend.remove(restored.container_id)


def raw_round(client, backend, kind: str, code: str, image: str, warm_runs: int, samples: dict) -> None:
    mark = time.perf_counter()
    container = ActionContainer(backend, image, labels={"whiskrun.purpose": "bench"}).start()
    try:
        container.wait_ready()
        ready = ms_since(mark)
        mark = time.perf_counter()
        container.init(code)
        init = ms_since(mark)
        mark = time.perf_counter()
        container.run(PARAMS)
        run = ms_since(mark)
        samples.setdefault("raw cold (docker run+init+run)", []).append(ready + init + run)
        for _ in range(warm_runs):
            mark = time.perf_counter()
            container.run(PARAMS)
            samples.setdefault("raw direct /run", []).append(ms_since(mark))
        docker_container = client.containers.get(container.id)
        docker_container.pause()
        mark = time.perf_counter()
        docker_container.unpause()
        samples.setdefault("raw docker unpause", []).append(ms_since(mark))
        subprocess.run(["runc", "--root", RUNC_ROOT, "pause", container.id], check=True)
        mark = time.perf_counter()
        subprocess.run(["runc", "--root", RUNC_ROOT, "resume", container.id], check=True)
        resumed = ms_since(mark)
        mark = time.perf_counter()
        container.post("/run", {"value": PARAMS})
        samples.setdefault("raw runc resume", []).append(resumed)
        samples.setdefault("raw runc resume + /run", []).append(resumed + ms_since(mark))
    finally:
        container.remove()


def bench_action(label: str, rounds: int, warm_per_round: int, console: Console) -> dict:
    kind, code, memory = ACTIONS[label]
    image = kinds.resolve(kind).image
    # Snapshots only where this benchmark takes them: a background snapshot
    # after every cold round would load the machine during the next paths.
    config = InvokerConfig(prewarm=(StemCellSpec(kind, memory, 1),), pause_grace_s=3600, idle_timeout_s=3600,
                           owner="whiskrun-bench", tick_s=0.05, snapshot_policy="after:1000000",
                           hibernate=False, restore_spares=1)
    samples: dict[str, list] = {}
    extra: dict[str, float] = {}
    backend = connect()
    client = docker.from_env()
    with running_invoker(config) as invoker:
        pool = invoker.pool
        manager = pool._snapshots
        snapshot = None
        # At a memory of its own: a stem cell would be the cheaper start for an
        # action whose /init is quick, and the scheduler would take it.
        restorable = ActionSpec("guest", "echo", kind, image, code, version="3.0.0",
                                limits=Limits(memory_mb=memory - 32))
        if manager is not None and manager.enabled:
            snapshot = manager.take_now(restorable)
        if snapshot is not None:
            extra = {"snapshot_mb": snapshot.size_bytes / 1e6, "checkpoint_ms": snapshot.checkpoint_ms}
        for number in range(rounds):
            cold = ActionSpec("guest", "echo", kind, image, code, version=f"1.0.{number}",
                              limits=Limits(memory_mb=memory - 64))
            timed_invoke(invoker, cold, "cold", samples)
            for _ in range(warm_per_round):
                timed_invoke(invoker, cold, "warm", samples)
            pool.pause_idle()
            timed_invoke(invoker, cold, "unpause", samples)
            if pool.wait_for_stem_cell(kind, memory, timeout_s=30):
                prewarmed = ActionSpec("guest", "echo", kind, image, code, version=f"2.0.{number}",
                                       limits=Limits(memory_mb=memory))
                timed_invoke(invoker, prewarmed, "prewarm", samples)
            pool.remove_idle()
            if snapshot is not None:
                pool.wait_for_stem_cell(kind, memory, timeout_s=30)
                time.sleep(0.3)  # the spare holder is refilled in the background
                timed_invoke(invoker, restorable, "restore", samples)
                pool.remove_idle()
                raw_restore(manager, snapshot, samples)
            raw_round(client, backend, kind, code, image, warm_per_round, samples)
            console.log(f"{label}: round {number + 1}/{rounds}")
    failures = samples.pop("failures", [])
    return {"image": image, "kind": kind, "memory_mb": memory, "failures": failures, **extra,
            "paths": {name: summary(values) for name, values in samples.items()}}


def goals(paths: dict, label: str = "") -> list[tuple[str, float, float, bool]]:
    def p50(name: str) -> float:
        return paths.get(name, {}).get("p50", float("nan"))
    rows = []
    added = p50("warm") - p50("raw direct /run")
    rows.append(("warm adds < 1 ms p50 to a direct /run", added, 1.0, added < 1.0))
    added_result = p50("warm (result)") - p50("raw direct /run")
    rows.append(("  (until the result, before log collection)", added_result, 1.0, added_result < 1.0))
    ratio = p50("unpause") / p50("raw runc resume + /run")
    rows.append(("unpause <= 1.5x runc resume + /run", ratio, 1.5, ratio <= 1.5))
    ratio = p50("cold") / p50("raw cold (docker run+init+run)")
    rows.append(("cold <= 1.15x its raw steps", ratio, 1.15, ratio <= 1.15))
    if "restore" in paths:
        ratio = p50("cold") / p50("restore")
        target = 10.0 if "heavy" in label else 4.0
        rows.append((f"restore at least {target:.0f}x faster than cold", ratio, target, ratio >= target))
        spread = paths["restore"]["p99"] / p50("restore")
        rows.append(("restore p99 within 2x of its p50", spread, 2.0, spread <= 2.0))
        overhead = p50("restore") / p50("raw restore + /run") - 1
        rows.append(("runner overhead on a raw restore < 30%", overhead, 0.30, overhead < 0.30))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warm-per-round", type=int, default=25)
    parser.add_argument("--actions", default=",".join(ACTIONS), help="comma-separated: " + ", ".join(ACTIONS))
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    console = Console(width=140)
    results = {"command": " ".join(["bench/invoker_paths.py", *sys.argv[1:]]),
               "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": f"{platform.platform()}, {platform.machine()}", "kinds": {}}
    for label in args.actions.split(","):
        results["kinds"][label] = bench_action(label, args.rounds, args.warm_per_round, console)
    for kind, figures in results["kinds"].items():
        table = Table(title=f"{kind}: start paths through the invoker and raw primitives (ms)")
        for column in ("path", "n", "p50", "p95", "p99", "max"):
            table.add_column(column, justify="right" if column != "path" else "left")
        for name, stats in sorted(figures["paths"].items()):
            if "." in name:
                continue
            table.add_row(name, str(stats["n"]), *(f"{stats[k]:.2f}" for k in ("p50", "p95", "p99", "max")))
        console.print(table)
        for goal, value, target, met in goals(figures["paths"], kind):
            console.print(f"  {'MET ' if met else 'MISSED'}  {goal}: {value:.2f} (goal {target})")
        if "snapshot_mb" in figures:
            console.print(f"  snapshot {figures['snapshot_mb']:.1f} MB, checkpoint {figures['checkpoint_ms']:.0f} ms")
        if figures["failures"]:
            console.print(f"  failures: {len(figures['failures'])}: {figures['failures'][:3]}")
        results["kinds"][kind]["goals"] = [
            {"goal": g, "value": v, "target": t, "met": m} for g, v, t, m in goals(figures["paths"], kind)]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"invoker-paths-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2))
    console.print(f"results: {path}")


if __name__ == "__main__":
    main()
