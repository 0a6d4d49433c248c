"""Recognise a delivery URL that points back at the emulator itself.

A webhook or upload sent to the emulator would be answered by the emulator's own API (an error
envelope at best; at worst a call to its admin API, such as ``/__admin/reset``), so such URLs
are refused instead of being sent.

Host names are not compared as text: ``127.1``, ``2130706433``, ``0x7f000001``,
``[::ffff:127.0.0.1]`` and any name that resolves here all reach the same socket. The URL's
host is resolved as the delivery would resolve it, and each address is checked: a loopback or
wildcard address, an address of one of this machine's interfaces (one a socket can bind), or
an address of the public URL's host, on the emulator's port (or the public URL's) is the
emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from functools import cache
from urllib.parse import urlsplit

from runware_mock.media.outbound import Resolver
from runware_mock.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _host_and_port(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower().rstrip("."), port


def _plain(address: str) -> Address | None:
    """An address as the kernel routes it: IPv4-mapped IPv6 is IPv4; no zone id."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


@cache
def is_this_host(address: Address) -> bool:
    """Whether ``address`` reaches this machine: loopback, wildcard, or one a socket can bind
    (the kernel lets a socket bind only addresses of its own interfaces)."""
    if address.is_loopback or address.is_unspecified:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((str(address), 0))
        return True
    return False


async def resolve(lookups: Resolver, host: str, port: int,
                  timeout: float = 10.0) -> set[Address]:
    """Every address ``host`` resolves to, as a connection to it would resolve it (nothing if
    it does not resolve, or not within ``timeout`` seconds: the delivery then fails on its
    own)."""
    literal = _plain(host.strip("[]"))
    if literal is not None:
        return {literal}
    try:
        async with asyncio.timeout(timeout):
            found = await lookups.addresses(host, port)
    except (OSError, UnicodeError, ValueError, TimeoutError):
        return set()
    return {address for found_address in found if (address := _plain(found_address))}


class SelfAddress:
    def __init__(self, settings: Settings, lookups: Resolver) -> None:
        self._lookups = lookups
        self._port = settings.port
        self._public = _host_and_port(settings.base_url)
        # A name that takes longer than a delivery try to resolve is not waited for longer.
        self._timeout = settings.delivery_timeout

    async def refusal(self, url: str) -> str | None:
        """Why ``url`` is the emulator itself, or None when it is somewhere else."""
        target = _host_and_port(url)
        if target is None:
            return None
        host, port = target
        if target == self._public:
            return "this URL is the emulator's public URL"
        if port not in (self._port, self._public[1] if self._public else None):
            return None
        addresses = await resolve(self._lookups, host, port, self._timeout)
        if port == self._port and any(is_this_host(address) for address in addresses):
            return f"{host} is this machine and {port} the emulator's port"
        if self._public is not None and port == self._public[1]:
            public = await resolve(self._lookups, *self._public, self._timeout)
            if addresses & public:
                return f"{host} is the host of the emulator's public URL"
        return None
