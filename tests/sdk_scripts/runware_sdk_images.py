"""Images through PyPI ``runware-sdk`` 1.8.x, run by tests/test_sdk_images.py in its own venv.

The calls of runware-sdk's own smoke test (tests/integration/test_smoke.py): one and two images
async (``run()``'s default), one image sync, an empty prompt (a typed validation error); then an
upscale of the given image sent inline. Prints one JSON line: ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from runware import Runware, RunwareError, file_to_data_uri
from sdk_flags import runware_sdk_parser

IMAGE_PARAMS = {"taskType": "imageInference", "model": "runware:400@2",
                "positivePrompt": "A serene mountain lake", "width": 1024, "height": 1024}


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, transport=args.transport, ws_base_url=args.ws_url,
                     http_base_url=args.http_url)
    async with client:
        one = await client.run(dict(IMAGE_PARAMS))
        two = await client.run({**IMAGE_PARAMS, "numberResults": 2})
        sync = await client.run({**IMAGE_PARAMS, "deliveryMethod": "sync"})
        try:
            await client.run({**IMAGE_PARAMS, "positivePrompt": ""})
            invalid: dict[str, Any] = {"raised": None}
        except RunwareError as exc:
            invalid = {"raised": type(exc).__name__, "code": exc.code,
                       "parameter": exc.parameter}
        upscaled = await client.run({"taskType": "upscale", "model": "runware:500@1",
                                     "inputs": {"image": file_to_data_uri(args.image)},
                                     "upscaleFactor": 2, "includeCost": True})
    print(json.dumps({"event": "done", "one": one, "two": two, "sync": sync,
                      "invalid": invalid, "upscaled": upscaled}), flush=True)


if __name__ == "__main__":
    parser = runware_sdk_parser()
    parser.add_argument("--image", required=True)
    asyncio.run(main(parser.parse_args()))
