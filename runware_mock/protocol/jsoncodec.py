"""JSON on the wire, for every reply and JSON page the emulator serves: orjson, which parses
and renders several times faster than the standard library, with the standard library behind it
wherever orjson refuses what ``json`` takes (integers beyond 64 bits, lone surrogates, NaN,
UTF-16 bodies), so nothing is accepted or refused differently than ``json`` would."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette import responses

# Compact and without NaN, as orjson renders; ASCII, so that a lone surrogate a client sent
# (and a reply echoes) is written as its \u escape, which orjson refuses to do.
_encode_json = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
# The largest text the standard library parses when orjson refuses it.
LENIENT_BYTES = 1024 * 1024


class TooDeep(ValueError):
    """Arrays and objects nested deeper than either parser goes (orjson stops at 1,024 levels,
    the standard library at the interpreter's recursion limit)."""


def loads(raw: bytes | str) -> Any:
    """Raises ``ValueError`` (or ``UnicodeDecodeError``) as ``json.loads`` does, and
    ``TooDeep`` (a ValueError) for nesting neither parser can follow.

    Past ``LENIENT_BYTES`` what orjson refuses stays refused: the standard library parses
    ten times slower, and a 20 MB body of lone surrogates would hold the event loop for a
    tenth of a second (no valid task that large needs what only ``json`` takes: its bulk is
    base64)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            raise TooDeep(str(exc)) from None
        if len(raw) > LENIENT_BYTES:
            raise
    try:
        return json.loads(raw)
    except RecursionError:
        raise TooDeep("nested past the parser's recursion limit") from None


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:
        return _encode_json(value).encode()


class JSONResponse(responses.JSONResponse):
    """Starlette's JSONResponse rendered by ``dumps``: faster, and a lone surrogate that a
    client sent (and the journal or an error echoes) is escaped instead of failing to encode."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
