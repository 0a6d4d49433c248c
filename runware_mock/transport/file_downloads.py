"""Serving rendered videos and uploaded media: GET and HEAD, byte ranges, expiry after ttl.

A task's output not made yet (``--renders lazy``) is made by its first GET or HEAD, which
waits for it; a download the render queue cannot take now is answered 503 with Retry-After."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from runware_mock.contract.errors import error
from runware_mock.engine.clock import Clock
from runware_mock.media.facade import Media
from runware_mock.media.ondemand import RenderRefused
from runware_mock.protocol.jsoncodec import JSONResponse
from runware_mock.store.database import Database
from runware_mock.store.health import RETRY_AFTER, StoreHealth, disk_trouble, refusal


class FileServices(Protocol):
    """What serving a file reads of the app's services."""

    media: Media
    clock: Clock
    database: Database


async def serve_file(request: Request) -> Response:
    services: FileServices = request.app.state.services
    kind = request.path_params["kind"]
    item_uuid, _, _ = request.path_params["name"].partition(".")
    try:
        served = await services.media.file(kind, item_uuid, services.clock.now())
    except RenderRefused as refused:
        problem = error(refused.code, str(refused))
        return JSONResponse({"errors": [problem.to_json()]}, status_code=503,
                            headers={"Retry-After": str(refused.retry_after)})
    except Exception as exc:
        if not disk_trouble(exc):
            raise
        # The file could not be made for lack of room: made by a retry once there is some.
        return unwritable_response(services.database.health, exc)
    if served is None or not served.path.exists():
        problem = error("mediaNotFound", f"No {kind} at this URL (never made, deleted, or its "
                        "ttl has passed).")
        return JSONResponse({"errors": [problem.to_json()]}, status_code=404)
    # FileResponse answers HEAD and Range requests (206, 416) itself.
    return FileResponse(served.path, media_type=served.content_type, filename=served.filename,
                        content_disposition_type="inline")


def unwritable_response(health: StoreHealth, exc: BaseException) -> Response:
    """The 503 of a request that needed a write the data dir cannot take now."""
    return JSONResponse({"errors": [refusal(health, exc).to_json()]}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER)})
