"""Keep web pages away from the admin API: it resets the emulator and shows the journal (API
keys included), and a page open in the user's browser can reach 127.0.0.1.

Three checks, in front of every admin route:

- ``Host`` must name this server: a loopback name (``localhost``, ``*.localhost``), an IP
  address, ``--host`` or ``--public-url``'s host. A page on a rebound DNS name
  (``attacker.example`` resolving to 127.0.0.1) sends its own name, and is refused.
- A browser's cross-site request is refused: ``Sec-Fetch-Site`` of ``cross-site`` or
  ``same-site``, or an ``Origin`` that is not this server (``null`` included).
- A write with a body must be ``application/json``: a form or ``text/plain`` post, which a
  page may send anywhere without asking, is refused.

Clients that are not browsers (curl, the admin client, tests) send none of these headers but
``Host``, and pass.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from runware_mock.contract.errors import ApiError, error
from runware_mock.protocol.jsoncodec import JSONResponse
from runware_mock.settings import Settings

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_ALLOWED_SITES = {"same-origin", "none"}
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class AdminGuard:
    """ASGI middleware around the admin routes."""

    def __init__(self, app: ASGIApp, documentation: str) -> None:
        self.app = app
        self._documentation = documentation

    @property
    def routes(self) -> list[Any]:
        """The guarded router's routes, so the mount still lists them."""
        return list(getattr(self.app, "routes", []))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            settings: Settings = scope["app"].state.services.settings
            problem = refusal(scope, settings)
            if problem is not None:
                problem = dataclasses.replace(problem, documentation=self._documentation)
                response = JSONResponse({"errors": [problem.to_json()]},
                                        status_code=problem.status)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def refusal(scope: Scope, settings: Settings) -> ApiError | None:
    headers = {name.decode("latin-1"): value.decode("latin-1")
               for name, value in scope["headers"]}
    host = headers.get("host")
    if host is not None and not _our_host(_hostname(host), settings):
        return error("invalidAdminHost", f"The admin API does not answer for host "
                     f"{host[:100]!r}: use localhost, an IP address, --host or --public-url's "
                     "host (a page on another name could be a DNS-rebinding attack).",
                     parameter="Host")
    site = headers.get("sec-fetch-site")
    origin = headers.get("origin")
    if (site is not None and site not in _ALLOWED_SITES) or (
            origin is not None and not _same_origin(origin, host, settings)):
        return error("crossSiteAdminRequest", "The admin API refuses requests a browser sends "
                     "from another site (Origin or Sec-Fetch-Site).", parameter="Origin")
    content_type = headers.get("content-type")
    if scope["method"] in _WRITES and content_type is not None and \
            content_type.split(";", 1)[0].strip().lower() != "application/json":
        return error("unsupportedAdminContentType", f"Admin writes take application/json, "
                     f"not {content_type[:100]!r}.", parameter="Content-Type")
    return None


def _hostname(netloc: str) -> str:
    try:
        host = urlsplit(f"//{netloc}").hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


def _port(netloc: str, default: int | None) -> int | None:
    try:
        return urlsplit(f"//{netloc}").port or default
    except ValueError:
        return None


def _our_host(host: str, settings: Settings) -> bool:
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True  # an address is never a rebound name
    public = urlsplit(settings.base_url).hostname or ""
    return host in (settings.host.lower().rstrip("."), public.lower().rstrip("."))


def _same_origin(origin: str, host: str | None, settings: Settings) -> bool:
    """The page's origin is this server: a name of ours, on the port the request came to."""
    try:
        parts = urlsplit(origin)
        default = {"http": 80, "https": 443}.get(parts.scheme.lower())
        origin_port = parts.port or default
    except ValueError:
        return False
    if not parts.hostname or not _our_host(parts.hostname.lower().rstrip("."), settings):
        return False
    return host is not None and origin_port == _port(host, default)
