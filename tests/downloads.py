"""Fetching what the emulator serves (a result's URL) into a test's folder."""

from __future__ import annotations

from pathlib import Path

import httpx


def fetched(url: str, tmp_path: Path, name: str) -> Path:
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200, url
    path = tmp_path / name
    path.write_bytes(reply.content)
    return path
