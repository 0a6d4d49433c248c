"""3D, video upscale, video caption, training and FFmpeg (``tools``) through PyPI
``runware-sdk`` 1.8.x's ``run()``, run by tests/test_sdk_media_tasks.py in its own venv
(runware-sdk has no photoMaker: not a 1.8 task type). Each is async, ``run()``'s default for
these task types: the SDK polls getResponse itself. Inputs are sent inline
(``file_to_data_uri``), as the SDK's README sends local files; the training's dataset is a ZIP
of pictures; the FFmpeg task (runware-surface.md §2.13) transcodes the clip to WebM. Prints one
JSON line: ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from runware import Runware, file_to_data_uri
from sdk_flags import runware_sdk_parser


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, transport=args.transport, ws_base_url=args.ws_url,
                     http_base_url=args.http_url)
    video = file_to_data_uri(args.video)
    async with client:
        model = await client.run({"taskType": "3dInference", "model": "microsoft:trellis-2@4b",
                                  "inputs": {"image": file_to_data_uri(args.image)},
                                  "outputFormat": "GLB"})
        upscaled = await client.run({"taskType": "upscale", "model": "bytedance:50@1",
                                     "inputs": {"video": video}, "upscaleFactor": 2,
                                     "outputFormat": "MP4"})
        caption = await client.run({"taskType": "caption", "model": "memories:1@1",
                                    "inputs": {"video": video}})
        trained = await client.run({"taskType": "training",
                                    "model": "runware:illustrative@training",
                                    "inputs": {"dataset": file_to_data_uri(args.dataset)}})
        transcoded = await client.run({"taskType": "tools", "model": "runware:ffmpeg@0",
                                       "inputs": {"video": video}, "outputFormat": "webm"})
    print(json.dumps({"event": "done", "model": model, "upscaled": upscaled,
                      "caption": caption, "trained": trained, "transcoded": transcoded}),
          flush=True)


if __name__ == "__main__":
    parser = runware_sdk_parser()
    parser.add_argument("--image", required=True)
    parser.add_argument("--video", required=True)
    parser.add_argument("--dataset", required=True)
    asyncio.run(main(parser.parse_args()))
