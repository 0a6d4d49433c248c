"""model_upload, get_task_details and account_management through PyPI ``runware-sdk`` 1.8.x,
run by tests/test_platform_sdks.py in its own venv: the README's utility calls as written, the
upload's "model file details" filled in from runware 0.5.24's README example, and the task
looked up the upload's own. Only the URLs and the key are set. Prints one JSON line,
``{"event": "done", ...}``.
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
    print(json.dumps({"event": "done", "uploaded": [dict(item) for item in uploaded],
                      "archived": [dict(item) for item in archived],
                      "account": [dict(item) for item in account]}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(runware_sdk_parser().parse_args()))
