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


def create_server(config: ApiConfig, services: ApiServices) -> Any:
    """A waitress server, listening but not yet serving (``.run()`` serves)."""
    try:
        return waitress.create_server(create_app(services), host=config.host, port=config.port,
                                      threads=config.threads, connection_limit=max(100, config.threads * 2),
                                      channel_timeout=600, ident="whiskrun")
    except OSError as exc:
        raise ServerSetupError(f"Cannot listen on {config.host}:{config.port} ({exc.strerror}); "
                               "another server may be using it. Stop it or pass --port.") from exc


def serve(config: ApiConfig, invoker_config: InvokerConfig, *, say: Callable[[str], None],
          on_ready: Callable[[int], None] | None = None) -> None:
    store = Store(config.database)
    try:
        with running_invoker(invoker_config) as invoker:
            services = build_services(config, invoker, store)
            activator = services.activator
            server = create_server(config, services)
            port = server.effective_port
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
