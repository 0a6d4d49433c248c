"""Everything one emulator instance holds, built once from its Settings."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.auth import Authenticator
from mockserver.clock import Clock
from mockserver.dispatch import Dispatcher
from mockserver.engine import TaskEngine
from mockserver.handlers import Handlers
from mockserver.media.service import Media
from mockserver.randomness import Randomness
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

    @classmethod
    def build(cls, settings: Settings) -> Services:
        clock = Clock()
        randomness = Randomness(settings.seed)
        media = Media(settings)
        engine = TaskEngine(settings, clock, randomness, media)
        handlers = Handlers(engine, media)
        return cls(settings, clock, randomness, media, engine, handlers, Dispatcher(handlers),
                   Authenticator(settings.api_keys))
