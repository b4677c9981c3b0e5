"""The life of a managed container, as one transition table.

Names follow OpenWhisk's ContainerProxy states. A container is STARTING
until its proxy listens, then PREWARMED (a stem cell, no action yet) or
goes straight to BUSY (a cold start); BUSY until its activation(s) end,
then WARM (idle, initialised); PAUSED after the pause grace; REMOVING at
the end. CHECKPOINTED is reserved for the restore path.
"""

import enum

from .errors import InvalidTransition


class ContainerState(enum.Enum):
    STARTING = "starting"
    PREWARMED = "prewarmed"
    BUSY = "busy"
    WARM = "warm"
    PAUSING = "pausing"
    PAUSED = "paused"
    RESUMING = "resuming"
    CHECKPOINTED = "checkpointed"
    REMOVING = "removing"


S = ContainerState
TRANSITIONS: dict[ContainerState, frozenset[ContainerState]] = {
    S.STARTING: frozenset({S.PREWARMED, S.BUSY, S.REMOVING}),
    S.PREWARMED: frozenset({S.BUSY, S.REMOVING}),
    S.BUSY: frozenset({S.WARM, S.BUSY, S.REMOVING}),
    S.WARM: frozenset({S.BUSY, S.PAUSING, S.CHECKPOINTED, S.REMOVING}),
    S.PAUSING: frozenset({S.PAUSED, S.REMOVING}),
    S.PAUSED: frozenset({S.RESUMING, S.REMOVING}),
    S.RESUMING: frozenset({S.BUSY, S.REMOVING}),
    S.CHECKPOINTED: frozenset({S.REMOVING}),
    S.REMOVING: frozenset(),
}


def check_transition(current: ContainerState, target: ContainerState, container_id: str) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"Container {container_id[:12]} cannot go from {current.value} to {target.value}.",
            container_id=container_id,
        )
