"""What events cost: a fire through a rule next to a direct non-blocking
invoke of the same warm action, and how close to their ticks 100 alarms fire.

One process runs the invoker and the API server (waitress, as `whiskrun
serve` does) on a free port; a client in the same process sends the
requests. The invoker is wrapped so that the moment an activation reaches it
(the action's start, as the invoker sees it) is stamped with
``time.perf_counter``:

  rule     POST /triggers/t (one rule to the echo action): request sent ->
           the rule's activation reaches the invoker
  direct   POST /actions/echo?blocking=false: request sent -> the activation
           reaches the invoker

interleaved, each after the previous activation ended (one warm container).
Then 100 triggers, each with a rule to the echo action and an alarm on a
seconds cron (``S/10 * * * * *``, S = 0..9: ten alarms a second), run for
``--alarm-seconds``; the lateness of a fire is when the scheduler fires it
minus its scheduled tick.

Goals (issue 11): a rule adds under 2 ms at p50 (rule - direct); alarms fire
within 1 s of their ticks at p99 with 100 scheduled.

    .venv/bin/python bench/events.py [--rounds 200] [--alarm-seconds 30]

Writes JSON under bench/results/ and prints p50/p95/p99 with the goals.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whiskrun.api.alarm_scheduler import AlarmScheduler  # noqa: E402
from whiskrun.api.config import GUEST_KEY, ApiConfig  # noqa: E402
from whiskrun.api.server import build_services, create_server  # noqa: E402
from whiskrun.api.store import Store  # noqa: E402
from whiskrun.benchmark.matrix import ECHO  # noqa: E402
from whiskrun.invoker.config import InvokerConfig  # noqa: E402
from whiskrun.invoker.service import running_invoker  # noqa: E402
from whiskrun.report.stats import summary  # noqa: E402

ALARMS = 100


class StampingRunner:
    """The invoker, with the moment each activation reaches it noted."""

    def __init__(self, invoker: Any) -> None:
        self._invoker = invoker
        self.reached: dict[str, float] = {}
        self.ended = threading.Event()

    def invoke(self, action, invocation):  # noqa: ANN001, ANN201 - the ActionRunner protocol
        self.reached[invocation.activation_id] = time.perf_counter()
        try:
            return self._invoker.invoke(action, invocation)
        finally:
            self.ended.set()


class TimedScheduler(AlarmScheduler):
    """The server's scheduler, noting each fire's lateness against its tick."""

    lateness_ms: list[float] = []

    def _fire(self, alarm: dict[str, Any], now: int) -> None:
        self.lateness_ms.append(time.time() * 1000 - alarm["next"])
        super()._fire(alarm, now)


def wait_for(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("the bench waited 30 s for an activation that did not come")
        time.sleep(0.0002)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--alarm-seconds", type=float, default=30.0)
    args = parser.parse_args()
    invoker_config = InvokerConfig.from_env({**os.environ, "WHISKRUN_SNAPSHOT_POLICY": "never",
                                             "WHISKRUN_PAUSE_GRACE_S": "3600", "WHISKRUN_PREWARM": "",
                                             "WHISKRUN_OWNER": "bench-events"})
    with tempfile.TemporaryDirectory() as data, running_invoker(invoker_config) as invoker:
        runner = StampingRunner(invoker)
        config = ApiConfig(host="127.0.0.1", port=0, data_dir=Path(data))
        store = Store(config.database)
        services = build_services(config, runner, store)
        server = create_server(config, services)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}/api/v1/namespaces/_"
        session = requests.Session()
        session.auth = tuple(GUEST_KEY.split(":"))
        session.put(f"{base}/actions/echo?overwrite=true", timeout=30, json={
            "exec": {"kind": "python:3.11", "code": ECHO["python:3.11"]}}).raise_for_status()
        session.put(f"{base}/triggers/t?overwrite=true", json={}, timeout=30).raise_for_status()
        session.put(f"{base}/rules/r?overwrite=true", json={"trigger": "/_/t", "action": "/_/echo"},
                    timeout=30).raise_for_status()

        def timed(url: str) -> float:
            count = len(runner.reached)
            runner.ended.clear()
            sent = time.perf_counter()
            session.post(url, json={"hello": "world"}, timeout=30).raise_for_status()
            wait_for(lambda: len(runner.reached) > count)
            reached = max(runner.reached.values())
            wait_for(runner.ended.is_set)
            return (reached - sent) * 1000

        for _ in range(5):  # a warm container and a warm connection first
            timed(f"{base}/actions/echo?blocking=false")
            timed(f"{base}/triggers/t")
        paths = {"rule": f"{base}/triggers/t", "direct": f"{base}/actions/echo?blocking=false"}
        latency: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, url in paths.items():
                latency[name].append(timed(url))
        session.post(f"{base}/rules/r", json={"status": "inactive"}, timeout=30).raise_for_status()

        # 100 alarms, ten a second, through the server's own scheduler.
        services.alarms.stop()
        scheduler = TimedScheduler(store, services.events, services.firer, services.keys)
        TimedScheduler.lateness_ms = []
        for number in range(ALARMS):
            name = f"alarm-{number}"
            session.put(f"{base}/triggers/{name}?overwrite=true", json={}, timeout=30).raise_for_status()
            session.put(f"{base}/rules/{name}-rule?overwrite=true",
                        json={"trigger": f"/_/{name}", "action": "/_/echo"}, timeout=30).raise_for_status()
            answer = session.post(
                f"http://127.0.0.1:{server.effective_port}/api/v1/namespaces/whisk.system/actions/alarms/alarm"
                "?blocking=true", json={"lifecycleEvent": "CREATE", "triggerName": f"/_/{name}", "authKey": GUEST_KEY,
                      "cron": f"{number % 10}/10 * * * * *"}, timeout=30)
            answer.raise_for_status()
        scheduler.start()
        time.sleep(args.alarm_seconds)
        scheduler.stop()
        lateness = list(TimedScheduler.lateness_ms)
        server.close()
        services.activator.shutdown(wait=True)
        store.close()

    figures = {name: summary(values) for name, values in latency.items()}
    added = figures["rule"]["p50"] - figures["direct"]["p50"]
    late = summary(lateness)
    result = {
        "command": f"python bench/events.py --rounds {args.rounds} --alarm-seconds {args.alarm_seconds:g}",
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "to_invoker_ms": figures, "alarm_lateness_ms": late, "alarms": ALARMS,
        "goals": {"rule_added_p50_ms": added, "rule_added_met": added < 2.0,
                  "alarm_lateness_p99_ms": late["p99"], "alarm_lateness_met": late["p99"] <= 1000},
    }
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"events-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    for name, f in figures.items():
        print(f"{name}: request to invoker p50 {f['p50']:.3f} ms, p95 {f['p95']:.3f}, p99 {f['p99']:.3f} (n={f['n']})")
    print(f"a rule adds {added:.3f} ms at p50 (goal < 2 ms: {'met' if added < 2 else 'missed'})")
    print(f"{late['n']} alarm fires, lateness p50 {late['p50']:.1f} ms, p99 {late['p99']:.1f} ms "
          f"(goal <= 1000 ms: {'met' if late['p99'] <= 1000 else 'missed'})")
    print(f"written {path}")


if __name__ == "__main__":
    main()
