"""Everything one emulator instance holds, built once from its Settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from runware_mock.contract import model_catalog
from runware_mock.delivery.sender import Delivery
from runware_mock.engine.clock import Clock
from runware_mock.engine.lifecycle import TaskEngine
from runware_mock.engine.randomness import Randomness
from runware_mock.faults import FaultInjector, load_profile
from runware_mock.handling.accounts import Accounts
from runware_mock.handling.dispatcher import Dispatcher
from runware_mock.handling.recovery import Recovered, recover
from runware_mock.handling.reporting import Reporter
from runware_mock.handling.task_type import TaskServices
from runware_mock.media.facade import Media
from runware_mock.settings import Settings
from runware_mock.store.account_tables import AccountTables
from runware_mock.store.database import FILENAME, Database
from runware_mock.store.delivery_table import DeliveryTable
from runware_mock.store.fault_rule_table import FaultRuleTable
from runware_mock.store.file_table import FileTable
from runware_mock.store.meta_table import MetaTable
from runware_mock.store.task_table import TaskTable
from runware_mock.tasks import task_types
from runware_mock.transport.auth import Authenticator
from runware_mock.transport.journal import Journal
from runware_mock.transport.sessions import ResultPush, SessionRegistry


@dataclass
class Services:
    settings: Settings
    clock: Clock
    randomness: Randomness
    media: Media
    engine: TaskEngine
    reporter: Reporter
    dispatcher: Dispatcher
    authenticator: Authenticator
    journal: Journal
    delivery: Delivery
    sessions: SessionRegistry
    push: ResultPush
    faults: FaultInjector
    tasks: TaskServices
    database: Database
    meta: MetaTable
    task_table: TaskTable
    file_table: FileTable

    @classmethod
    def build(cls, settings: Settings, database: Database) -> Services:
        """Blocking (reads what the store keeps of the clock): called before serving."""
        meta = MetaTable(database)
        clock = Clock(advanced=meta.load_clock_advance())
        randomness = Randomness(settings.seed)
        task_table, file_table = TaskTable(database), FileTable(database)
        media = Media(settings, randomness.result_uuid, file_table)
        engine = TaskEngine(settings, clock, randomness, task_table, file_table)
        fault_rules = FaultRuleTable(database)
        profile = load_profile(settings.faults) if settings.faults else ()
        faults = FaultInjector(randomness, profile, fault_rules)
        faults.restore(fault_rules.load())
        accounts = Accounts(settings.balance, AccountTables(database))
        accounts.load()
        engine.subscribe(accounts.on_finished)
        task_services = TaskServices(settings, engine, media, faults, database.health,
                                     task_types(), accounts)
        reporter = Reporter(task_services)
        delivery = Delivery(settings, clock, randomness, media, reporter.body,
                            DeliveryTable(database))
        engine.subscribe(delivery.on_finished)
        sessions = SessionRegistry(settings.session_keep_seconds, randomness)
        push = ResultPush(engine, reporter.body, sessions, enabled=settings.push_results)
        engine.subscribe(push.on_finished)
        return cls(settings, clock, randomness, media, engine, reporter,
                   Dispatcher(task_services, settings.max_errors_per_reply),
                   Authenticator(settings.api_keys),
                   Journal(settings.journal_limit, settings.journal_value_limit,
                           entry_bytes=settings.journal_entry_bytes), delivery,
                   sessions, push, faults, task_services, database, meta, task_table,
                   file_table)

    def serve_owner_models(self) -> None:
        """Let the model catalog find each key's uploaded models (``stop_owner_models`` when
        the server stops: several emulators may share a process)."""
        model_catalog.add_owner_models(self.tasks.accounts.model_for)

    def stop_owner_models(self) -> None:
        model_catalog.remove_owner_models(self.tasks.accounts.model_for)

    async def recover(self) -> Recovered:
        """Everything the store kept, back in service (at start, before serving): tasks,
        files, then what is still owed of deliveries."""
        recovered = await recover(self.tasks, self.task_table, self.file_table)
        progress = await asyncio.to_thread(DeliveryTable(self.database).load)
        # Finished tasks stay cold unless they may owe a delivery: those are loaded.
        self.delivery.resume(self.engine.loaded(), progress)
        return recovered


def open_store(settings: Settings) -> Database:
    """The data dir's store (blocking). An ephemeral run does not wait for commits: nothing
    of it outlives the process."""
    assert settings.data_dir is not None, "the data dir is resolved when it is claimed"
    return Database(settings.data_dir / FILENAME, wait_for_commit=not settings.ephemeral)
