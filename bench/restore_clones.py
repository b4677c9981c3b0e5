"""Restores of one snapshot, alone and four at once, and what clones cost in memory.

For each action (python echo, python heavy-init), one snapshot is taken,
then in interleaved rounds:

  lone      one restore (the engine into a ready sandbox) and a direct /run
  4 at once four restores of the same snapshot started together, each timed

and, once, the proportional set size (PSS, /proc/PID/smaps_rollup summed over
every process of a clone's cgroup) of 1 clone and of 4 clones alive together.
Each is measured twice in the same rounds, side by side: with the clones
mapping the snapshot's pages (CRIU --mmap-page-image, whiskrun's patch) and
copying them (stock CRIU's way).

Goals (issue 10): each of 4 restores at once within 2x of a lone restore
(p50); 4 clones of heavy-init at most 1.5x the PSS of one.

    .venv/bin/python bench/restore_clones.py [--rounds 10]

Writes JSON under bench/results/ and prints the figures with the goals.
"""

import argparse
import json
import shutil
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whiskrun.benchmark.runfile import machine  # noqa: E402
from whiskrun.invoker.backend.cgroups import existing  # noqa: E402
from whiskrun.invoker.backend.docker import DockerBackend  # noqa: E402
from whiskrun.invoker.config import InvokerConfig  # noqa: E402
from whiskrun.invoker.records import ActionSpec, Limits  # noqa: E402
from whiskrun.invoker.restore import SnapshotManager  # noqa: E402
from whiskrun.proxy_client import ProxyClient  # noqa: E402
from whiskrun.report.stats import summary  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "wsk-samples"
ACTIONS = {"python echo": ("def main(args):\n    return args\n", 256),
           "python heavy-init": ((SAMPLES / "heavy_init.py").read_text(), 512)}
OWNER = "whiskrun-bench-clones"


MODES = {"shared": True, "copied": False}


def restore_and_run(manager: SnapshotManager, snapshot, share: bool, out: list[float], keep: list) -> None:
    mark = time.perf_counter()
    restored = manager.restore(snapshot, share_pages=share)
    client = ProxyClient(restored.host, restored.port, timeout=30)
    client.post_json("/run", {"value": {"x": 1}})
    out.append((time.perf_counter() - mark) * 1000)
    client.close()
    keep.append(restored)


def pss_kb(container_id: str) -> int:
    total = 0
    for pid in existing(container_id).pids():
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def ready(manager: SnapshotManager, wanted: int) -> None:
    manager.refill_spares()
    deadline = time.monotonic() + 30
    while manager.sandboxes.stats()["ready"] < wanted and time.monotonic() < deadline:
        time.sleep(0.05)


def bench_action(manager: SnapshotManager, name: str, code: str, memory: int, rounds: int) -> dict:
    spec = ActionSpec(namespace="bench", name=name.replace(" ", "-"), kind="python:3.11",
                      image="whiskrun/action-python-v3.11:latest", code=code, main="main", binary=False,
                      limits=Limits(memory_mb=memory))
    snapshot = manager.take_now(spec)
    if snapshot is None:
        raise SystemExit(f"no snapshot of {name} could be taken; see the log above")
    lone: dict[str, list[float]] = {mode: [] for mode in MODES}
    together: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(rounds):
        for mode, share in MODES.items():
            ready(manager, 1)
            kept: list = []
            restore_and_run(manager, snapshot, share, lone[mode], kept)
            for restored in kept:
                manager.remove_restored(restored)
            ready(manager, 4)
            kept = []
            threads = [threading.Thread(target=restore_and_run,
                                        args=(manager, snapshot, share, together[mode], kept))
                       for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for restored in kept:
                manager.remove_restored(restored)
    result: dict = {"snapshot_mb": snapshot.size_bytes / 1e6}
    for mode, share in MODES.items():
        ready(manager, 4)
        kept = []
        restore_and_run(manager, snapshot, share, [], kept)
        one = pss_kb(kept[0].container_id)
        for _ in range(3):
            restore_and_run(manager, snapshot, share, [], kept)
        four = sum(pss_kb(r.container_id) for r in kept)
        for restored in kept:
            manager.remove_restored(restored)
        result[mode] = {"lone_ms": summary(lone[mode]), "four_at_once_ms": summary(together[mode]),
                        "pss_one_mb": one / 1024, "pss_four_mb": four / 1024}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    config = InvokerConfig(owner=OWNER, snapshot_dir=f"/dev/shm/{OWNER}", restore_spares=1, restore_spares_max=4)
    backend = DockerBackend()
    support = backend.checkpoint_support()
    if not support.available:
        raise SystemExit(f"checkpoint/restore is off here: {support.reason}")
    if not support.shares_pages:
        raise SystemExit(f"this CRIU cannot map page images ({support.reason}); run scripts/install-criu.sh")
    manager = SnapshotManager(backend, config, support)
    results = {}
    try:
        for name, (code, memory) in ACTIONS.items():
            results[name] = bench_action(manager, name, code, memory, args.rounds)
    finally:
        manager.shutdown()
        for leftover in backend.list_managed(OWNER):
            backend.remove(leftover)
        backend.close()
        shutil.rmtree(config.snapshot_dir, ignore_errors=True)
    when = datetime.now(timezone.utc)
    data = {"command": f"python bench/restore_clones.py --rounds {args.rounds}", "when": when.isoformat(),
            "machine": machine(), "engine": support.reason, "actions": results}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"restore-clones-{when.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(data, indent=2))
    for name, by_mode in results.items():
        for mode in MODES:
            r = by_mode[mode]
            lone, four = r["lone_ms"]["p50"], r["four_at_once_ms"]["p50"]
            print(f"{name}, pages {mode}: snapshot {by_mode['snapshot_mb']:.0f} MB; restore+run lone p50 "
                  f"{lone:.1f} ms (p99 {r['lone_ms']['p99']:.1f}), 4 at once p50 {four:.1f} ms "
                  f"(p99 {r['four_at_once_ms']['p99']:.1f}): {four / lone:.2f}x (goal <= 2x); "
                  f"PSS 1 clone {r['pss_one_mb']:.1f} MB, 4 clones {r['pss_four_mb']:.1f} MB: "
                  f"{r['pss_four_mb'] / r['pss_one_mb']:.2f}x (goal <= 1.5x)")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
