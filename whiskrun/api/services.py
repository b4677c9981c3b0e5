"""Everything a request handler needs, built once by the server and handed to
the Flask app (no module-level state)."""

from dataclasses import dataclass

from flask import current_app

from .activator import Activator
from .alarm_scheduler import AlarmScheduler
from .catalog import Catalog
from .config import ApiConfig
from .events import EventCatalog
from .firing import TriggerFirer
from .gateway import Gateway
from .identity import KeyRing
from .sharing import SharedPackages
from .store import Store


@dataclass(frozen=True)
class ApiServices:
    config: ApiConfig
    keys: KeyRing
    store: Store
    catalog: Catalog
    activator: Activator
    events: EventCatalog
    firer: TriggerFirer
    shared: SharedPackages
    alarms: AlarmScheduler
    gateway: Gateway


def services() -> ApiServices:
    return current_app.extensions["whiskrun"]
