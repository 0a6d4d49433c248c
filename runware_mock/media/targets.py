"""Which addresses the emulator's outgoing requests (input fetches, webhooks, uploads) may reach.

A URL a client gives is the client's wish, not the emulator's: without a policy, a webhook of
``http://127.0.0.1:<port>/__admin/reset`` resets an emulator (this one, another, or this one's
leader behind ``--workers``), and an emulator bound to a public interface fetches whatever its
clients name on its private network (a cloud's metadata service included) and serves the
bytes back. So every connection is checked on the address it is about to connect to, after
the name is resolved (every spelling of an address, ``2130706433``, ``0x7f000001``, ``0.0.0.0``,
``[::ffff:127.0.0.1]``, or a name, ends as one), and on every redirect:

- no request goes to a path under ``/__admin`` (any runware-mock's admin API and dashboard),
  however its path is spelled;
- no connection goes to a private port of this emulator on this machine (the leader's, which
  its followers relay to, under ``--workers``); a delivery to its public port is refused by
  the delivery's loop guard, and an input fetched from it is one of its files;
- on a bind to anything but loopback, no connection goes to an address that is not global
  (loopback, private, link-local (cloud metadata), shared, reserved), unless
  ``--allow-private-targets``. On a loopback bind only local clients reach the emulator, and
  they could reach those addresses themselves (tests use local receivers).
"""

from __future__ import annotations

import contextlib
import ipaddress
import posixpath
import socket
from functools import cache
from urllib.parse import unquote

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ADMIN_PREFIX = "/__admin"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and 8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class TargetRefused(Exception):
    """An outgoing request the policy does not send; the message says why, for the client."""


class TargetNotReached(TargetRefused):
    """Refused because every address of the host is one this emulator does not reach (not
    public, on a bind to a network interface): to the client, a host that cannot be reached."""


def plain(address: str) -> Address | None:
    """An address as the kernel routes it: IPv4-mapped IPv6 is IPv4; no zone id."""
    try:
        parsed = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def _carried(address: Address) -> list[Address]:
    """The address, and any IPv4 address an IPv6 one carries (6to4, Teredo, NAT64,
    IPv4-compatible)."""
    found: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
        if any(address in network for network in _NAT64) or (
                int(address) >> 32 == 0 and int(address) > 0xFFFF):
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: Address) -> bool:
    """Global unicast, and carrying no address that is not."""
    return all(one.is_global and not one.is_multicast for one in _carried(address))


@cache
def is_this_host(address: Address) -> bool:
    """Whether ``address`` reaches this machine: loopback, wildcard, or one a socket can bind
    (the kernel lets a socket bind only addresses of its own interfaces)."""
    if any(one.is_loopback or one.is_unspecified for one in _carried(address)):
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((str(address), 0))
        return True
    return False


def is_loopback_bind(host: str) -> bool:
    """Whether a server bound to ``host`` is reachable from this machine only."""
    name = host.strip().lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    address = plain(name)
    return address is not None and address.is_loopback


def admin_path(path: str) -> bool:
    """Whether a URL path reaches ``/__admin`` on a runware-mock, as its router would read it:
    percent escapes decoded (twice over too), backslashes, repeated slashes and dot segments
    folded, any case."""
    for _ in range(3):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    path = "/" + path.replace("\\", "/").lstrip("/")
    folded = posixpath.normpath(path).lower()
    while "//" in folded:
        folded = folded.replace("//", "/")
    return folded == ADMIN_PREFIX or folded.startswith(ADMIN_PREFIX + "/")


class TargetPolicy:
    """The decision for one emulator bound to ``bound_to``; a leader adds its private port to
    ``private_ports`` when it starts."""

    def __init__(self, *, bound_to: str, allow_private: bool) -> None:
        self.private_ports: set[int] = set()
        self._private_allowed = allow_private or is_loopback_bind(bound_to)

    def path_refusal(self, path: str) -> str | None:
        if admin_path(path):
            return "the admin API (/__admin) is never a target of the emulator's own requests"
        return None

    def address_refusal(self, address: Address, port: int) -> str | None:
        """Why a connection to ``address``:``port`` is not made, or None."""
        if port in self.private_ports and is_this_host(address):
            return "the address is this emulator's private port"
        if not self._private_allowed and not is_public(address):
            return _NOT_PUBLIC
        return None

    def check(self, addresses: list[str], port: int) -> list[str]:
        """The addresses a connection may try, in their order; TargetRefused when none."""
        allowed, refusals = [], []
        for text in addresses:
            address = plain(text)
            problem = "not an address" if address is None else self.address_refusal(address,
                                                                                     port)
            if problem is None:
                allowed.append(text)
            else:
                refusals.append(problem)
        if not allowed:
            if not refusals:
                raise TargetNotReached("the name has no address")
            if all(problem == _NOT_PUBLIC for problem in refusals):
                raise TargetNotReached(_NOT_PUBLIC)
            raise TargetRefused(refusals[0])
        return allowed


_NOT_PUBLIC = ("the address is loopback, private, link-local or otherwise not public, which an "
               "emulator bound to a network interface does not reach (see "
               "--allow-private-targets)")
