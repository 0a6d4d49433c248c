"""What the dashboard does beyond showing: signing in and out, and loading a shipped fault
profile, the one write the admin API has no endpoint for. Every other write is an admin API
call (``access.ApiBridge``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from runware_mock.admin.api import PREFIX
from runware_mock.admin.inspected import FaultControl
from runware_mock.admin.ui import access
from runware_mock.contract.errors import error
from runware_mock.faults import FaultSpecError, load_profile
from runware_mock.fixtures import faults_dir
from runware_mock.protocol.jsoncodec import JSONResponse

# Fields of a rule's JSON that are its state, not what it says: left out when a shipped
# profile's rules are added again through the API.
_RULE_STATE = ("id", "source", "scope", "matched", "fired")


async def login(request: Request) -> Response:
    settings = request.app.state.services.settings
    try:
        body = await request.json()
    except ValueError:
        body = None
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not access.token_matches(token, settings.admin_token):
        return access.denied()
    response = JSONResponse({"signedIn": True})
    # Secure when the page itself is on https (behind a TLS proxy the server sees http).
    page_origin = request.headers.get("origin", str(request.base_url))
    access.remember(response, token, secure=page_origin.startswith("https:"))
    return response


async def logout(request: Request) -> Response:
    response = JSONResponse({"signedIn": False})
    access.forget(response)
    return response


def shipped_profiles() -> list[str]:
    return sorted(path.stem for path in faults_dir().glob("*.*")
                  if path.suffix in (".toml", ".json"))


async def load_shipped_profile(request: Request) -> Response:
    """Add a shipped profile's rules as admin rules, each checked as ``POST /faults`` checks
    one. (``--faults`` loads a profile at start; the admin API adds rules one by one.)"""
    if not access.authorized(request):
        return access.denied()
    services: FaultControl = request.app.state.services
    try:
        body = await request.json()
    except ValueError:
        body = None
    name = body.get("profile") if isinstance(body, dict) else None
    if name not in shipped_profiles():
        problem_text = f"profile must be one of {', '.join(shipped_profiles())}, got {name!r}."
        return _api_problem("profile", problem_text)
    added = []
    for rule in load_profile(str(name)):
        spec = {key: value for key, value in rule.to_json().items() if key not in _RULE_STATE}
        try:
            added.append(services.faults.add(spec).to_json())
        except FaultSpecError as exc:
            return _api_problem(exc.parameter, str(exc))
    return JSONResponse({"profile": name, "added": added}, status_code=201)


def _api_problem(parameter: str, message: str) -> JSONResponse:
    problem = error("invalidAdminRequest", message, parameter=parameter,
                    documentation=f"{PREFIX}/openapi.json")
    return JSONResponse({"errors": [problem.to_json()]}, status_code=problem.status)
