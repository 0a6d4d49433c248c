"""model_upload, get_task_details, account_management, media_storage (upload, delete),
image_upload and get_response through PyPI ``runware-sdk`` 1.8.x, run by
tests/test_platform_sdks.py in its own venv: the README's utility calls as written, the upload's
"model file details" filled in from runware 0.5.24's README example, the task looked up the
upload's own (and polled with get_response once finished), and image_upload, which the README
names deprecated, with its one parameter. Only the URLs and the key are set. Prints one JSON
line, ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from runware import Runware
from sdk_flags import runware_sdk_parser

MODEL_FILE = {
    "air": "qatests:68487@08629", "name": "yWO8IaKwez", "version": "1.0", "type": "base",
    "downloadURL": "https://repo-controlnets-r2.runware.ai/controlnet-zoe-depth-sdxl-1.0"
                   ".safetensors/controlnet-zoe-depth-sdxl-1.0.safetensors.part-001-1",
    "uniqueIdentifier": "aq2w3e4r5t6y7u8i9o0p1q2w3e4r5t6y7u8i9o0p1q2w3e4r5t6y7u8i9o0p1234",
}


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, transport=args.transport, ws_base_url=args.ws_url,
                     http_base_url=args.http_url)
    async with client:
        # Upload a custom model
        uploaded = await client.model_upload({
            "category": "checkpoint",
            "architecture": "sdxl",
            "format": "safetensors",
            **MODEL_FILE,
        })
        # Retrieve a previously executed task
        archived = await client.get_task_details({"taskUUID": uploaded[0]["taskUUID"]})
        account = await client.account_management({"operation": "getDetails"})
        # Store media (images, video, audio, 3D models) for reuse as input. Returns a mediaUUID.
        stored = await client.media_storage({
            "operation": "upload",
            "media": "https://example.com/photo.jpg",  # URL, Data URI, or Base64
        })
        # Delete stored media by its mediaUUID
        deleted = await client.media_storage({"operation": "delete",
                                              "media": stored[0]["mediaUUID"]})
        # The deprecated, image-only image_upload (its params: the image).
        image = await client.image_upload({"image": "https://example.com/photo.jpg"})
        # Poll for an async task result (the model upload's, finished by now)
        result = await client.get_response({"taskUUID": uploaded[0]["taskUUID"]})
    print(json.dumps({"event": "done", "uploaded": [dict(item) for item in uploaded],
                      "stored": stored, "deleted": deleted, "image": image, "result": result,
                      "archived": [dict(item) for item in archived],
                      "account": [dict(item) for item in account]}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(runware_sdk_parser().parse_args()))
