"""Synthetic reports for the report's unit and browser tests: every start path
for three runtimes with phases shaped like a real bench run, the raw
primitives, a path whose samples all failed (with markup in its error text),
and reports with nothing to draw."""

import random
from typing import Any

from whiskrun.report import model
from whiskrun.report.samples import START_PATHS, Sample

RUNTIMES = {"python": "python:3.11", "nodejs": "nodejs:18", "native": "blackbox"}
#: Rough phase medians (ms) per path, shaped like a real bench run: cold far above warm.
PATH_PHASES: dict[str, dict[str, float]] = {
    "cold": {"queue": 0.3, "create": 120.0, "start": 260.0, "init": 40.0, "run": 5.0, "logs": 3.0},
    "prewarm": {"queue": 0.3, "init": 40.0, "run": 5.0, "logs": 3.0},
    "restore": {"queue": 0.3, "create": 2.0, "restore": 60.0, "run": 6.0, "logs": 3.0},
    "unpause": {"queue": 0.2, "unpause": 8.0, "run": 3.0, "logs": 1.0},
    "warm": {"queue": 0.1, "run": 2.5, "logs": 0.5},
}
PRIMITIVES: dict[str, tuple[float, dict[str, float]]] = {
    "raw docker run": (380.0, {"start": 380.0, "init": 35.0, "run": 4.0}),
    "raw direct /run": (1.8, {}),
    "raw runc resume": (9.0, {"resume": 9.0, "run": 2.0}),
    "raw CRIU restore": (55.0, {"restore": 55.0, "run": 5.0}),
}
EVIL_ERROR = '<script>alert("pwned")</script> CRIU restore failed & gave up'
SOURCE = {"kind": "bench", "command": "whiskrun bench --quick", "when": "2025-01-02 03:04 UTC",
          "machine": "Test CPU, 2 cores, 4 GiB, Linux 6.1", "run": "/tmp/whiskrun-bench-x"}


def synthetic_samples(*, rounds: int = 20, seed: int = 7) -> list[Sample]:
    rng = random.Random(seed)
    samples = []
    for language, runtime in RUNTIMES.items():
        action = f"{language} echo"
        for path, phases in PATH_PHASES.items():
            if language == "native" and path == "restore":
                samples += [Sample(action, runtime, path, None, success=False, error=EVIL_ERROR, round=r)
                            for r in range(3)]
                continue
            for r in range(rounds):
                jitter = {name: ms * rng.lognormvariate(0, 0.2) for name, ms in phases.items()}
                samples.append(Sample(action, runtime, path, sum(jitter.values()) * 1.02, phases=jitter, round=r))
        for path, (total, phases) in PRIMITIVES.items():
            for r in range(rounds):
                factor = rng.lognormvariate(0, 0.15)
                samples.append(Sample(action, runtime, path, total * factor,
                                      phases={k: v * factor for k, v in phases.items()}, round=r))
    # Some failures next to successes: counted, and shown, but not timed.
    samples += [Sample("python echo", "python:3.11", "cold", None, success=False,
                       error="ContainerStartupError: no listening proxy after 10 s", round=r) for r in range(2)]
    return samples


def full_report() -> dict[str, Any]:
    return model.build(synthetic_samples(), SOURCE)


def failed_report() -> dict[str, Any]:
    return model.build([Sample("python echo", "python:3.11", path, None, success=False, error="boom")
                        for path in ("cold", "warm")], SOURCE)


def eight_pair_report() -> dict[str, Any]:
    rng = random.Random(3)
    samples = [Sample(f"action {i}", "python:3.11", path,
                      PATH_PHASES[path]["run"] * 10 * rng.lognormvariate(0, 0.3), phases={"run": 2.0})
               for i in range(8) for path in START_PATHS for _ in range(10)]
    return model.build(samples, SOURCE)
