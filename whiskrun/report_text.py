"""Human-readable lines about activations, for the terminal."""

import json

from .invoker.records import Activation


def describe_activation(record: Activation) -> str:
    phases = record.annotation("phases", {})
    steps = ", ".join(f"{name} {ms:.1f}" for name, ms in phases.items())
    result = json.dumps(record.response.result, ensure_ascii=False)
    lines = [
        f"{record.activation_id}  {record.response.status.text}  {record.duration} ms",
        f"  start path: {record.start_path} ({record.annotation('startReason')})",
        f"  phases (ms): {steps}",
        f"  result: {result}",
    ]
    lines += [f"  log: {line}" for line in record.logs]
    return "\n".join(lines)
