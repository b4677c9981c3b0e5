"""Run activations for the API: primitive actions on the invoker, sequences
component by component (SequenceActions.scala), each record stored when it
ends; callers may wait for it (blocking) or take the id and go."""

import concurrent.futures
import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..invoker.errors import PoolExhausted
from ..invoker.invoker import Invocation, new_activation_id
from ..invoker.records import Activation, ActionSpec, Status
from . import action_docs, messages, system_catalog
from .catalog import Catalog, Resolved
from .config import LimitRanges
from .errors import ApiError
from .identity import Identity
from .store import Store

log = logging.getLogger(__name__)


#: An action the server answers itself (system_catalog.INTRINSIC): (caller, action
#: name, arguments) -> (success, result).
Intrinsic = Callable[[Identity, str, dict[str, Any]], tuple[bool, dict[str, Any]]]


class ActionRunner(Protocol):
    """What the activator needs of the invoker (the real one, or a fake in unit tests)."""

    def invoke(self, action: ActionSpec, invocation: Invocation) -> Activation: ...


@dataclass
class Pending:
    activation_id: str
    future: "concurrent.futures.Future[dict[str, Any]]"


class Activator:
    def __init__(self, runner: ActionRunner, catalog: Catalog, store: Store, ranges: LimitRanges,
                 workers: int) -> None:
        self._runner = runner
        self._catalog = catalog
        self._store = store
        self._ranges = ranges
        self._executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="activation")
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._recent: dict[str, deque[float]] = {}
        # id(doc) -> (doc, spec): the catalog hands out the same doc object until the action
        # changes, so the spec (and its code digest) is made once per stored revision; keeping
        # the doc makes a reused id() harmless.
        self._specs: dict[tuple[int, str], tuple[dict[str, Any], ActionSpec]] = {}
        self._idle = threading.Condition(self._lock)
        self._intrinsics: dict[str, Intrinsic] = {}

    def register_intrinsic(self, name: str, handler: Intrinsic) -> None:
        self._intrinsics[name] = handler

    def shutdown(self, *, wait: bool = False, timeout_s: float = 10.0) -> None:
        """Cancel queued activations; ``wait`` also waits (up to ``timeout_s``) for running
        ones to end and be stored, so that the invoker is not torn down under them."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        if not wait:
            return
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while any(self._in_flight.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning("stopping with %s activation(s) still running", sum(self._in_flight.values()))
                    return
                self._idle.wait(remaining)

    def start(self, identity: Identity, target: Resolved, payload: dict[str, Any] | list[Any]) -> Pending:
        """Admit one activation (or refuse it with 429) and start it in the background."""
        if isinstance(payload, dict) and any(key in target.final_keys for key in payload):
            raise ApiError(400, messages.PARAMETERS_NOT_ALLOWED)
        self._admit(identity.namespace)
        activation_id = new_activation_id()
        run: Callable[[], dict[str, Any]]
        intrinsic = self._intrinsics.get(system_catalog.intrinsic(target.doc) or "")
        if intrinsic is not None:
            def run() -> dict[str, Any]:
                return self._intrinsic(identity, target, payload, activation_id, intrinsic)
        elif target.is_sequence:
            def run() -> dict[str, Any]:
                return self._sequence(identity, target, payload, activation_id, cause=None)
        else:
            def run() -> dict[str, Any]:
                return self._primitive(identity, target, payload, activation_id, cause=None)
        try:
            future = self._executor.submit(self._counted, identity.namespace, run)
        except RuntimeError:  # the executor is shut down: the server is stopping
            self._leave(identity.namespace)
            raise ApiError(503, messages.SYSTEM_OVERLOADED) from None
        return Pending(activation_id, future)

    def _admit(self, namespace: str) -> None:
        with self._lock:
            count = self._in_flight.get(namespace, 0)
            allowed = self._ranges.concurrent_invocations
            if allowed and count >= allowed:
                # ActivationThrottler: the count is of those in flight, without this request.
                raise ApiError(429, messages.too_many_concurrent_requests(count, allowed))
            per_minute = self._ranges.invocations_per_minute
            if per_minute:
                recent = self._recent.setdefault(namespace, deque())
                now = time.monotonic()
                while recent and now - recent[0] > 60:
                    recent.popleft()
                if len(recent) >= per_minute:
                    raise ApiError(429, messages.too_many_requests(len(recent) + 1, per_minute))
                recent.append(now)
            self._in_flight[namespace] = count + 1

    def _counted(self, namespace: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return run()
        finally:
            self._leave(namespace)

    def _leave(self, namespace: str) -> None:
        with self._idle:
            self._in_flight[namespace] -= 1
            self._idle.notify_all()

    def spec_for(self, doc: dict[str, Any], caller: str) -> ActionSpec:
        """One ActionSpec per stored revision (and caller, for another namespace's
        action), so its code digest is computed once."""
        tenant = caller if doc["namespace"].split("/")[0] != caller else ""
        cached = self._specs.get((id(doc), tenant))
        if cached is not None and cached[0] is doc:
            return cached[1]
        spec = action_docs.to_spec(doc)
        if tenant:
            spec = dataclasses.replace(spec, tenant=tenant)
        if len(self._specs) > 1000:
            self._specs.clear()
        self._specs[(id(doc), tenant)] = (doc, spec)
        return spec

    def _primitive(self, identity: Identity, target: Resolved, payload: dict[str, Any] | list[Any],
                   activation_id: str, cause: str | None) -> dict[str, Any]:
        arguments: dict[str, Any] | list[Any] = (
            {**target.parameters, **payload} if isinstance(payload, dict) else payload)
        provide_key = action_docs.annotation(target.doc, "provide-api-key", True)
        invocation = Invocation(params=arguments, subject=identity.namespace, activation_id=activation_id,
                                transaction_id=activation_id,
                                api_key=identity.api_key if provide_key is not False else None)
        try:
            activation = self._runner.invoke(self.spec_for(target.doc, identity.namespace), invocation)
            record = activation.to_json()
        except PoolExhausted:
            record = _failed_record(identity, target, activation_id, messages.SYSTEM_OVERLOADED)
        except Exception:  # noqa: BLE001 - a platform failure still ends with a record
            log.exception("activation %s of %s failed in the platform", activation_id, target.path)
            record = _failed_record(identity, target, activation_id, "Failed to provision resources to run "
                                                                     "the action.")
        if target.binding:
            record["annotations"].append({"key": "binding", "value": target.binding})
        if cause:
            record["cause"] = cause
            record["annotations"].append({"key": "causedBy", "value": "sequence"})
        self._store.add_activation(record)
        return record

    def _intrinsic(self, identity: Identity, target: Resolved, payload: dict[str, Any] | list[Any],
                   activation_id: str, handler: Intrinsic) -> dict[str, Any]:
        started = _now_ms()
        arguments = {**target.parameters, **payload} if isinstance(payload, dict) else {}
        try:
            success, result = handler(identity, target.doc["name"], arguments)
        except Exception:  # noqa: BLE001 - a failure in the server's own action still ends with a record
            log.exception("intrinsic action %s failed", target.path)
            success, result = False, {"error": "The action failed in the server; its log has the details."}
        end = _now_ms()
        record = {
            "activationId": activation_id, "namespace": identity.namespace, "name": target.doc["name"],
            "version": target.doc["version"], "subject": identity.namespace, "start": started, "end": end,
            "duration": end - started, "logs": [], "publish": False,
            "response": {"status": "success" if success else "application error", "statusCode": 0 if success else 1,
                         "success": success, "result": result},
            "annotations": [{"key": "path", "value": target.path},
                            {"key": "kind", "value": target.doc["exec"]["kind"]},
                            {"key": "limits", "value": target.doc["limits"]}],
        }
        if target.binding:
            record["annotations"].append({"key": "binding", "value": target.binding})
        self._store.add_activation(record)
        return record

    def _sequence(self, identity: Identity, target: Resolved, payload: dict[str, Any] | list[Any],
                  activation_id: str, cause: str | None) -> dict[str, Any]:
        started = _now_ms()
        arguments: Any = {**target.parameters, **payload} if isinstance(payload, dict) else payload
        component_ids: list[str] = []
        durations = 0
        response: dict[str, Any] = {"status": "success", "statusCode": 0, "success": True, "result": arguments}
        memory = 0
        for component in target.doc["exec"]["components"]:
            try:
                resolved = self._catalog.resolve_qualified(identity.namespace, component)
            except ApiError:
                response = {"status": "application error", "statusCode": 1, "success": False,
                            "result": {"error": messages.SEQUENCE_COMPONENT_NOT_FOUND}}
                break
            child_id = new_activation_id()
            run = self._sequence if resolved.is_sequence else self._primitive
            child = run(identity, resolved, arguments if isinstance(arguments, (dict, list)) else {},
                        child_id, cause=activation_id)
            component_ids.append(child_id)
            durations += child.get("duration", 0)
            memory = max(memory, resolved.doc["limits"]["memory"])
            response = child["response"]
            arguments = response.get("result")
            if not response.get("success"):
                break
        end = _now_ms()
        annotations = [
            {"key": "topmost", "value": cause is None},
            {"key": "path", "value": target.path},
            {"key": "waitTime", "value": 0},
            {"key": "kind", "value": "sequence"},
            {"key": "limits", "value": {**target.doc["limits"], "memory": memory or target.doc["limits"]["memory"]}},
        ]
        if cause:
            annotations.append({"key": "causedBy", "value": "sequence"})
        record: dict[str, Any] = {
            "activationId": activation_id, "namespace": identity.namespace, "name": target.doc["name"],
            "version": target.doc["version"], "subject": identity.namespace, "start": started, "end": end,
            # SequenceActions.scala: a sequence's duration is the sum of its components'.
            "duration": durations, "response": response, "logs": component_ids,
            "annotations": annotations, "publish": False,
        }
        if cause:
            record["cause"] = cause
        self._store.add_activation(record)
        return record


def overloaded(record: dict[str, Any]) -> bool:
    """The record of an activation the pool had no room for (its queue was full)."""
    response = record["response"]
    return response.get("statusCode") == int(Status.WHISK_ERROR) and \
        response.get("result") == {"error": messages.SYSTEM_OVERLOADED}


def _now_ms() -> int:
    return int(time.time() * 1000)



def _failed_record(identity: Identity, target: Resolved, activation_id: str, message: str) -> dict[str, Any]:
    now = _now_ms()
    return {
        "activationId": activation_id, "namespace": identity.namespace, "name": target.doc["name"],
        "version": target.doc["version"], "subject": identity.namespace, "start": now, "end": now,
        "duration": 0, "logs": [], "publish": False,
        "response": {"status": Status.WHISK_ERROR.text, "statusCode": int(Status.WHISK_ERROR), "success": False,
                     "result": {"error": message}},
        "annotations": [{"key": "path", "value": target.path},
                        {"key": "kind", "value": target.doc["exec"]["kind"]},
                        {"key": "limits", "value": target.doc["limits"]}],
    }
