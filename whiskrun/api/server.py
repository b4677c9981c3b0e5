"""``whiskrun serve``: prepare the host if needed, start the invoker, and
serve the API with waitress until Ctrl-C or SIGTERM, leaving no container."""

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import waitress

from ..invoker.config import InvokerConfig
from ..invoker.service import running_invoker
from . import system_catalog
from .activator import ActionRunner, Activator
from .alarm_feeds import AlarmFeeds
from .alarm_scheduler import AlarmScheduler
from .app import create_app
from .catalog import Catalog
from .config import ApiConfig
from .errors import ServerSetupError
from .events import EventCatalog
from .firing import TriggerFirer
from .gateway import Gateway
from .identity import KeyRing
from .services import ApiServices
from .sharing import SharedPackages
from .store import Store

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]


def host_ready() -> str | None:
    """Why the host is not ready to run actions (None when it is)."""
    import docker

    from .. import kinds

    try:
        client = docker.from_env(timeout=10)
        try:
            client.ping()
            missing = [k.image for k in kinds.KINDS if not client.images.list(name=k.image)]
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        return f"Docker is not reachable ({exc})"
    return f"runtime images missing: {', '.join(missing)}" if missing else None


def prepare_host(say: Callable[[str], None]) -> None:
    """Run the project's idempotent setup when Docker or the images are missing."""
    reason = host_ready()
    if reason is None:
        return
    script = REPO / "scripts" / "setup.sh"
    if not script.exists():
        raise ServerSetupError(f"The host is not ready ({reason}) and {script} is not here to set it up; "
                               "run `make setup` from a whiskrun checkout.")
    say(f"whiskrun: the host is not ready ({reason}); running {script} (a few minutes on a fresh machine)")
    if subprocess.run(["bash", str(script)], cwd=REPO).returncode != 0:
        raise ServerSetupError(f"{script} failed; its output above says which step. Fix it and run again.")


def build_services(config: ApiConfig, runner: ActionRunner, store: Store) -> ApiServices:
    """Everything the routes use; the alarm scheduler is made but not started."""
    system_catalog.install(store, config.limits)
    catalog = Catalog(store, config.limits)
    activator = Activator(runner, catalog, store, config.limits, config.invoke_workers)
    keys = KeyRing(config.namespaces)
    events = EventCatalog(store, catalog, config.limits)
    firer = TriggerFirer(activator, catalog, store)
    scheduler = AlarmScheduler(store, events, firer, keys)
    activator.register_intrinsic(system_catalog.ALARMS, AlarmFeeds(store, scheduler.changed).handle)
    gateway = Gateway(store, keys)
    activator.register_intrinsic(system_catalog.APIMGMT, gateway.handle)
    return ApiServices(config, keys, store, catalog, activator, events, firer, SharedPackages(store, catalog),
                       scheduler, gateway)


def docker_bridge_address() -> str | None:
    """The address of Docker's default bridge on this host (where action
    containers reach the API), or None when Docker does not say."""
    import docker

    try:
        client = docker.from_env(timeout=10)
        try:
            attrs = client.networks.get("bridge").attrs
        finally:
            client.close()
    except docker.errors.DockerException:
        return None
    gateway = next((c["Gateway"] for c in attrs.get("IPAM", {}).get("Config") or [] if c.get("Gateway")), None)
    # Docker 20.10 names no gateway for its default bridge: the bridge's own address is it.
    name = (attrs.get("Options") or {}).get("com.docker.network.bridge.name", "docker0")
    return gateway or _interface_address(name)


def _interface_address(name: str) -> str | None:
    """An interface's IPv4 address (SIOCGIFADDR), or None."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


def listen_addresses(config: ApiConfig) -> list[str]:
    """``--host`` when given; else loopback and the Docker bridge."""
    if config.host is not None:
        return [config.host]
    bridge = docker_bridge_address()
    if bridge is None:
        log.warning("Docker's bridge address is unknown: listening on 127.0.0.1 only, so actions cannot call "
                    "the API (pass --host to choose)")
    return ["127.0.0.1", *([bridge] if bridge else [])]


def create_server(config: ApiConfig, services: ApiServices) -> Any:
    """A waitress server, listening but not yet serving (``.run()`` serves)."""
    hosts = listen_addresses(config)
    try:
        return waitress.create_server(create_app(services), listen=" ".join(f"{h}:{config.port}" for h in hosts),
                                      threads=config.threads, connection_limit=max(100, config.threads * 2),
                                      channel_timeout=600, ident="whiskrun")
    except OSError as exc:
        raise ServerSetupError(f"Cannot listen on {', '.join(hosts)} port {config.port} ({exc.strerror}); "
                               "another server may be using it. Stop it or pass --port.") from exc


def bound_port(server: Any) -> int:
    """The port a server listens on (one address, or several on one port)."""
    if hasattr(server, "effective_port"):
        return int(server.effective_port)
    return int(server.effective_listen[0][1])


def serve(config: ApiConfig, invoker_config: InvokerConfig, *, say: Callable[[str], None],
          on_ready: Callable[[int], None] | None = None) -> None:
    store = Store(config.database)
    try:
        with running_invoker(invoker_config) as invoker:
            services = build_services(config, invoker, store)
            activator = services.activator
            server = create_server(config, services)
            port = bound_port(server)
            say(f"whiskrun: OpenWhisk API on http://localhost:{port} (data in {config.data_dir})")
            guest = config.namespaces.get("guest")
            if guest:
                say(f"whiskrun: wsk property set --apihost http://localhost:{port} --auth {guest}")
            services.alarms.start()
            if on_ready:
                on_ready(port)
            try:
                server.run()
            finally:
                services.alarms.stop()
                server.close()
                # Before the invoker goes: let running activations end and be stored, so
                # that none creates a container after the pool's last sweep.
                activator.shutdown(wait=True)
    finally:
        store.close()
