"""What the admin API, the metrics and the dashboard reach of the emulator: small views of the
app's services (``runware_mock.services.Services`` has them all), so admin depends on the
stages it inspects, never on the assembly that builds them."""

from __future__ import annotations

from typing import Protocol

from runware_mock.delivery.sender import Delivery
from runware_mock.engine.clock import Clock
from runware_mock.engine.lifecycle import TaskEngine
from runware_mock.faults import FaultInjector
from runware_mock.handling.reporting import Reporter
from runware_mock.handling.task_type import TaskServices
from runware_mock.media.facade import Media
from runware_mock.settings import Settings
from runware_mock.store.database import Database
from runware_mock.store.meta_table import MetaTable
from runware_mock.transport.journal import Journal


class Configured(Protocol):
    """The settings: the admin token, the dashboard's limits."""

    settings: Settings


class FaultControl(Configured, Protocol):
    """The dashboard's fault actions."""

    faults: FaultInjector


class Counted(Protocol):
    """What ``GET /metrics`` counts."""

    journal: Journal
    engine: TaskEngine
    delivery: Delivery
    faults: FaultInjector
    media: Media


class Inspected(Counted, FaultControl, Protocol):
    """What the admin API and the dashboard's pages read and change: the tasks, journal,
    deliveries, fault rules, clock and store."""

    clock: Clock
    database: Database
    # The task services: each API key's account among them.
    tasks: TaskServices
    meta: MetaTable
    reporter: Reporter
