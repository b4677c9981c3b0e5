"""Benchmark the runtime images on their own, without the invoker.

Per image, in one run and interleaved so that machine drift hits both sides
alike: (a) `docker run` of the image to a proxy accepting connections, next
to a bare `docker run` of the same image running `true`; (b) the /init of an
echo action; (c) the warm /run round trip of that echo action, called
directly on the container's bridge address over a kept-alive connection.

    .venv/bin/python bench/runtime_images.py [--starts 20] [--runs 2000]

Prints a table and writes JSON under bench/results/ (not in git).
"""

import argparse
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import docker
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whiskrun import kinds  # noqa: E402

from whiskrun.direct import ActionContainer, connect  # noqa: E402
from whiskrun.benchmark.matrix import ECHO  # noqa: E402
from whiskrun.report.stats import summary  # noqa: E402

LABELS = {"whiskrun.purpose": "bench"}


def bare_run_ms(client: docker.DockerClient, image: str) -> float:
    started = time.perf_counter()
    container = client.containers.run(image, ["true"], detach=True, labels=LABELS)
    container.wait()
    elapsed = (time.perf_counter() - started) * 1000
    container.remove(force=True)
    return elapsed


def measure_image(client: docker.DockerClient, backend, kind_name: str, starts: int, runs: int,
                  console: Console) -> dict:
    image = kinds.resolve(kind_name).image
    bare, ready, init = [], [], []
    for _ in range(starts):
        bare.append(bare_run_ms(client, image))
        started = time.perf_counter()
        container = ActionContainer(backend, image, labels=LABELS).start()
        try:
            container.wait_ready()
            ready.append((time.perf_counter() - started) * 1000)
            before = time.perf_counter()
            status, _ = container.init(ECHO[kind_name])
            init.append((time.perf_counter() - before) * 1000)
            assert status == 200, f"echo /init failed on {image}"
        finally:
            container.remove()
    warm = []
    with ActionContainer(backend, image, labels=LABELS) as container:
        container.init(ECHO[kind_name])
        for _ in range(50):  # warm up connections and caches
            container.run({"hello": "world"})
        for _ in range(runs):
            before = time.perf_counter()
            status, _ = container.run({"hello": "world"})
            warm.append((time.perf_counter() - before) * 1000)
            assert status == 200
    console.log(f"{kind_name}: done")
    return {
        "image": image,
        "bare_docker_run_true_ms": summary(bare),
        "docker_run_to_ready_ms": summary(ready),
        "init_ms": summary(init),
        "warm_run_ms": summary(warm),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=20, help="container starts per image")
    parser.add_argument("--runs", type=int, default=2000, help="warm /run calls per image")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    console = Console(width=130)
    backend = connect()
    client = docker.from_env()
    results = {
        "command": " ".join(["bench/runtime_images.py", *sys.argv[1:]]),
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.platform()}, {platform.processor() or platform.machine()}",
        "docker": client.version()["Version"],
        "images": {},
    }
    try:
        for kind_name in ECHO:
            results["images"][kind_name] = measure_image(client, backend, kind_name, args.starts, args.runs, console)
    finally:
        for container in client.containers.list(all=True, filters={"label": "whiskrun.purpose=bench"}):
            container.remove(force=True)
    table = Table(title="Runtime images (ms)")
    for column in ("kind", "bare run p50", "ready p50", "ready/bare", "ready p99",
                   "/init p50", "warm /run p50", "warm /run p99"):
        table.add_column(column, justify="right")
    for kind_name, figures in results["images"].items():
        bare = figures["bare_docker_run_true_ms"]["p50"]
        ready = figures["docker_run_to_ready_ms"]
        table.add_row(
            kind_name, f"{bare:.1f}", f"{ready['p50']:.1f}", f"{ready['p50'] / bare:.2f}x",
            f"{ready['p99']:.1f}", f"{figures['init_ms']['p50']:.1f}",
            f"{figures['warm_run_ms']['p50']:.3f}", f"{figures['warm_run_ms']['p99']:.3f}",
        )
    console.print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"runtime-images-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2))
    console.print(f"results: {path}")


if __name__ == "__main__":
    main()
