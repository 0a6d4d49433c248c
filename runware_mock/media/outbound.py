"""The emulator's outgoing HTTP (input fetches, webhooks, uploads), its host names resolved on
threads of its own.

uvloop resolves names on libuv's thread pool, and closing the loop waits for every lookup in
it: a webhook host that the DNS server never answered held the emulator's shutdown for 10 s
after SIGTERM (the resolver's timeout), past the documented bound. These threads are daemons,
so a process stops with a lookup still pending, and there are ``--lookup-threads`` of them: a
flood of hanging lookups queues rather than starting a thread each.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import queue
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from runware_mock.media.targets import TargetPolicy, TargetRefused

# The addresses of (host, port), in the order a connection tries them; raises OSError.
Lookup = Callable[[str, int], list[str]]
_Job = tuple[str, int, asyncio.AbstractEventLoop, "asyncio.Future[list[str]]"]


def system_lookup(host: str, port: int) -> list[str]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


class Resolver:
    """Looks host names up with ``lookup`` on up to ``threads`` daemon threads, started as
    they are first needed (so a resolver made before a fork has none to lose)."""

    def __init__(self, threads: int, lookup: Lookup = system_lookup) -> None:
        self._most = threads
        self._lookup = lookup
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._threads = 0

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` (itself when it is one); raises OSError as getaddrinfo
        does."""
        with contextlib.suppress(ValueError):
            return [str(ipaddress.ip_address(host.strip("[]")))]
        if never_resolves(host):
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is in the reserved .invalid "
                                  "domain, which never resolves (RFC 6761)")
        loop = asyncio.get_running_loop()
        found: asyncio.Future[list[str]] = loop.create_future()
        if self._threads < self._most:
            self._threads += 1
            threading.Thread(target=self._serve, name="outbound-lookup", daemon=True).start()
        self._jobs.put((host, port, loop, found))
        return await found

    def _serve(self) -> None:
        while True:
            host, port, loop, found = self._jobs.get()
            if found.done():  # its caller gave up (a timeout) while it queued
                continue
            try:
                outcome: list[str] | BaseException = self._lookup(host, port)
            except Exception as exc:
                outcome = exc
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_settle, found, outcome)


def never_resolves(host: str) -> bool:
    """Whether ``host`` is in the ``.invalid`` domain: RFC 6761 asks resolvers to answer "no
    such name" at once, so no query for it leaves the machine (tests name such hosts)."""
    name = host.lower().rstrip(".")
    return name == "invalid" or name.endswith(".invalid")


def _settle(found: asyncio.Future[list[str]], outcome: list[str] | BaseException) -> None:
    if found.done():
        return
    if isinstance(outcome, BaseException):
        found.set_exception(outcome)
    else:
        found.set_result(outcome)


class _Network(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, given addresses the resolver found and the policy allows: it
    connects to an address without a lookup (so the address checked is the one reached), and
    TLS still names the host (SNI)."""

    def __init__(self, resolver: Resolver, policy: TargetPolicy) -> None:
        self._resolver = resolver
        self._policy = policy
        self._connect = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._resolver.addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"looking {host} up took over {timeout:g} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot look {host} up: {exc}") from exc
        addresses = self._policy.check(addresses, port)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._connect.connect_tcp(address, port, timeout, local_address,
                                                       socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        return await self._connect.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._connect.sleep(seconds)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One for every client: loading the CA bundle takes milliseconds of CPU, which a context
    made per client spent on every input fetch (half the emulator's time in a flood of them)."""
    return httpx.create_ssl_context()


class _Transport(httpx.AsyncHTTPTransport):
    def __init__(self, resolver: Resolver, policy: TargetPolicy) -> None:
        super().__init__(verify=_tls())
        # httpx takes no network backend: its pool again, as it builds it, with ours.
        limits = httpx.Limits()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=_Network(resolver, policy))


def client(resolver: Resolver, policy: TargetPolicy, *, timeout: float | httpx.Timeout,
           follow_redirects: bool) -> httpx.AsyncClient:
    """An httpx client whose connections look their hosts up with ``resolver`` and go only
    where ``policy`` allows: each request (every redirect included) is checked on its path,
    each connection on its address; TargetRefused otherwise."""

    async def check_path(request: httpx.Request) -> None:
        problem = policy.path_refusal(request.url.raw_path.decode("ascii").partition("?")[0])
        if problem is not None:
            raise TargetRefused(problem)

    return httpx.AsyncClient(transport=_Transport(resolver, policy), timeout=timeout,
                             follow_redirects=follow_redirects,
                             event_hooks={"request": [check_path]})
