"""What a bench run measures: actions x runtimes x start paths x rounds."""

from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..report.samples import START_PATHS

SAMPLES = Path(__file__).resolve().parents[2] / "wsk-samples"

#: The echo action of each runtime: what a start path costs with nothing to initialise.
ECHO = {
    "python:3.11": "def main(args):\n    return args\n",
    "nodejs:18": "function main(args) { return args; }\n",
    "blackbox": "#!/bin/sh\necho \"$1\"\n",
}
RUNTIMES = {"python": "python:3.11", "nodejs": "nodejs:18", "native": "blackbox"}
PRIMITIVES = ("raw docker run", "raw direct /run", "raw runc resume", "raw CRIU restore")


@dataclass(frozen=True)
class Workload:
    action: str  # "echo" or "heavy-init"
    runtime: str  # a kind
    code: str
    memory_mb: int

    @property
    def label(self) -> str:
        return f"{self.runtime.split(':')[0] if self.runtime != 'blackbox' else 'native'} {self.action}"


@dataclass(frozen=True)
class Matrix:
    workloads: tuple[Workload, ...]
    paths: tuple[str, ...]
    rounds: int
    warm_per_round: int
    primitives: bool = True

    @property
    def steps(self) -> int:
        """Progress units: one per path per round, plus the primitives' round."""
        per_round = len(self.paths) + (1 if self.primitives else 0)
        return len(self.workloads) * self.rounds * per_round


def workloads(actions: list[str], runtimes: list[str]) -> tuple[Workload, ...]:
    chosen = []
    for runtime_name in runtimes:
        if runtime_name not in RUNTIMES:
            raise UsageError(f"Unknown runtime '{runtime_name}'; use {', '.join(RUNTIMES)}.")
        kind = RUNTIMES[runtime_name]
        for action in actions:
            if action == "echo":
                chosen.append(Workload("echo", kind, ECHO[kind], 256))
            elif action == "heavy-init":
                if kind != "python:3.11":
                    continue  # wsk-samples/heavy_init.py is a Python action
                chosen.append(Workload("heavy-init", kind, (SAMPLES / "heavy_init.py").read_text(), 512))
            else:
                raise UsageError(f"Unknown action '{action}'; use echo or heavy-init.")
    if not chosen:
        raise UsageError("The matrix is empty: heavy-init exists for the python runtime only; add echo "
                         "or the python runtime.")
    return tuple(chosen)


def parse_paths(text: str) -> tuple[str, ...]:
    # Each path once: the runner measures a path once per round, whatever the list says.
    paths = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [p for p in paths if p not in START_PATHS]
    if unknown or not paths:
        raise UsageError(f"Unknown start path(s) {', '.join(unknown) or '(none)'}; use "
                         f"{', '.join(START_PATHS)}.")
    return paths
