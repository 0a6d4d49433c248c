"""Uploading a media input for later tasks (``imageUpload``, ``mediaStorage``): stored, or
refused with the reason (``invalidValueUploadFailed``)."""

from __future__ import annotations

from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.media.facade import Media, MediaInputError, Upload


async def uploaded(media: Media, spec: str, parameter: str) -> Upload:
    """``spec`` (a URL, a data URI, base64) stored as an upload of its owner."""
    try:
        return await media.upload(spec, parameter)
    except MediaInputError as exc:
        raise ApiRefusal(error("invalidValueUploadFailed", str(exc),
                               parameter=exc.parameter)) from exc
