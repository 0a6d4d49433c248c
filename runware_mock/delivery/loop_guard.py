"""Recognise a delivery URL that points back at the emulator itself.

A webhook or upload sent to the emulator would be answered by the emulator's own API (an error
envelope at best; at worst a call to its admin API, such as ``/__admin/reset``), so such URLs
are refused instead of being sent.

Host names are not compared as text: ``127.1``, ``2130706433``, ``0x7f000001``,
``[::ffff:127.0.0.1]`` and any name that resolves here all reach the same socket. The URL's
host is resolved as the delivery would resolve it, and each address is checked: a loopback or
wildcard address, an address of one of this machine's interfaces (one a socket can bind), or
an address of the public URL's host, on the emulator's port (or the public URL's) is the
emulator. The outbound policy (``media.targets``) is asked the same way, so a delivery it
refuses is refused once, without tries.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from runware_mock.media.outbound import Resolver
from runware_mock.media.targets import Address, TargetPolicy, is_this_host, plain
from runware_mock.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_and_port(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower().rstrip("."), port


async def resolve(lookups: Resolver, host: str, port: int,
                  timeout: float = 10.0) -> set[Address]:
    """Every address ``host`` resolves to, as a connection to it would resolve it (nothing if
    it does not resolve, or not within ``timeout`` seconds: the delivery then fails on its
    own)."""
    literal = plain(host)
    if literal is not None:
        return {literal}
    try:
        async with asyncio.timeout(timeout):
            found = await lookups.addresses(host, port)
    except (OSError, UnicodeError, ValueError, TimeoutError):
        return set()
    return {address for found_address in found if (address := plain(found_address))}


class SelfAddress:
    def __init__(self, settings: Settings, lookups: Resolver, policy: TargetPolicy) -> None:
        self._lookups = lookups
        self._policy = policy
        self._port = settings.port
        self._public = _host_and_port(settings.base_url)
        # A name that takes longer than a delivery try to resolve is not waited for longer.
        self._timeout = settings.delivery_timeout

    async def refusal(self, url: str) -> str | None:
        """Why ``url`` is the emulator itself or another the outbound policy does not reach
        (``media.targets``), or None when it may be sent."""
        target = _host_and_port(url)
        if target is None:
            return None
        problem = self._policy.path_refusal(urlsplit(url).path)
        if problem is not None:
            return problem
        host, port = target
        if target == self._public:
            return "this URL is the emulator's public URL"
        addresses = await resolve(self._lookups, host, port, self._timeout)
        if port == self._port and any(is_this_host(address) for address in addresses):
            return f"{host} is this machine and {port} the emulator's port"
        refusals = [self._policy.address_refusal(address, port) for address in addresses]
        if refusals and all(refusals):
            return f"{host}: {refusals[0]}"
        if self._public is not None and port == self._public[1]:
            public = await resolve(self._lookups, *self._public, self._timeout)
            if addresses & public:
                return f"{host} is the host of the emulator's public URL"
        return None
