"""modelUpload and getTaskDetails through PyPI ``runware`` 0.5.x, run by
tests/test_platform_sdks.py in its own venv: the README's "Model Upload" (checkpoint) and
"Retrieving Original Task Request/Response" examples as written, but for the URL and key (and
the taskUUID looked up: the upload's own). Prints one JSON line, ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from runware import IUploadModelCheckPoint, Runware


def public(value: Any) -> Any:
    return value if isinstance(value, dict) else {
        key: item for key, item in vars(value).items() if item is not None}


async def main(args: argparse.Namespace) -> None:
    runware = Runware(api_key=args.api_key, url=args.ws_url)
    await runware.connect()

    payload = IUploadModelCheckPoint(
        air='qatests:68487@08629',
        name='yWO8IaKwez',
        heroImageURL='https://raw.githubusercontent.com/adilentiq/test-images/refs/heads/main/image.jpg',
        downloadURL='https://repo-controlnets-r2.runware.ai/controlnet-zoe-depth-sdxl-1.0.safetensors'
                    '/controlnet-zoe-depth-sdxl-1.0.safetensors.part-001-1',
        uniqueIdentifier='aq2w3e4r5t6y7u8i9o0p1q2w3e4r5t6y7u8i9o0p1q2w3e4r5t6y7u8i9o0p1234',
        version='1.0',
        tags=['tag1', 'tag2', 'tag2'],
        architecture='flux1d',
        type='base',
        defaultWeight=0.8,
        format='safetensors',
        positiveTriggerWords='my trigger word',
        shortDescription='a model description',
        private=False,
        defaultScheduler='Default',
        comment='some comments if you want to add for internal use',
    )

    uploaded = await runware.modelUpload(payload)
    details = await runware.getTaskDetails(taskUUID=uploaded[0]["taskUUID"])
    await runware.disconnect()
    print(json.dumps(default=lambda enum: getattr(enum, "value", str(enum)), obj={
        "event": "done", "uploaded": uploaded,
        "details": {"taskType": details.taskType, "taskUUID": details.taskUUID,
                    "request": [public(item) for item in details.request],
                    "response": [public(item) for item in details.response]}}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-key", required=True)
    asyncio.run(main(parser.parse_args()))
