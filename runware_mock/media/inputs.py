"""Turn an input string (URL, upload UUID, data URI or raw base64) into a file on disk."""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from runware_mock.media import outbound
from runware_mock.media.file_store import MediaStore, Pending
from runware_mock.media.outbound import Resolver
from runware_mock.media.targets import TargetNotReached, TargetPolicy, TargetRefused, plain

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# URLs under the URL map whose files were found: a flood of submits of the same fixtures
# resolves each URL once (the caller stats the file again before using it).
_MAPPED_KEPT = 4096
_DATA_URI_HEAD = re.compile(r"^data:[\w.+/-]*(?:;[\w-]+=[\w.-]+)*;base64$")
# Characters of base64 decoded between two yields to the event loop (a few milliseconds each):
# 20 MB of media decoded at once would hold it for a tenth of a second.
_DECODE_SLICE = 1024 * 1024
# A DNS name: dot-separated labels of letters, digits, hyphens (and the underscores some
# real hosts carry), none starting or ending with a hyphen, at most 253 characters.
_DNS_NAME = re.compile(r"(?=.{1,253}$)(?:(?!-)[A-Za-z0-9_-]{1,63}(?<!-)\.)*"
                       r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
# Characters of a client's URL quoted back in an error message.
_QUOTED = 200


class InputError(ValueError):
    """An input that could not be fetched or decoded; the message says why, for the client."""


class Unreachable(InputError):
    """An input URL whose host cannot be reached: its name does not resolve, no connection
    to it could be made (refused, timed out), or the policy does not reach its addresses. A
    host that answered, however badly, is reachable: that is a plain InputError."""

    def __init__(self, url: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason


class InputResolver:
    def __init__(self, store: MediaStore, *, url_map: tuple[tuple[str, str], ...],
                 fetch_timeout: float, fetch_max_bytes: int,
                 find_upload: Callable[[str], Path | Pending | None],
                 make_pending: Callable[[Pending], Awaitable[Path]], lookups: Resolver,
                 targets: TargetPolicy) -> None:
        self._store = store
        self._lookups = lookups
        self._targets = targets
        # Resolved once: resolving on every request cost more than the rest of a submit.
        self._url_map = [(prefix, Path(folder).resolve()) for prefix, folder in url_map]
        self._timeout = fetch_timeout
        self._max_bytes = fetch_max_bytes
        self._find_upload = find_upload
        self._make_pending = make_pending
        self._mapped: dict[str, Path] = {}

    async def resolve(self, spec: str) -> Path:
        """A local file holding the input's bytes (content-addressed in the store)."""
        local = self._local(spec)
        if isinstance(local, Pending):
            return await self._make_pending(local)  # an earlier task's output, made now
        if local is not None:
            return local
        spec = spec.strip()
        if _is_url(spec):
            return await self._store.save_input(await self._fetch(spec))
        return await self._store.save_input(await decode_inline(spec))

    def local(self, spec: str) -> Path | None:
        """The file of a URL under the URL map or of an upload UUID, found without waiting;
        None for an input that has to be fetched, decoded or made."""
        local = self._local(spec)
        return None if isinstance(local, Pending) else local

    def _local(self, spec: str) -> Path | Pending | None:
        spec = spec.strip()
        if _is_url(spec):
            return self._served_here(spec) or self._mapped_path(spec)
        if _UUID.match(spec):
            path = self._find_upload(spec.lower())
            if path is None:
                raise InputError(f"no uploaded media with UUID {spec} (upload it with "
                                 "mediaStorage or imageUpload first)")
            return path
        return None

    def _served_here(self, url: str) -> Path | Pending | None:
        """The file behind a URL this emulator serves (``{base}/{kind}/{uuid}.{ext}``: an upload
        or an earlier task's output), read from disk rather than fetched from itself."""
        prefix = f"{self._store.base_url}/"
        if not url.startswith(prefix):
            return None
        _, _, name = url[len(prefix):].partition("/")
        item_uuid = name.partition(".")[0]
        return self._find_upload(item_uuid.lower()) if _UUID.match(item_uuid) else None

    def _mapped_path(self, url: str) -> Path | None:
        known = self._mapped.get(url)
        if known is not None:
            return known
        for prefix, root in self._url_map:
            if url.startswith(prefix):
                relative = os.path.normpath(unquote(urlsplit(url[len(prefix):]).path).lstrip("/"))
                path = root / relative
                if relative.startswith("..") or os.path.isabs(relative) or not path.is_file():
                    raise InputError(f"{url} is mapped to {root}, which has no file {relative}")
                if len(self._mapped) < _MAPPED_KEPT:
                    self._mapped[url] = path
                return path
        return None

    async def _fetch(self, url: str) -> bytes:
        """The body of a GET, redirects followed, all of it within the fetch timeout: the
        client's timeout bounds each read, and an origin sending a byte a second would never
        trip it."""
        shown = _quoted(url)
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            raise InputError(f"{shown} is not a valid URL ({exc})") from None
        problem = _malformed(target)
        if problem is not None:
            raise InputError(f"{shown} is not a valid URL ({problem})")
        try:
            async with asyncio.timeout(self._timeout):
                return await self._get(target, shown)
        except TargetNotReached as exc:
            raise Unreachable(url, f"{shown} is not fetched: {exc}", str(exc)) from None
        except TargetRefused as exc:
            raise InputError(f"{shown} is not fetched: {exc}") from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # No connection was made: the same message as below, so that an error does not
            # tell a client whether a port is open; the reason is for the stand-in's record.
            raise Unreachable(url, _no_answer(shown, self._timeout),
                              _quoted(str(exc)) or exc.__class__.__name__) from None
        except (TimeoutError, httpx.TimeoutException, httpx.NetworkError,
                httpx.RemoteProtocolError):
            # One message whatever went wrong on the wire, so that an error does not tell a
            # client whether a port is open (refused, reset, not HTTP, or silent).
            raise InputError(_no_answer(shown, self._timeout)) from None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, UnicodeError) as exc:
            raise InputError(f"could not fetch {shown}: {exc.__class__.__name__} "
                             f"{_quoted(str(exc))}") from None

    async def _get(self, target: httpx.URL, shown: str) -> bytes:
        async with (
            # Connecting gets half the fetch timeout: a host that takes longer is unreachable
            # (ConnectTimeout), told apart from one that connected and answers too slowly.
            outbound.client(self._lookups, self._targets,
                            timeout=httpx.Timeout(self._timeout, connect=self._timeout / 2),
                            follow_redirects=True) as client,
            client.stream("GET", target) as response,
        ):
            if response.status_code != 200:
                raise InputError(f"fetching {shown} answered HTTP {response.status_code}")
            return await self._read_capped(shown, response)

    async def _read_capped(self, shown: str, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise InputError(f"{shown} is larger than the fetch limit of {self._max_bytes} "
                                 "bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _malformed(target: httpx.URL) -> str | None:
    """What httpx lets through but no fetch can use: a port out of range, a host that is
    neither an address nor a DNS name. Told as malformed, not as a host that cannot be
    reached (which would get a stand-in), and never looked up."""
    if target.port is not None and not 0 < target.port < 65536:
        return f"port {target.port} is out of range"
    host = target.raw_host.decode("ascii", "replace")  # an IDN as its punycode
    if not host or not (_DNS_NAME.fullmatch(host.rstrip(".")) or plain(host) is not None):
        return f"the host {_quoted(host)!r} is not a host name"
    return None


def _no_answer(shown: str, timeout: float) -> str:
    return (f"could not fetch {shown}: no HTTP answer within the fetch timeout of {timeout:g} s "
            "(nothing listening, the connection cut, too slow, or not HTTP)")


def _is_url(spec: str) -> bool:
    return spec[:8].lower().startswith(("http://", "https://"))


def _quoted(text: str) -> str:
    return text if len(text) <= _QUOTED else f"{text[:_QUOTED]}... ({len(text)} characters)"


async def decode_inline(spec: str) -> bytes | bytearray:
    """Bytes of a data URI or of raw base64; anything else is an InputError. Decoded a slice
    at a time, yielding to the event loop between slices."""
    payload = spec
    if spec.startswith("data:"):
        head, comma, payload = spec.partition(",")
        if not comma or not _DATA_URI_HEAD.match(head):
            raise InputError("malformed data URI: expected data:<mime>;base64,<data>")
    try:
        content = await _decoded(payload)
    except (binascii.Error, ValueError):
        # Wrapped base64 (with line breaks): decoded again without its whitespace, which is
        # rare enough not to strip on every input.
        try:
            content = await _decoded(await _without_whitespace(payload))
        except (binascii.Error, ValueError) as exc:
            raise InputError("not a URL, an upload UUID, a data URI or valid base64 "
                             "data") from exc
    if not content:
        raise InputError("the base64 data is empty")
    return content


async def _decoded(text: str) -> bytearray:
    """Strict base64, a slice at a time (slices of a multiple of 4 characters decode alone),
    each written into one buffer as it comes, so no step copies the whole at once."""
    decoded = bytearray(len(text) // 4 * 3)
    size = 0
    for start in range(0, len(text), _DECODE_SLICE):
        if start:
            await asyncio.sleep(0)
        part = base64.b64decode(text[start:start + _DECODE_SLICE], validate=True)
        decoded[size:size + len(part)] = part
        size += len(part)
    del decoded[size:]  # padding decodes to fewer bytes
    return decoded


async def _without_whitespace(text: str) -> str:
    """``text`` without its whitespace (base64 may be wrapped), a slice at a time."""
    parts = []
    for start in range(0, len(text), _DECODE_SLICE):
        if start:
            await asyncio.sleep(0)
        parts.append("".join(text[start:start + _DECODE_SLICE].split()))
    return "".join(parts)
