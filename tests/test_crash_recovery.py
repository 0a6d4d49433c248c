"""An emulator killed with SIGKILL at random moments under load, and started again on the same
data dir each time, as a user's CI runner or laptop does to it: every acknowledged task ends in
one terminal state with the result it had reported before any kill, every upload still works
as an input, and every webhook and upload arrives at least once (README: where duplicates can
happen)."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from runware_mock.contract.receivers import Receiver
from runware_mock.fixtures import media_path
from tests.helpers import PORTRAIT, VOICE, raw_base64
from tests.server_process import ServerProcess

SEED = 20261125
TASKS = 200
KILLS = 4


def build_tasks(rng: random.Random, media: dict[str, str], hook: str,
                uploads: str) -> list[dict[str, Any]]:
    """Six task types in a seeded mix; about half with a webhook, a few with an upload."""
    def common(task_type: str, **fields: Any) -> dict[str, Any]:
        task = {"taskType": task_type, "taskUUID": str(uuid.uuid4()), **fields}
        if rng.random() < 0.5:
            task["webhookURL"] = f"{hook}/{task['taskUUID']}"
        return task

    def avatar() -> dict[str, Any]:
        task = common("videoInference", model="klingai:avatar@2.0-standard",
                      inputs={"image": media["image"], "audio": media["audio"]})
        if rng.random() < 0.15:
            task["uploadEndpoint"] = f"{uploads}/{task['taskUUID']}"
        return task

    makers = [
        avatar,
        lambda: common("imageInference", model="runware:400@2", positivePrompt="a harbour",
                       width=512, height=512, deliveryMethod="async",
                       numberResults=rng.choice([1, 2])),
        lambda: common("textInference", model="google:gemma@4-31b", deliveryMethod="async",
                       messages=[{"role": "user", "content": "Say hello"}]),
        lambda: common("audioInference", model="inworld:tts@1.5-max", deliveryMethod="async",
                       speech={"text": "A voice for the avatar.", "voice": "Dennis"}),
        lambda: common("promptEnhance", prompt="a cat on a chair", promptVersions=2,
                       deliveryMethod="async"),
        lambda: common("upscale", inputImage=media["image"], upscaleFactor=2,
                       deliveryMethod="async"),
    ]
    return [rng.choice(makers)() for _ in range(TASKS)]


class Client:
    """Submits tasks one after the other, as a client that retries a request whose answer it
    lost (the same taskUUID: a conflict then means the task was kept), and records the first
    terminal answer it polls for each task."""

    def __init__(self, server: ServerProcess, tasks: list[dict[str, Any]],
                 rng: random.Random) -> None:
        self.server, self.tasks, self.rng = server, tasks, rng
        self.acked: dict[str, dict[str, Any]] = {}
        self.reported: dict[str, dict[str, Any]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        for task in self.tasks:
            self._submit(task)
            if self.acked and self.rng.random() < 0.5:
                self._poll(self.rng.choice(list(self.acked)))
            time.sleep(self.rng.uniform(0.0, 0.06))
        self.done.set()

    def _submit(self, task: dict[str, Any]) -> None:
        while True:
            try:
                reply = self.server.post([task])
            except httpx.HTTPError:
                time.sleep(0.1)  # killed mid-request: sent again once it is back
                continue
            body = reply.json()
            if reply.status_code == 200 or body["errors"][0]["code"] == "conflictTaskUUID":
                self.acked[task["taskUUID"]] = task
                return
            raise AssertionError(f"{task['taskType']} refused: {body}")

    def _poll(self, task_uuid: str) -> None:
        try:
            body = self.server.poll(task_uuid)
        except httpx.HTTPError:
            return
        if task_uuid not in self.reported and not _processing(body):
            self.reported[task_uuid] = body


def _processing(body: dict[str, Any]) -> bool:
    return any(item.get("status") == "processing" for item in body.get("data", []))


def _terminal(server: ServerProcess, task_uuid: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while _processing(body := server.poll(task_uuid)):
        assert time.monotonic() < deadline, f"{task_uuid} still processing: {body}"
        time.sleep(0.2)
    return body


def _results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A terminal answer's results and errors, in a comparable order."""
    return sorted([*body.get("data", []), *body.get("errors", [])],
                  key=lambda item: json.dumps(item, sort_keys=True))


def test_sigkill_at_random_moments_loses_no_task_result_upload_or_delivery(
        tmp_path: Path) -> None:
    rng = random.Random(SEED)
    profile = tmp_path / "faults.json"
    profile.write_text(json.dumps({"rules": [
        {"kind": "task_error", "taskType": "textInference", "probability": 0.3},
        {"kind": "webhook_duplicate", "taskType": "promptEnhance", "copies": 2}]}))
    with Receiver(statuses=[500] * 20) as hook, Receiver() as uploads:
        server = ServerProcess(tmp_path / "data", "--latency", "uniform:0.2:3", "--seed", "7",
                               "--delivery-backoff", "0.5", "--delivery-attempts", "30",
                               "--faults", str(profile)).start()
        try:
            media = {}
            for kind, name in (("image", PORTRAIT), ("audio", VOICE)):
                reply = server.post([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                                      "operation": "upload",
                                      "media": raw_base64(media_path(name))}])
                media[kind] = reply.json()["data"][0]["mediaUUID"]
            client = Client(server, build_tasks(rng, media, hook.url, uploads.url), rng)
            submitter = threading.Thread(target=client.run, daemon=True)
            submitter.start()
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.5, 3.0))
                server.restart()
            submitter.join(timeout=300)
            assert client.done.is_set()
            server.restart()

            final = {task_uuid: _terminal(server, task_uuid) for task_uuid in client.acked}
            assert len(final) == TASKS
            for task_uuid, body in final.items():  # one terminal state per result, none lost
                task = client.acked[task_uuid]
                expected = task.get("numberResults", task.get("promptVersions", 1))
                assert [item.get("status") for item in _results(body)] == \
                    [item.get("status") for item in _results(body)
                     if item.get("status") in ("success", "error")], body
                assert len(_results(body)) == expected, body
            # The same result as reported before any kill: no task ran twice differently.
            for task_uuid, reported in client.reported.items():
                assert _results(final[task_uuid]) == _results(reported), task_uuid
            _check_deliveries(client.acked, final, hook, uploads, server)
            # Uploads made before every kill still work as inputs.
            avatar = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
                      "model": "klingai:avatar@2.0-standard",
                      "inputs": {"image": media["image"], "audio": media["audio"]}}
            assert server.post([avatar]).status_code == 200
            assert _terminal(server, avatar["taskUUID"])["data"][0]["status"] == "success"
            assert not list((tmp_path / "data").rglob("*.part*"))
        finally:
            server.close()


def _check_deliveries(acked: dict[str, dict[str, Any]], final: dict[str, dict[str, Any]],
                      hook: Receiver, uploads: Receiver, server: ServerProcess) -> None:
    deadline = time.monotonic() + 120
    while True:
        webhooks: dict[str, list[Any]] = {}
        for received in list(hook.requests):
            webhooks.setdefault(received.path.rsplit("/", 1)[1], []).append(received.json())
        owed = [task_uuid for task_uuid, task in acked.items() if "webhookURL" in task
                and len(_distinct(webhooks.get(task_uuid, []))) < len(_results(final[task_uuid]))]
        put = {received.path.rsplit("/", 1)[1]: received for received in list(uploads.requests)}
        owed += [task_uuid for task_uuid, task in acked.items()
                 if "uploadEndpoint" in task and task_uuid not in put]
        if not owed:
            break
        assert time.monotonic() < deadline, f"deliveries never arrived for {owed[:5]}"
        time.sleep(0.5)
    for task_uuid, bodies in webhooks.items():
        # Each webhook carries one of the task's final results (at least once each).
        sent = _distinct(bodies)
        assert sent == _results(final[task_uuid]), task_uuid
    for task_uuid, received in put.items():
        video = final[task_uuid]["data"][0]
        served = httpx.get(video["videoURL"], timeout=60).content
        assert hashlib.sha256(received.body).digest() == hashlib.sha256(served).digest()


def _distinct(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = {json.dumps(item, sort_keys=True): item for body in bodies
             for item in [*body.get("data", []), *body.get("errors", [])]}
    return _results({"data": list(items.values())})
