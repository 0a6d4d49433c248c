"""The emulator the proxy compares the upstream with: one in this process, on a temporary data
dir, with no latency, that each request is asked again (in process, never on the network)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from runware_mock.app import create_app
from runware_mock.settings import Settings


def stand_in_key(api_key: str) -> str:
    """What the emulator is given instead of the client's key: the same key always gives the
    same stand-in (tasks stay the key's own), and the real key never reaches its store or
    journal."""
    return "proxy-" + hashlib.sha256(api_key.encode()).hexdigest()[:24]


class Shadow:
    """``async with Shadow.running(settings) as shadow: await shadow.post(body, key)``"""

    def __init__(self, app: Any, http: httpx.AsyncClient) -> None:
        self.app = app
        self._http = http

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, settings: Settings) -> AsyncIterator[Shadow]:
        # Instant: its answers are there to compare shapes with, the sooner the better.
        quiet = dataclasses.replace(settings, ephemeral=True, data_dir=None, latency="instant",
                                    api_keys=(), faults="", workers=1, replay=None)
        app = create_app(quiet)
        starlette = app.app
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
        async with starlette.router.lifespan_context(starlette), httpx.AsyncClient(
                transport=transport, base_url=quiet.base_url, timeout=None) as http:
            yield cls(app, http)

    async def post(self, body: bytes, api_key: str | None) -> httpx.Response:
        """The emulator's answer to ``POST /v1`` of ``body`` (a stream read to its end)."""
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {stand_in_key(api_key)}"
        return await self._http.post("/v1", content=body, headers=headers)
