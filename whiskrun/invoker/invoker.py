"""Run one activation: acquire a container, /init if needed, /run, collect
logs, give the container back, and write the activation record."""

import dataclasses
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..proxy_client import ProxyConnectionError, ProxyRequestNotSent, ProxyTimeout
from . import logs as activation_logs
from . import results
from .backend.base import ContainerBackend
from .config import InvokerConfig
from .errors import InvokerError, PoolExhausted
from .pool import ContainerPool, Lease
from .records import Activation, ActivationResponse, ActionSpec, StartPath, Status
from .timing import Clock

log = logging.getLogger(__name__)


#: Containers an activation may be handed to in all when each of the ones before
#: could not even take its request (dead behind Docker's back): its code never
#: started on them, so running it on another one is still running it once.
MAX_DELIVERIES = 3


def new_activation_id() -> str:
    """32 lowercase hex characters, as OpenWhisk's activation ids."""
    return secrets.token_hex(16)


@dataclass
class _Timeline:
    """Monotonic marks of one activation, turned into phases and annotations."""

    clock: Clock
    begun: float
    phases: dict[str, float] = field(default_factory=dict)

    def since(self, mark: float) -> float:
        return (self.clock.monotonic() - mark) * 1000


@dataclass(frozen=True)
class Invocation:
    """Who invokes, with what."""

    params: Mapping[str, Any]
    subject: str = "guest"
    activation_id: str = ""
    transaction_id: str = ""
    api_key: str | None = None


class Invoker:
    def __init__(self, pool: ContainerPool, backend: ContainerBackend, config: InvokerConfig,
                 clock: Clock) -> None:
        self._pool = pool
        self._backend = backend
        self._config = config
        self._clock = clock

    @property
    def pool(self) -> ContainerPool:
        return self._pool

    def invoke(self, action: ActionSpec, invocation: Invocation) -> Activation:
        return self._invoke(action, invocation, MAX_DELIVERIES)

    def _invoke(self, action: ActionSpec, invocation: Invocation, deliveries: int) -> Activation:
        activation_id = invocation.activation_id or new_activation_id()
        timeline = _Timeline(self._clock, self._clock.monotonic())
        begun_wall = self._clock.wall_ms()
        try:
            lease = self._pool.acquire(action)
        except PoolExhausted:
            raise  # a refusal for the caller to show, not a failed activation
        except InvokerError as exc:
            log.warning("could not provision a container for %s: %s", action.path, exc)
            end = self._clock.wall_ms()
            return self._record(action, invocation, activation_id, begun_wall, end,
                                results.whisk_error(results.PROVISION_FAILED), (), {
                                    "startPath": "cold", "startReason": f"container start failed: {exc}",
                                    "phases": {"queue": round(timeline.since(timeline.begun), 3)},
                                    "waitTime": end - begun_wall, "timeout": False})
        timeline.phases.update(lease.phases)
        try:
            return self._run_on(lease, action, invocation, activation_id, timeline, begun_wall,
                                redeliver=deliveries > 1)
        except _NeverReached as lost:
            # Dead before it could take the request (killed outside Docker, which
            # reports the death a moment later): the action never saw it; run it elsewhere.
            log.warning("%s; running activation %s of %s on another container", lost, activation_id, action.path)
            self._pool.release(lease, destroy=True, why=str(lost))
            return self._invoke(action, dataclasses.replace(invocation, activation_id=activation_id),
                                deliveries - 1)
        except _RestoredContainerDied as died:
            # No activation is lost to a snapshot: drop it and run this one cold.
            self._pool.release(lease, destroy=True, why=str(died))
            self._pool.discard_snapshot(action, str(died))
            retry = self.invoke(action, Invocation(invocation.params, invocation.subject, activation_id,
                                                   invocation.transaction_id, invocation.api_key))
            annotations = tuple((k, v) for k, v in retry.annotations) + (("restoreFallback", str(died)),)
            return dataclasses.replace(retry, annotations=annotations)
        except BaseException:
            self._pool.release(lease, destroy=True, why="the invoker failed mid-activation")
            raise

    def _run_on(self, lease: Lease, action: ActionSpec, invocation: Invocation, activation_id: str,
                timeline: _Timeline, begun_wall: int, *, redeliver: bool = False) -> Activation:
        container = lease.container
        client = container.client
        assert client is not None
        timeout_s = action.limits.timeout_ms / 1000
        wait_ms = int(round(timeline.since(timeline.begun)))
        deadline = begun_wall + wait_ms + action.limits.timeout_ms
        context = {
            "namespace": invocation.subject, "action_name": action.qualified_name,
            "action_version": action.version, "activation_id": activation_id,
            "transaction_id": invocation.transaction_id or activation_id, "deadline": str(deadline),
            **({"api_key": invocation.api_key} if invocation.api_key else {}),
        }
        init_ms: float | None = None
        response: ActivationResponse | None = None
        timed_out = False
        if lease.needs_init:
            mark = self._clock.monotonic()
            env = {**action.init_env, **{f"__OW_{k.upper()}": v for k, v in context.items()}}
            body = {"value": {"name": action.name, "main": action.main, "code": action.code,
                              "binary": action.binary, "env": env}}
            try:
                status, payload = client.post("/init", _encode(body), timeout=timeout_s)
                if status != 200:
                    response = results.init_failed(status, payload)
            except ProxyConnectionError as exc:
                if redeliver and isinstance(exc, ProxyRequestNotSent):
                    raise _NeverReached(f"container {container.container_id[:12]} could not take the /init ({exc})") \
                        from exc
                timed_out = isinstance(exc, ProxyTimeout)
                response = (results.timed_out(action.limits.timeout_ms, during_init=True) if timed_out
                            else results.developer_error(results.INIT_EXITED))
            init_ms = timeline.since(mark)
            timeline.phases["init"] = init_ms
            if response is None:
                self._pool.mark_initialized(container)
        run_start_wall = self._clock.wall_ms()
        if response is None:
            mark = self._clock.monotonic()
            try:
                status, payload = client.post("/run", _encode({"value": dict(invocation.params), **context}),
                                              timeout=timeout_s)
                response = results.run_answer(status, payload)
            except ProxyConnectionError as exc:
                timed_out = isinstance(exc, ProxyTimeout)
                first_run_of_clone = lease.path is StartPath.RESTORE and not lease.container.served
                # At most once for user code: only a /run that never reached the clone is
                # run again (cold); once it was sent, its failure is this activation's.
                if first_run_of_clone and isinstance(exc, ProxyRequestNotSent):
                    raise _RestoredContainerDied(f"the restored container could not take its first /run ({exc})") \
                        from exc
                if redeliver and isinstance(exc, ProxyRequestNotSent):
                    raise _NeverReached(f"container {container.container_id[:12]} could not take the /run ({exc})") \
                        from exc
                if first_run_of_clone and not timed_out:
                    self._pool.note_clone_died(action, f"a restored container died during its first /run ({exc})")
                response = (results.timed_out(action.limits.timeout_ms, during_init=False) if timed_out
                            else results.developer_error(results.RUN_EXITED))
            timeline.phases["run"] = timeline.since(mark)
            if lease.path is StartPath.RESTORE and not lease.container.served and response.status is Status.SUCCESS:
                self._pool.note_clone_served(action)
            lease.container.served += 1
        end_wall = self._clock.wall_ms()
        failed = response.status in (Status.DEVELOPER_ERROR, Status.WHISK_ERROR)
        if failed and not timed_out and self._backend.oom_killed(container.container_id):
            response = results.developer_error(results.MEMORY_EXHAUSTED)
        mark = self._clock.monotonic()
        collected = activation_logs.collect(
            self._backend, container.container_id, container.log_offset,
            limit_bytes=action.limits.logs_mb * 1024 * 1024,
            wait_s=self._config.log_wait_s if not (failed or timed_out) else 0.05,
            expect_sentinels=not (failed or timed_out))
        container.log_offset = collected.offset
        log_lines = collected.lines
        if failed:
            log_lines += (f"{'':<30} stderr: {activation_logs.AFTER_FAILURE}",) if not collected.complete else ()
        timeline.phases["logs"] = timeline.since(mark)
        self._pool.release(lease, destroy=failed or timed_out,
                           why="the activation timed out" if timed_out else "the action failed")
        start = run_start_wall - int(round(init_ms or 0))
        annotations: dict[str, Any] = {
            "waitTime": wait_ms, "timeout": timed_out,
            "startPath": lease.path.value, "startReason": lease.reason,
            "phases": {name: round(ms, 3) for name, ms in timeline.phases.items()},
        }
        if init_ms is not None:
            annotations["initTime"] = int(round(init_ms))
        if lease.restore_fallback:
            annotations["restoreFallback"] = lease.restore_fallback
        if init_ms is not None and container.initialized:
            # After the response is known, so that a snapshot never delays it.
            self._pool.record_init(action, init_ms)
        return self._record(action, invocation, activation_id, start, end_wall, response, log_lines,
                            annotations)

    @staticmethod
    def _record(action: ActionSpec, invocation: Invocation, activation_id: str, start: int, end: int,
                response: ActivationResponse, log_lines: tuple[str, ...],
                extra: dict[str, Any]) -> Activation:
        annotations: list[tuple[str, Any]] = [
            ("path", action.path), ("kind", action.kind), ("limits", action.limits.to_json()),
        ]
        annotations += [(key, extra[key]) for key in ("timeout", "initTime", "waitTime", "startPath",
                                                      "startReason", "restoreFallback", "phases")
                        if key in extra]
        return Activation(activation_id=activation_id, namespace=invocation.subject, name=action.name,
                          version=action.version, subject=invocation.subject, start=start, end=max(end, start),
                          response=response, logs=log_lines, annotations=tuple(annotations))


class _RestoredContainerDied(Exception):
    """A container restored from a snapshot died before answering its first /run."""


class _NeverReached(Exception):
    """A container could not take an activation's /init or /run at all (not sent)."""


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
