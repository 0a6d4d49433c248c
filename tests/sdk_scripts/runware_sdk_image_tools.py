"""The image tools through PyPI ``runware-sdk`` 1.8.x, run by tests/test_sdk_image_tools.py in
its own venv: ``run()`` (async delivery, polled: its default) of removeBackground, vectorize,
controlNetPreprocess and imageMasking in their modern form, as its task map types them (model
and ``inputs.image``; masking's ``settings``), the image sent inline. Prints one JSON line:
``{"event": "done", ...}``.
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
    image = file_to_data_uri(args.image)
    async with client:
        removed = await client.run({"taskType": "removeBackground", "model": "runware:109@1",
                                    "inputs": {"image": image}, "outputFormat": "PNG",
                                    "includeCost": True})
        vectorized = await client.run({"taskType": "vectorize", "model": "recraft:v4@vector",
                                       "inputs": {"image": image}, "includeCost": True})
        guide = await client.run({"taskType": "controlNetPreprocess",
                                  "model": "runware:controlnet-preprocess@canny",
                                  "inputs": {"image": image}})
        masked = await client.run({"taskType": "imageMasking", "model": "runware:35@4",
                                   "inputs": {"image": image},
                                   "settings": {"confidence": 0.25, "maskBlur": 0}})
    print(json.dumps({"event": "done", "removed": removed, "vectorized": vectorized,
                      "guide": guide, "masked": masked}), flush=True)


if __name__ == "__main__":
    parser = runware_sdk_parser()
    parser.add_argument("--image", required=True)
    asyncio.run(main(parser.parse_args()))
