"""Keep web pages of other sites away from ``/v1``, as ``admin.guard`` keeps them from the admin
API: a page open in the user's browser can reach 127.0.0.1, and a ``text/plain`` POST or a
WebSocket needs no permission (no CORS preflight) to submit tasks with the user's emulator.

A browser names the page's site in ``Origin`` (on every POST and WebSocket handshake) and in
``Sec-Fetch-Site``. A request is refused when its ``Origin`` is a host other than this
server's (a loopback name or address, ``--host`` or ``--public-url``'s host; any port, so a
local app on another port may still use the WebSocket), or ``null``; or, without ``Origin``,
when ``Sec-Fetch-Site`` says ``cross-site``. The ``Host`` a request names does not count: a
page on a DNS-rebound name sends that name in both.
Clients that are not browsers (the SDKs, curl, tests) send neither header, and pass.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from runware_mock.contract.errors import ApiError, error
from runware_mock.media.targets import is_loopback_bind, plain
from runware_mock.settings import Settings


def cross_site_refusal(origin: str | None, fetch_site: str | None,
                       settings: Settings) -> ApiError | None:
    """Why a request with these headers is a web page of another site's, or None."""
    if origin is not None:
        if _ours(_hostname(origin), settings):
            return None
    elif fetch_site is None or fetch_site.strip().lower() != "cross-site":
        return None
    return error("crossSiteRequest", "The emulator's API refuses requests a browser sends "
                 "from a page of another site (Origin or Sec-Fetch-Site): a web page could "
                 "otherwise submit tasks with it.", parameter="Origin")


def _ours(name: str, settings: Settings) -> bool:
    if not name:
        return False
    if is_loopback_bind(name):
        return True
    address = plain(name)
    if address is not None and address.is_unspecified:
        return False
    return name in {settings.host.lower().rstrip("."), _hostname(settings.base_url)} - {""}


def _hostname(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")
