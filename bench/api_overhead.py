"""What the REST API adds to a warm activation, next to the invoker called
directly, in one run.

One process runs the invoker and the API server (waitress, as `whiskrun
serve` does) on a free port. A warm Python echo action is invoked in
interleaved batches, so that machine drift hits every mode alike:

  direct x1   Invoker.invoke from one thread
  api x1      POST .../actions/echo?blocking=true from one keep-alive client
              (bench/api_client.py, in its own process as a real client is)
  direct x4   four threads calling Invoker.invoke at once
  api x4      four such client processes at once

Goals (issue 5): the API adds under 2 ms at p50 (api x1 - direct x1), and with
four clients sustains at least half the invoker's direct throughput, with no
errors.

    .venv/bin/python bench/api_overhead.py [--rounds 20] [--batch 50]

Writes JSON under bench/results/ and prints p50/p95/p99 with the goals.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whiskrun.benchmark.matrix import ECHO  # noqa: E402
from whiskrun.report.stats import summary  # noqa: E402
from whiskrun.api.config import GUEST_KEY, ApiConfig  # noqa: E402
from whiskrun.api.server import build_services, create_server  # noqa: E402
from whiskrun.api.store import Store  # noqa: E402
from whiskrun.invoker.config import InvokerConfig  # noqa: E402
from whiskrun.invoker.invoker import Invocation  # noqa: E402
from whiskrun.invoker.service import running_invoker  # noqa: E402

CLIENT = Path(__file__).resolve().parent / "api_client.py"
MODES = ("direct x1", "api x1", "direct x4", "api x4")
PARAMS = {"hello": "world"}


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_batch(call, clients: int, per_client: int, latencies: list[float], errors: list[str]) -> float:
    """Run `per_client` calls on each of `clients` threads; the batch's activations per second."""
    def worker() -> None:
        for _ in range(per_client):
            mark = time.perf_counter()
            try:
                ok = call()
            except Exception as exc:  # noqa: BLE001 - counted, shown, not fatal
                errors.append(repr(exc))
                continue
            elapsed = (time.perf_counter() - mark) * 1000
            if ok:
                latencies.append(elapsed)
            else:
                errors.append("unsuccessful activation")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * per_client / (time.perf_counter() - began)


def api_batch(host: str, port: int, path: str, clients: int, per_client: int, latencies: list[float],
              errors: list[str]) -> float:
    """`clients` client processes started together; the batch's activations per second."""
    start_at = time.time() + 0.5
    processes = [subprocess.Popen([sys.executable, str(CLIENT), host, str(port), path, GUEST_KEY,
                                   str(per_client), str(start_at)], stdout=subprocess.PIPE, text=True)
                 for _ in range(clients)]
    outputs = [json.loads(p.communicate()[0]) for p in processes]
    for output in outputs:
        latencies.extend(output["latencies_ms"])
        errors.extend(output["errors"])
    done = sum(len(o["latencies_ms"]) + len(o["errors"]) for o in outputs)
    return done / (max(o["ended"] for o in outputs) - min(o["began"] for o in outputs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50, help="Activations per client per batch.")
    args = parser.parse_args()
    console = Console()
    invoker_config = InvokerConfig.from_env({**os.environ, "WHISKRUN_SNAPSHOT_POLICY": "never",
                                             "WHISKRUN_PAUSE_GRACE_S": "3600", "WHISKRUN_PREWARM": "",
                                             "WHISKRUN_OWNER": "bench-api"})
    with tempfile.TemporaryDirectory() as data, running_invoker(invoker_config) as invoker:
        config = ApiConfig(host="127.0.0.1", port=0, data_dir=Path(data))
        store = Store(config.database)
        services = build_services(config, invoker, store)
        server = create_server(config, services)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}/api/v1/namespaces/_/actions/echo"
        auth = tuple(GUEST_KEY.split(":"))
        requests.put(f"{base}?overwrite=true", auth=auth, timeout=30, json={
            "exec": {"kind": "python:3.11", "code": ECHO["python:3.11"]}}).raise_for_status()
        target = services.catalog.resolve("guest", "echo")
        spec = services.activator.spec_for(target.doc, "guest")  # the very ActionSpec the API runs
        port = server.effective_port
        path = "/api/v1/namespaces/_/actions/echo?blocking=true"

        def direct() -> bool:
            return invoker.invoke(spec, Invocation(params=PARAMS)).response.success

        # Warm four containers and every client's connection before measuring.
        api_batch("127.0.0.1", port, path, 4, 5, [], [])
        run_batch(direct, 4, 5, [], [])
        latencies = {mode: [] for mode in MODES}
        throughput = {mode: [] for mode in MODES}
        errors: dict[str, list[str]] = {mode: [] for mode in MODES}
        # This process's CPU per activation (the clients are other processes): what the
        # server spends on each, with and without the HTTP stack.
        server_cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
        with console.status("measuring") as status:
            for number in range(args.rounds):
                status.update(f"round {number + 1}/{args.rounds}")
                for mode in MODES:
                    clients = 4 if mode.endswith("x4") else 1
                    before = cpu_s()
                    if mode.startswith("api"):
                        rate = api_batch("127.0.0.1", port, path, clients, args.batch, latencies[mode], errors[mode])
                    else:
                        rate = run_batch(direct, clients, args.batch, latencies[mode], errors[mode])
                    throughput[mode].append(rate)
                    server_cpu[mode].append((cpu_s() - before) * 1000 / (clients * args.batch))
        server.close()
        services.activator.shutdown()
        store.close()

    figures = {mode: {"latency_ms": summary(latencies[mode]), "per_second": summary(throughput[mode]),
                      "server_cpu_ms_per_activation": summary(server_cpu[mode]),
                      "errors": len(errors[mode]), "error_samples": errors[mode][:5]} for mode in MODES}
    added = figures["api x1"]["latency_ms"]["p50"] - figures["direct x1"]["latency_ms"]["p50"]
    ratio = figures["api x4"]["per_second"]["p50"] / figures["direct x4"]["per_second"]["p50"]
    no_errors = all(f["errors"] == 0 for f in figures.values())
    result = {
        "command": f"python bench/api_overhead.py --rounds {args.rounds} --batch {args.batch}",
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "modes": figures,
        "goals": {"api_added_p50_ms": added, "api_added_p50_met": added < 2.0,
                  "throughput_ratio_x4": ratio, "throughput_ratio_met": ratio >= 0.5, "no_errors": no_errors},
    }
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"api-overhead-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    table = Table(title="Warm echo (python:3.11): REST API vs invoker called directly")
    for column in ("mode", "n", "p50 ms", "p95 ms", "p99 ms", "activations/s p50", "server CPU ms p50", "errors"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    for mode, f in figures.items():
        lat = f["latency_ms"]
        table.add_row(mode, str(lat.get("n", 0)), f"{lat.get('p50', 0):.3f}", f"{lat.get('p95', 0):.3f}",
                      f"{lat.get('p99', 0):.3f}", f"{f['per_second']['p50']:.0f}",
                      f"{f['server_cpu_ms_per_activation']['p50']:.3f}", str(f["errors"]))
    console.print(table)
    console.print(f"API adds {added:.3f} ms at p50 (goal < 2 ms: {'met' if added < 2 else 'missed'}); "
                  f"x4 throughput ratio {ratio:.2f} (goal >= 0.5: {'met' if ratio >= 0.5 else 'missed'}); "
                  f"errors: {'none' if no_errors else 'some, see JSON'}")
    console.print(f"written {path}")


if __name__ == "__main__":
    main()
