"""The whole offline pipeline through PyPI ``runware-sdk`` 1.8.x over WebSocket, run by
tests/test_pipeline.py in its own venv: a voice (audioInference), an enhanced prompt
(promptEnhance), a portrait from it (imageInference), the portrait upscaled (upscale), then an
avatar video made from the upscaled portrait and the voice, every task with ``includeCost``.

Each step hands the next the UUID or URL the emulator returned; no file leaves the emulator.
Prints one JSON line: ``{"event": "done", ...}`` with every step's result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from runware import Runware

AVATAR = "klingai:avatar@2.0-standard"


async def only(client: Runware, task: dict[str, Any]) -> dict[str, Any]:
    (result,) = await client.run({**task, "includeCost": True})
    return dict(result)


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, transport="websocket", ws_base_url=args.ws_url,
                     http_base_url=args.http_url)
    async with client:
        voice = await only(client, {
            "taskType": "audioInference", "model": "inworld:tts@1.5-max",
            "speech": {"text": args.text, "voice": "Dennis"}})
        prompt = await only(client, {
            "taskType": "promptEnhance", "prompt": "a friendly museum guide, head and shoulders",
            "promptMaxLength": 300, "promptVersions": 1})
        portrait = await only(client, {
            "taskType": "imageInference", "model": "runware:400@2",
            "positivePrompt": prompt["text"], "width": 512, "height": 640})
        upscaled = await only(client, {
            "taskType": "upscale", "model": "runware:504@1", "upscaleFactor": 2,
            "inputs": {"image": portrait["imageUUID"]}})
        avatar = await only(client, {
            "taskType": "videoInference", "model": AVATAR, "positivePrompt": prompt["text"],
            "inputs": {"image": upscaled["imageURL"], "audio": voice["audioUUID"]}})
    print(json.dumps({"event": "done", "voice": voice, "prompt": prompt, "portrait": portrait,
                      "upscaled": upscaled, "avatar": avatar}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--http-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--text", required=True)
    asyncio.run(main(parser.parse_args()))
