"""An avatar job through PyPI ``runware-sdk`` 1.8.x, run by tests/test_sdks.py in its own venv.

Uploads the portrait and the voice with ``media_storage``, runs the avatar task, then a task
with an unknown model. Prints JSON lines; the last one, ``{"event": "done", ...}``, has the
results. With ``--pause`` it prints ``{"event": "uploaded"}`` and waits for a line on stdin
before submitting, so the test can break the connection at a chosen moment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from runware import Runware, RunwareError, file_to_data_uri
from sdk_flags import runware_sdk_parser

MODEL = "klingai:avatar@2.0-standard"


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class Evidence:
    """What the SDK's own debug log shows: the session each authentication asked to resume
    (None on a first connect), and the conflictTaskUUID replies it received."""

    def __init__(self) -> None:
        self.resumes: list[str | None] = []
        self.conflicts = 0

    def sink(self, entry: Any) -> None:
        if entry.category not in ("auth", "receive"):
            return
        try:
            message = json.loads(entry.message)
        except ValueError:
            return
        if entry.category == "auth":
            self.resumes.append(message[0].get("connectionSessionUUID"))
        else:
            self.conflicts += sum(1 for error in message.get("errors") or []
                                  if error.get("code") == "conflictTaskUUID")


async def upload(client: Runware, path: str) -> dict[str, Any]:
    results = await client.media_storage({"operation": "upload", "media": file_to_data_uri(path)})
    return dict(results[0])


async def main(args: argparse.Namespace) -> None:
    evidence = Evidence()
    client = Runware(api_key=args.api_key, transport=args.transport, ws_base_url=args.ws_url,
                     http_base_url=args.http_url, debug=True, log_sink=evidence.sink)
    async with client:
        image = await upload(client, args.image)
        audio = await upload(client, args.audio)
        if args.pause:
            emit("uploaded")
            await asyncio.to_thread(sys.stdin.readline)
        inputs = {"image": image["mediaUUID"], "audio": audio["mediaUUID"]}
        videos = await client.run({"taskType": "videoInference", "taskUUID": args.task_uuid,
                                   "model": MODEL, "positivePrompt": "A calm talking head.",
                                   "includeCost": True, "inputs": inputs})
        try:
            await client.run({"taskType": "videoInference", "model": "nonexistent:999@999",
                              "inputs": inputs})
            invalid: dict[str, Any] = {"raised": None}
        except RunwareError as exc:
            invalid = {"raised": type(exc).__name__, "code": exc.code,
                       "parameter": exc.parameter, "message": exc.message}
    emit("done", uploads={"image": image, "audio": audio}, videos=[dict(v) for v in videos],
         invalid_model=invalid, resumes=evidence.resumes, conflicts=evidence.conflicts)


if __name__ == "__main__":
    parser = runware_sdk_parser()
    parser.add_argument("--image", required=True)
    parser.add_argument("--audio", required=True)
    parser.add_argument("--task-uuid", required=True)
    parser.add_argument("--pause", action="store_true")
    asyncio.run(main(parser.parse_args()))
