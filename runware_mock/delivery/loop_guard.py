"""Recognise a delivery URL that points back at the emulator itself.

A webhook or upload sent to the emulator would be answered by the emulator's own API (an error
envelope at best, a request that feeds the journal and the delivery log at worst), so such
URLs are refused instead of being sent.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from runware_mock.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _address(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower(), port


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class SelfAddress:
    def __init__(self, settings: Settings) -> None:
        own = {(settings.host.lower(), settings.port), _address(settings.base_url)}
        self._exact = {address for address in own if address is not None}
        # A server bound to a loopback or wildcard address answers every loopback name.
        self._local_ports = {port for host, port in self._exact if _is_local(host)}

    def matches(self, url: str) -> bool:
        address = _address(url)
        if address is None:
            return False
        host, port = address
        return address in self._exact or (port in self._local_ports and _is_local(host))
