"""Everything one emulator instance holds, built once from its Settings."""

from __future__ import annotations

from dataclasses import dataclass

from runware_mock.delivery.service import Delivery
from runware_mock.engine.clock import Clock
from runware_mock.engine.lifecycle import TaskEngine
from runware_mock.engine.randomness import Randomness
from runware_mock.faults import FaultInjector, load_profile
from runware_mock.media.service import Media
from runware_mock.settings import Settings
from runware_mock.tasks.base import TaskServices
from runware_mock.tasks.dispatch import Dispatcher
from runware_mock.tasks.registry import Reporter
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

    @classmethod
    def build(cls, settings: Settings) -> Services:
        clock = Clock()
        randomness = Randomness(settings.seed)
        media = Media(settings, randomness.result_uuid)
        engine = TaskEngine(settings, clock, randomness)
        faults = FaultInjector(randomness, load_profile(settings.faults) if settings.faults else ())
        task_services = TaskServices(settings, engine, media, faults)
        reporter = Reporter(task_services)
        delivery = Delivery(settings, clock, randomness, media, reporter.body)
        engine.subscribe(delivery.on_finished)
        sessions = SessionRegistry(settings.session_keep_seconds, randomness)
        push = ResultPush(engine, reporter.body, sessions, enabled=settings.push_results)
        engine.subscribe(push.on_finished)
        return cls(settings, clock, randomness, media, engine, reporter,
                   Dispatcher(task_services, settings.max_errors_per_reply),
                   Authenticator(settings.api_keys),
                   Journal(settings.journal_limit, settings.journal_value_limit,
                           entry_bytes=settings.journal_entry_bytes), delivery,
                   sessions, push, faults)
