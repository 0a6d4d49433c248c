"""Everything one emulator instance holds, built once from its Settings."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.auth import Authenticator
from mockserver.clock import Clock
from mockserver.delivery import Delivery
from mockserver.dispatch import Dispatcher
from mockserver.engine import TaskEngine
from mockserver.faults import FaultInjector, load_profile
from mockserver.handlers import Handlers
from mockserver.journal import Journal
from mockserver.media.service import Media
from mockserver.randomness import Randomness
from mockserver.sessions import ResultPush, SessionRegistry
from mockserver.settings import Settings


@dataclass
class Services:
    settings: Settings
    clock: Clock
    randomness: Randomness
    media: Media
    engine: TaskEngine
    handlers: Handlers
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
        media = Media(settings)
        engine = TaskEngine(settings, clock, randomness, media)
        faults = FaultInjector(randomness, load_profile(settings.faults) if settings.faults else ())
        handlers = Handlers(engine, media, faults)
        delivery = Delivery(settings, clock, randomness, media, handlers)
        engine.subscribe(delivery.on_finished)
        sessions = SessionRegistry(settings.session_keep_seconds, randomness)
        push = ResultPush(engine, handlers, sessions, enabled=settings.push_results)
        engine.subscribe(push.on_finished)
        return cls(settings, clock, randomness, media, engine, handlers, Dispatcher(handlers),
                   Authenticator(settings.api_keys),
                   Journal(settings.journal_limit, settings.journal_value_limit), delivery,
                   sessions, push, faults)
