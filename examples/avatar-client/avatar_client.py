"""A small Runware client for KlingAI Avatar 2.0: a portrait and a voice track in, videos out.

    client = AvatarClient(api_key)                    # https://api.runware.ai/v1
    task_uuid = client.submit(portrait_url, voice_url, prompt="A friendly host")
    videos = client.wait(task_uuid)
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

MODEL = "klingai:avatar@2.0-standard"


class RunwareError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.parameter = error.get("parameter")


@dataclass(frozen=True)
class Video:
    url: str
    video_uuid: str
    seed: int
    cost: float | None


@dataclass(frozen=True)
class Poll:
    videos: list[Video]
    processing: int


def parse_reply(body: dict[str, Any]) -> Poll:
    """A getResponse reply or a webhook body; a failed generation raises RunwareError."""
    if body.get("errors"):
        raise RunwareError(body["errors"][0])
    items = body.get("data", [])
    videos = [Video(item["videoURL"], item["videoUUID"], item["seed"], item.get("cost"))
              for item in items if item.get("status") == "success"]
    return Poll(videos, sum(item.get("status") == "processing" for item in items))


class AvatarClient:
    def __init__(self, api_key: str, url: str = "https://api.runware.ai/v1",
                 poll_interval: float = 5.0) -> None:
        self.url = url
        self.poll_interval = poll_interval
        self.http = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {api_key}"})

    def build_task(self, image: str, audio: str, prompt: str | None = None,
                   results: int = 1, include_cost: bool = False,
                   webhook_url: str | None = None, upload_endpoint: str | None = None,
                   ) -> dict[str, Any]:
        optional = {"positivePrompt": prompt, "webhookURL": webhook_url,
                    "uploadEndpoint": upload_endpoint}
        return {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": MODEL,
                "numberResults": results, "includeCost": include_cost,
                "inputs": {"image": image, "audio": audio},
                **{key: value for key, value in optional.items() if value is not None}}

    def send(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        body = self.http.post(self.url, json=[task]).json()
        if body.get("errors"):
            raise RunwareError(body["errors"][0])
        return list(body["data"])

    def submit(self, image: str, audio: str, prompt: str | None = None, **options: Any) -> str:
        task = self.build_task(image, audio, prompt, **options)
        self.send(task)
        return str(task["taskUUID"])

    def wait(self, task_uuid: str, timeout: float = 900.0) -> list[Video]:
        deadline = time.monotonic() + timeout
        while True:
            reply = self.http.post(self.url, json=[{"taskType": "getResponse",
                                                    "taskUUID": task_uuid}])
            poll = parse_reply(reply.json())
            if poll.processing == 0:
                return poll.videos
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_uuid} still processing after {timeout} s")
            time.sleep(self.poll_interval)
