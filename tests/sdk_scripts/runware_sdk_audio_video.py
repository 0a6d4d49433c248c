"""Audio and a PixVerse video through PyPI ``runware-sdk`` 1.8.x, run by
tests/test_sdk_audio_video.py in its own venv.

Speaks a text (``run()``: async delivery, the SDK's default), speaks it again with
``deliveryMethod: sync``, makes a music clip, then a ``pixverse:1@5`` video, then a video task
with a duration PixVerse does not take. Prints one JSON line: ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from runware import Runware, RunwareError
from sdk_flags import runware_sdk_parser

SPEECH = {"taskType": "audioInference", "model": "inworld:tts@1.5-max", "includeCost": True,
          "speech": {"text": "Hello from the official Python SDK.", "voice": "Dennis"}}
VIDEO = {"taskType": "videoInference", "model": "pixverse:1@5", "duration": 5, "width": 360,
         "height": 640, "includeCost": True,
         "positivePrompt": "smooth camera pan across a mountain landscape"}


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, transport=args.transport, ws_base_url=args.ws_url,
                     http_base_url=args.http_url)
    async with client:
        speech = await client.run(dict(SPEECH))
        sync = await client.run({**SPEECH, "deliveryMethod": "sync", "outputFormat": "WAV"})
        music = await client.run({"taskType": "audioInference", "model": "minimax:music@2.6",
                                  "positivePrompt": "calm piano", "duration": 10,
                                  "outputType": "base64Data"})
        videos = await client.run(dict(VIDEO))
        try:
            await client.run({**VIDEO, "duration": 6})
            invalid: dict[str, Any] = {"raised": None}
        except RunwareError as exc:
            invalid = {"raised": type(exc).__name__, "code": exc.code,
                       "parameter": exc.parameter, "message": exc.message}
    print(json.dumps({"event": "done", "speech": [dict(item) for item in speech],
                      "sync": [dict(item) for item in sync],
                      "music": [dict(item) for item in music],
                      "videos": [dict(item) for item in videos], "invalid": invalid}),
          flush=True)


if __name__ == "__main__":
    parser = runware_sdk_parser()
    asyncio.run(main(parser.parse_args()))
