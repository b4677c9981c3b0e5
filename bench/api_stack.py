"""What the API's HTTP stack costs on its own: `whiskrun serve`'s app under
waitress with a stub in place of the invoker (it sleeps as long as a warm
/run takes), driven by 1 and 4 client processes (bench/api_client.py).

Reports requests per second, latency p50, and the server process's CPU time
per request (getrusage around each batch): the share of a core that the
HTTP stack itself needs, which bounds the API's throughput next to the
invoker in one process (see bench/api_overhead.py).

    .venv/bin/python bench/api_stack.py [--requests 2000] [--run-ms 0.8]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whiskrun.api.config import GUEST_KEY, ApiConfig  # noqa: E402
from whiskrun.api.server import build_services, create_server  # noqa: E402
from whiskrun.api.store import Store  # noqa: E402
from whiskrun.invoker.invoker import Invocation  # noqa: E402
from whiskrun.invoker.records import ActionSpec, Activation, ActivationResponse, Status  # noqa: E402
from whiskrun.report.stats import summary  # noqa: E402

CLIENT = Path(__file__).resolve().parent / "api_client.py"


class StubRunner:
    """Answers like a warm echo action after `run_s`; no container, no invoker."""

    def __init__(self, run_s: float) -> None:
        self.run_s = run_s

    def invoke(self, action: ActionSpec, invocation: Invocation) -> Activation:
        time.sleep(self.run_s)
        now = int(time.time() * 1000)
        return Activation(invocation.activation_id, invocation.subject, action.name, action.version,
                          invocation.subject, now, now, ActivationResponse(Status.SUCCESS, dict(invocation.params), 17),
                          (), (("path", action.path), ("startPath", "warm"), ("phases", {"run": self.run_s * 1000})))


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per client")
    parser.add_argument("--run-ms", type=float, default=0.8, help="the stub's /run time")
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory() as data:
        config = ApiConfig(host="127.0.0.1", port=0, data_dir=Path(data))
        store = Store(config.database)
        services = build_services(config, StubRunner(args.run_ms / 1000), store)
        server = create_server(config, services)
        threading.Thread(target=server.run, daemon=True).start()
        port = server.effective_port
        requests.put(f"http://127.0.0.1:{port}/api/v1/namespaces/_/actions/echo", auth=tuple(GUEST_KEY.split(":")),
                     json={"exec": {"kind": "python:3.11", "code": "def main(a): return a"}},
                     timeout=30).raise_for_status()
        for clients in (1, 4):
            before = cpu_s()
            start_at = time.time() + 0.5
            processes = [subprocess.Popen([sys.executable, str(CLIENT), "127.0.0.1", str(port),
                                           "/api/v1/namespaces/_/actions/echo?blocking=true", GUEST_KEY,
                                           str(args.requests), str(start_at)], stdout=subprocess.PIPE, text=True)
                         for _ in range(clients)]
            outputs = [json.loads(p.communicate()[0]) for p in processes]
            cpu = cpu_s() - before
            latencies = [x for o in outputs for x in o["latencies_ms"]]
            served = len(latencies) + clients  # each client's warm-up request too
            span = max(o["ended"] for o in outputs) - min(o["began"] for o in outputs)
            figures[f"x{clients}"] = {"per_second": len(latencies) / span, "latency_ms": summary(latencies),
                                      "server_cpu_ms_per_request": cpu * 1000 / served,
                                      "errors": sum(len(o["errors"]) for o in outputs)}
        server.close()
        services.activator.shutdown(wait=True)
        store.close()
    result = {"command": f"python bench/api_stack.py --requests {args.requests} --run-ms {args.run_ms}",
              "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "clients": figures}
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"api-stack-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2))
    for name, f in figures.items():
        print(f"{name}: {f['per_second']:.0f} requests/s, p50 {f['latency_ms']['p50']:.3f} ms, server CPU "
              f"{f['server_cpu_ms_per_request']:.3f} ms per request, {f['errors']} errors")
    print(f"written {path}")


if __name__ == "__main__":
    main()
