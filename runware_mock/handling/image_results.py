"""What the image task types share: how a made image becomes a result's fields (per
``outputType``), and the image inputs a task names, fetched and checked.

Every image is published (``/image/<uuid>.<ext>``, kept for the task's ttl) whatever the
``outputType``: the ``imageUUID`` names it, and an ``uploadEndpoint`` is sent its bytes. Its
file is made when first downloaded (``--renders lazy``), unless the result carries its bytes.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from runware_mock.contract.request_types import (
    ControlNetPreprocessRequest,
    ImageInferenceRequest,
    ImageMaskingRequest,
    PhotoMakerRequest,
    RemoveBackgroundRequest,
    UpscaleRequest,
    VectorizeRequest,
)
from runware_mock.engine.lifecycle import Expiry
from runware_mock.handling.input_failures import inputs_fail_the_task
from runware_mock.handling.task_type import bytes_needed_now
from runware_mock.media.facade import Media
from runware_mock.media.file_store import CONTENT_TYPES, Maker
from runware_mock.media.probe import ImageInfo

# The requests whose results are images.
ImageRequest = ImageInferenceRequest | UpscaleRequest | PhotoMakerRequest
# The image tools' requests (handling/image_tools.py).
ImageRequest |= (RemoveBackgroundRequest | VectorizeRequest | ControlNetPreprocessRequest
                 | ImageMaskingRequest)


def output_types(request: ImageRequest) -> list[str]:
    """``outputType`` as a list: runware 0.5 may send several, and gets each."""
    asked = request.get("outputType", "URL")
    return [asked] if isinstance(asked, str) else list(asked)


async def image_fields(media: Media, request: ImageRequest, index: int, extension: str,
                       expiry: Expiry, make: Maker, prefix: str = "image",
                       ) -> tuple[dict[str, Any], str]:
    """The result's ``imageUUID`` and one key per asked ``outputType``; and the UUID. The
    image (drawn by ``make``) is made now when its bytes are in the result, else when first
    needed (``Media.publish_result``). ``prefix`` names the keys: ``guideImage`` gives
    ``guideImageUUID``, ``guideImageURL``..."""
    image = await media.publish_result("image", request["taskUUID"], index, extension, expiry,
                                       make, needed_now=bytes_needed_now(request))
    fields: dict[str, Any] = {f"{prefix}UUID": image.uuid}
    asked = output_types(request)
    if "URL" in asked:
        fields[f"{prefix}URL"] = image.url
    if image.path is not None and ("base64Data" in asked or "dataURI" in asked):
        data = base64.b64encode(await asyncio.to_thread(image.path.read_bytes)).decode("ascii")
        if "base64Data" in asked:
            fields[f"{prefix}Base64Data"] = data
        if "dataURI" in asked:
            fields[f"{prefix}DataURI"] = f"data:{CONTENT_TYPES[extension]};base64,{data}"
    return fields, image.uuid


async def image_input(media: Media, parameter: str, spec: str) -> tuple[Path, ImageInfo]:
    """The input on disk and measured, or the task fails with the reason."""
    with inputs_fail_the_task():
        return await media.image_input(parameter, spec)
