"""The container state machine: every legal move, and a refusal for every other one.

The legal moves are written out here, not read from ``TRANSITIONS``, so a
change to the table fails a test until this list is changed with it.
"""

import itertools

import pytest

from whiskrun.invoker.container import ManagedContainer
from whiskrun.invoker.errors import InvalidTransition, InvokerError
from whiskrun.invoker.states import TRANSITIONS, ContainerState, check_transition

S = ContainerState

LEGAL = {
    # a stem cell becomes ready, a cold start goes straight to its activation, a failed start is removed
    (S.STARTING, S.PREWARMED), (S.STARTING, S.BUSY), (S.STARTING, S.REMOVING),
    # a stem cell is assigned an action, or dies
    (S.PREWARMED, S.BUSY), (S.PREWARMED, S.REMOVING),
    # an activation ends; another one shares it (concurrency > 1); it fails or times out
    (S.BUSY, S.WARM), (S.BUSY, S.BUSY), (S.BUSY, S.REMOVING),
    # reused, paused after the grace, checkpointed, evicted or expired
    (S.WARM, S.BUSY), (S.WARM, S.PAUSING), (S.WARM, S.CHECKPOINTED), (S.WARM, S.REMOVING),
    (S.PAUSING, S.PAUSED), (S.PAUSING, S.REMOVING),
    (S.PAUSED, S.RESUMING), (S.PAUSED, S.REMOVING),
    (S.RESUMING, S.BUSY), (S.RESUMING, S.REMOVING),
    (S.CHECKPOINTED, S.REMOVING),
}


def pair_id(pair: tuple[ContainerState, ContainerState]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


ILLEGAL = sorted(set(itertools.product(S, S)) - LEGAL, key=pair_id)


def test_the_table_names_every_state() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("current, target",
                         [pytest.param(*pair, id=pair_id(pair)) for pair in sorted(LEGAL, key=pair_id)])
def test_legal_moves(current: ContainerState, target: ContainerState) -> None:
    check_transition(current, target, "0123456789abcdef")
    container = ManagedContainer("c1", "python:3.11", "image", 256, now=0.0)
    container.state = current
    container.move(target)
    assert container.state is target


@pytest.mark.parametrize("current, target", [pytest.param(*pair, id=pair_id(pair)) for pair in ILLEGAL])
def test_illegal_moves_raise_and_leave_the_state(current: ContainerState, target: ContainerState) -> None:
    with pytest.raises(InvalidTransition) as refused:
        check_transition(current, target, "0123456789abcdef")
    assert str(refused.value) == f"Container 0123456789ab cannot go from {current.value} to {target.value}."
    assert refused.value.container_id == "0123456789abcdef"
    assert isinstance(refused.value, InvokerError)

    container = ManagedContainer("c7", "python:3.11", "image", 256, now=0.0)
    container.state = current
    with pytest.raises(InvalidTransition, match=f"^Container c7 cannot go from {current.value} to "):
        container.move(target)
    assert container.state is current


def test_removing_is_final() -> None:
    assert [target for target in S if (S.REMOVING, target) in LEGAL] == []


def test_a_new_container_is_starting_and_named_by_engine_id_once_created() -> None:
    container = ManagedContainer("c3", "python:3.11", "image", 256, now=5.0)
    assert (container.state, container.in_flight, container.last_used, container.dead) == (S.STARTING, 0, 5.0, False)
    container.container_id = "feedfacecafe0123"
    with pytest.raises(InvalidTransition, match="^Container feedfacecafe cannot go from starting to warm.$"):
        container.move(S.WARM)
