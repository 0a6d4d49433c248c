"""Who may see the dashboard, and how its writes reach the admin API.

With ``--admin-token`` set, a page asks for the token once and keeps it in a cookie: HttpOnly
(no script reads it), SameSite=Strict (no other site's page sends it), scoped to the
dashboard's own path, which the browser derives from the login URL, so it works behind a
``--public-url`` with a path. The admin guard in front of the dashboard refuses cross-site
requests and any write that is not JSON, so a page elsewhere can neither read nor drive it.

The dashboard changes nothing itself: every write is an admin API call made through
``ApiBridge``, which hands the request to the admin API as if it had come with the token in
its ``Authorization`` header. The form errors are the API's, word for word.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from runware_mock.admin.api import PREFIX
from runware_mock.contract.errors import error
from runware_mock.protocol.jsoncodec import JSONResponse

UI_PREFIX = f"{PREFIX}/ui"
COOKIE = "runware_mock_admin"
# How long the browser keeps the token: a working day.
COOKIE_SECONDS = 12 * 3600
_CREDENTIAL_HEADERS = {b"authorization", b"x-admin-token", b"cookie"}


def given_token(headers: Any) -> str:
    """The token a request carries: ``Authorization: Bearer``, ``X-Admin-Token`` or the
    dashboard's cookie."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return str(credentials.strip())
    if headers.get("x-admin-token"):
        return str(headers["x-admin-token"])
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no token
        return ""
    morsel = cookie.get(COOKIE)
    return morsel.value if morsel is not None else ""


def token_matches(given: str, token: str) -> bool:
    return not token or hmac.compare_digest(given.encode(), token.encode())


def authorized(request: Request) -> bool:
    return token_matches(given_token(request.headers),
                         request.app.state.services.settings.admin_token)


def denied() -> JSONResponse:
    problem = error("invalidAdminToken", "The dashboard needs the token set with "
                    "--admin-token: sign in on its page, or send 'Authorization: Bearer "
                    "<token>'.", documentation=f"{PREFIX}/openapi.json")
    return JSONResponse({"errors": [problem.to_json()]}, status_code=problem.status,
                        headers={"WWW-Authenticate": "Bearer"})


def remember(response: JSONResponse, token: str, secure: bool) -> None:
    # No path: the browser scopes the cookie to the login URL's folder, the dashboard's.
    response.set_cookie(COOKIE, token, max_age=COOKIE_SECONDS, httponly=True,
                        samesite="strict", secure=secure, path=None)  # type: ignore[arg-type]


def forget(response: JSONResponse) -> None:
    response.set_cookie(COOKIE, "", max_age=0, httponly=True, samesite="strict",
                        path=None)  # type: ignore[arg-type]


class ApiBridge:
    """``/__admin/ui/api/X`` is ``/__admin/X`` for a signed-in dashboard: the request goes
    through the whole app again (guard, routing, validation), with the token as a header."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if scope["type"] != "http" or not authorized(request):
            await denied()(scope, receive, send)
            return
        token: str = scope["app"].state.services.settings.admin_token
        mounted = scope.get("root_path", "")
        rest = scope["path"][len(mounted):] if scope["path"].startswith(mounted) \
            else scope["path"]
        root = mounted.removesuffix(f"{UI_PREFIX}/api")
        headers = [(name, value) for name, value in scope["headers"]
                   if name not in _CREDENTIAL_HEADERS]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        path = f"{root}{PREFIX}{rest}"
        forwarded = {**scope, "path": path, "raw_path": path.encode(), "root_path": root,
                     "headers": headers}
        forwarded.pop("router", None)
        forwarded.pop("endpoint", None)
        forwarded.pop("path_params", None)
        await scope["app"](forwarded, receive, send)
