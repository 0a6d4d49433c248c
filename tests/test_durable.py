"""Durable state: what a user's emulator keeps when it is killed (SIGKILL, SIGTERM) and started
again on the same data dir, case by case (``test_crash_recovery`` kills one under load)."""

from __future__ import annotations

import io
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from runware_mock.contract.receivers import Receiver
from runware_mock.fixtures import media_path
from runware_mock.store import schema
from tests.helpers import PORTRAIT, VOICE, avatar_task, raw_base64
from tests.server_process import API_KEY, ServerProcess, wait_done

Start = Callable[..., ServerProcess]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    started: list[ServerProcess] = []

    def start_server(*options: str) -> ServerProcess:
        server = ServerProcess(tmp_path / "data", *options).start()
        started.append(server)
        return server
    yield start_server
    for server in started:
        server.close()


def image_task(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": "runware:400@2",
            "positivePrompt": "a lighthouse", "width": 512, "height": 512,
            "deliveryMethod": "async", **overrides}


def kept(server: ServerProcess) -> None:
    """Wait until everything the server did so far is in its store: an admin change is
    answered once committed, and commits go in order."""
    assert server.admin("POST", "/clock/advance", json={"seconds": 0}).status_code == 200


def admin_task(server: ServerProcess, task_uuid: str) -> dict[str, Any]:
    return server.admin("GET", f"/tasks/{task_uuid}").json()


def test_a_processing_task_keeps_its_due_time_across_a_kill(start: Start) -> None:
    server = start("--latency", "fixed:20")
    task = avatar_task()
    assert server.post([task]).status_code == 200
    while (before := admin_task(server, task["taskUUID"]))["generations"][0][
            "readyInSeconds"] is None:
        time.sleep(0.05)  # being measured (its inline inputs decoded)
    server.restart()
    after = admin_task(server, task["taskUUID"])
    # Its age went on counting while the emulator was down; its due time did not move.
    assert after["ageSeconds"] >= before["ageSeconds"]
    latency = [round(view["ageSeconds"] + view["generations"][0]["readyInSeconds"], 1)
               for view in (before, after)]
    assert latency == [20.0, 20.0]
    assert server.poll(task["taskUUID"])["data"][0]["status"] == "processing"
    server.admin("POST", "/clock/advance",
                 json={"seconds": after["generations"][0]["readyInSeconds"]})
    item = wait_done(server, task["taskUUID"])["data"][0]
    assert item["status"] == "success"
    assert httpx.get(item["videoURL"], timeout=60).status_code == 200


def test_a_finished_result_and_its_files_come_back_the_same(start: Start) -> None:
    server = start("--latency", "instant", "--seed", "4")
    fetched, unfetched = image_task(), image_task(outputFormat="PNG")
    items = []
    for task in (fetched, unfetched):
        assert server.post([task]).status_code == 200
        items.append(wait_done(server, task["taskUUID"])["data"][0])
    before = httpx.get(items[0]["imageURL"]).content
    server.restart()
    # Kept undecoded until asked for: counted, listed, and polled all the same.
    assert server.admin("GET", "/health").json()["tasks"] == 2
    assert server.admin("GET", "/tasks").json()["count"] == 2
    assert [server.poll(task["taskUUID"])["data"][0] for task in (fetched, unfetched)] == items
    again = httpx.get(items[0]["imageURL"])
    assert again.content == before, again.text[:500]
    # Never downloaded before the kill: made now, from its task run again.
    made = httpx.get(items[1]["imageURL"])
    assert made.status_code == 200
    image = Image.open(io.BytesIO(made.content))
    assert (image.format, image.size) == ("PNG", (512, 512))
    server.restart()
    assert httpx.get(items[1]["imageURL"]).content == made.content


def test_a_used_task_uuid_still_conflicts_after_a_kill(start: Start) -> None:
    server = start("--latency", "fixed:30")
    task = image_task()
    assert server.post([task]).status_code == 200
    server.restart()
    again = server.post([task])
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "conflictTaskUUID"


def test_an_upload_is_kept_and_works_as_an_input(start: Start) -> None:
    server = start("--latency", "instant")
    uuids = []
    for name in (PORTRAIT, VOICE):
        reply = server.post([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                              "operation": "upload", "media": raw_base64(media_path(name))}])
        uuids.append(reply.json()["data"][0]["mediaUUID"])
    server.restart()
    task = avatar_task(inputs={"image": uuids[0], "audio": uuids[1]})
    assert server.post([task]).status_code == 200
    assert wait_done(server, task["taskUUID"])["data"][0]["status"] == "success"


def test_an_undelivered_webhook_goes_on_with_its_retries(start: Start) -> None:
    server = start("--latency", "instant", "--delivery-backoff", "3",
                   "--delivery-attempts", "5")
    with Receiver(statuses=[500]) as hook:
        task = image_task(webhookURL=hook.url)
        assert server.post([task]).status_code == 200
        hook.wait_for(1)  # the first try failed: the second waits out its backoff
        while not server.admin("GET", "/deliveries").json()["attempts"]:
            time.sleep(0.02)
        kept(server)
        server.restart()
        delivered = hook.wait_for(2)[1].json()["data"][0]
        assert delivered == server.poll(task["taskUUID"])["data"][0]
        while not (attempts := server.admin("GET", "/deliveries", params={
                "taskUUID": task["taskUUID"]}).json()["attempts"]):
            time.sleep(0.02)  # recorded once the receiver's answer is read
        # The log of this run: the try after the restart counts on from the first.
        assert [(a["attempt"], a["outcome"]) for a in attempts] == [(2, "delivered")]


def test_files_left_half_written_are_removed_at_start(start: Start, tmp_path: Path) -> None:
    server = start()
    partial = tmp_path / "data" / "cache" / "render.1234.part.mp4"
    partial.write_bytes(b"half a video")
    server.restart()
    assert not partial.exists()


def test_ttls_and_the_advanced_clock_count_on_across_a_kill(start: Start) -> None:
    server = start("--latency", "instant")
    task = image_task(ttl=60)
    assert server.post([task]).status_code == 200
    url = wait_done(server, task["taskUUID"])["data"][0]["imageURL"]
    server.admin("POST", "/clock/advance", json={"seconds": 45})
    before = server.admin("GET", "/clock").json()["now"]
    server.restart()
    assert server.admin("GET", "/clock").json()["now"] >= before
    assert httpx.get(url).status_code == 200
    server.admin("POST", "/clock/advance", json={"seconds": 20})
    assert httpx.get(url).status_code == 404


def test_fault_rules_and_their_counters_survive_a_kill(start: Start) -> None:
    server = start("--latency", "instant")
    rule = server.admin("POST", "/faults", json={"kind": "task_error", "times": 2,
                                                  "taskType": "imageInference"}).json()
    outcomes = []
    for round_number in range(3):
        task = image_task()
        server.post([task])
        outcomes.append("errors" in wait_done(server, task["taskUUID"]))
        if round_number == 0:
            server.restart()
            rules = server.admin("GET", "/faults").json()["rules"]
            assert [(r["id"], r["fired"]) for r in rules] == [(rule["id"], 1)]
    assert outcomes == [True, True, False]  # times=2 counted across the restart


def test_reset_empties_the_store(start: Start) -> None:
    server = start("--latency", "fixed:30")
    task = image_task()
    server.post([task])
    assert server.admin("POST", "/reset").status_code == 200
    server.restart()
    assert server.poll(task["taskUUID"])["errors"][0]["code"] == "taskNotFound"
    assert server.post([task]).status_code == 200  # its UUID is free again


def test_a_store_of_the_first_schema_version_is_upgraded(start: Start, tmp_path: Path) -> None:
    """Written by the first runware-mock with a store (version 1): every migration runs."""
    data = tmp_path / "data"
    data.mkdir()
    picture = data / "kept.png"
    Image.new("RGB", (8, 8), "red").save(picture)
    previous = sqlite3.connect(data / "state.sqlite3")
    for statement in schema.MIGRATIONS[0]:
        previous.execute(statement)
    previous.execute("PRAGMA user_version = 1")
    task_uuid, image_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    result = {"imageUUID": image_uuid, "imageURL": "", "seed": 1}
    state = {"request": image_task(taskUUID=task_uuid), "submittedAt": time.time(),
             "outputSeconds": 0.0, "readyAt": time.time(), "faults": None,
             "generations": [[1, "success", result, ["image", image_uuid], None, time.time()]]}
    previous.execute("INSERT INTO tasks (task_uuid, owner, state, finished_at) VALUES (?, ?, ?, ?)",
                     (task_uuid, API_KEY, __import__("json").dumps(state), time.time()))
    previous.execute("INSERT INTO files VALUES ('image', ?, ?, 'png', NULL, NULL)",
                     (image_uuid, str(picture)))
    previous.commit()
    previous.close()
    server = start()
    assert server.poll(task_uuid)["data"][0]["imageUUID"] == image_uuid
    assert httpx.get(f"{server.base_url}/image/{image_uuid}.png").content == picture.read_bytes()
    upgraded = sqlite3.connect(data / "state.sqlite3")
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION


def test_a_store_of_a_newer_emulator_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    newer = sqlite3.connect(data / "state.sqlite3")
    newer.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    newer.close()
    finished = subprocess.run([sys.executable, "-m", "runware_mock", "serve", "--port", "0",
                               "--data-dir", str(data)], capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode == 2
    assert "newer runware-mock" in finished.stderr and "Traceback" not in finished.stderr


def test_sigterm_keeps_everything_too(start: Start) -> None:
    server = start("--latency", "fixed:30")
    task = image_task()
    server.post([task])
    server.kill(signal.SIGTERM)
    server.start()
    assert server.poll(task["taskUUID"])["data"][0]["status"] == "processing"


def test_an_ack_comes_once_the_task_is_committed(start: Start, tmp_path: Path) -> None:
    server = start("--latency", "fixed:60")
    store = sqlite3.connect(f"file:{tmp_path / 'data' / 'state.sqlite3'}?mode=ro", uri=True)
    for _ in range(20):
        task = image_task()
        assert server.post([task]).status_code == 200
        # Read by another connection the moment the ack arrives: already committed.
        assert store.execute("SELECT count(*) FROM tasks WHERE task_uuid = ?",
                             (task["taskUUID"],)).fetchone() == (1,)
    upload = server.post([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                           "operation": "upload", "media": raw_base64(media_path(PORTRAIT))}])
    media_uuid = upload.json()["data"][0]["mediaUUID"]
    assert store.execute("SELECT count(*) FROM files WHERE uuid = ?",
                         (media_uuid,)).fetchone() == (1,)


def test_profile_rules_count_on_and_a_removed_one_stays_removed(start: Start,
                                                                tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text('{"rules": [{"kind": "task_error", "times": 2, "taskType": '
                       '"imageInference"}, {"kind": "never_finish", "taskType": "ping"}]}')
    server = start("--latency", "instant", "--faults", str(profile))
    task = image_task()
    server.post([task])
    assert "errors" in wait_done(server, task["taskUUID"])
    rules = server.admin("GET", "/faults").json()["rules"]
    assert [(rule["kind"], rule["fired"]) for rule in rules] == [("task_error", 1),
                                                                 ("never_finish", 0)]
    assert server.admin("DELETE", f"/faults/{rules[1]['id']}").status_code == 200
    server.restart()
    rules = server.admin("GET", "/faults").json()["rules"]
    assert [(rule["kind"], rule["fired"]) for rule in rules] == [("task_error", 1)]
    outcomes = []
    for _ in range(2):
        task = image_task()
        server.post([task])
        outcomes.append("errors" in wait_done(server, task["taskUUID"]))
    assert outcomes == [True, False]  # times=2: one before the restart, one after
