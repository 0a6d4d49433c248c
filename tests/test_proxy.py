"""runware-mock proxy in front of a fake upstream on 127.0.0.1 whose answers drift on purpose
(tests/drifted_upstream.py): every answer reaches the client byte for byte (REST, server-sent
events as they arrive, WebSocket frames in order), the drift report names each drift exactly
once with false refusals first, and a cassette recorded through it holds no key and replays
offline with byte-identical media."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from runware_mock.runner import ServerThread, free_port
from runware_mock.settings import Settings
from tests import drifted_upstream as fake
from tests import sdks
from tests.ctrl_c import children_take_ctrl_c
from tests.helpers import avatar_task
from tests.sdks import check_runware_sdk_job

API_KEY = "live-key-0123456789abcdef"  # stands for a user's real key: must never be written
FLUX = "runware:101@1"


def image_task(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": FLUX,
            "positivePrompt": "a lighthouse at dawn", "width": 512, "height": 512, **overrides}


def text_task(**overrides: Any) -> dict[str, Any]:
    return {"taskType": "textInference", "taskUUID": str(uuid.uuid4()),
            "model": "google:gemma@4-31b",
            "messages": [{"role": "user", "content": "Reply with exactly: hello"}], **overrides}


class ProxyProcess:
    """``runware-mock proxy`` as a user starts it, stopped with Ctrl-C (SIGINT)."""

    def __init__(self, upstream: str, tmp: Path) -> None:
        self.port = free_port()
        self.cassette = tmp / "cassette"
        self.report = tmp / "drift.jsonl"
        self.log = tmp / "proxy.log"
        command = [sys.executable, "-m", "runware_mock", "proxy", "--port", str(self.port),
                   "--upstream", upstream, "--record", str(self.cassette),
                   "--drift-report", str(self.report), "--log-level", "info"]
        with self.log.open("wb") as log, children_take_ctrl_c():
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.http = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {API_KEY}"})
        deadline = time.monotonic() + 60
        while True:
            try:
                self.http.get(f"{self.base_url}/__admin/drift", timeout=2)
                break
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(self.log.read_text()) from None
                time.sleep(0.05)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, tasks: list[Any]) -> httpx.Response:
        return self.http.post(f"{self.base_url}/v1", json=tasks)

    def settled_report(self) -> dict[str, Any]:
        """The drift report once every answer relayed so far is checked."""
        deadline = time.monotonic() + 60
        while True:
            report = self.http.get(f"{self.base_url}/__admin/drift").json()
            if report["exchanges"] + report["unchecked"] == report["relayed"]:
                return report
            assert time.monotonic() < deadline, report
            time.sleep(0.05)

    def stop(self) -> str:
        """Ctrl-C; the proxy's output (the summary table is its end)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)
        self.http.close()
        return self.log.read_text()


@pytest.fixture(scope="module")
def upstream() -> Iterator[fake.DriftedServer]:
    # An hour per task, unless the test advances the fake's clock: progress a poll can see.
    with fake.DriftedServer(Settings(ephemeral=True, latency="instant")) as server:
        yield server


@pytest.fixture(scope="module")
def slow_upstream() -> Iterator[fake.DriftedServer]:
    with fake.DriftedServer(Settings(ephemeral=True, latency="fixed:60")) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(upstream: fake.DriftedServer, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[ProxyProcess]:
    running = ProxyProcess(upstream.url, tmp_path_factory.mktemp("proxy"))
    yield running
    running.stop()


def test_rest_answers_pass_through_byte_for_byte(proxy: ProxyProcess,
                                                 upstream: fake.DriftedServer) -> None:
    for tasks in ([image_task()], [image_task(taskUUID="not-a-uuid")],
                  [image_task(outputFormat="GIF")], [image_task(clipSkipStrength=2)]):
        reply = proxy.post(tasks)
        assert reply.content == upstream.drifted.sent[-1]
        assert reply.headers["content-type"] == "application/json"
    # The upstream's status and headers too: here a 429 the client's own X-Mock-Fault header
    # asks the fake for (docs/faults.md), with its Retry-After.
    limited = proxy.http.post(f"{proxy.base_url}/v1", json=[image_task()], headers={
        "X-Mock-Fault": "http_error; status=429; retryAfter=7"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.content == upstream.drifted.sent[-1]
    # The drifts the fake makes reach the client unchanged.
    assert fake.EXTRA_FIELD in proxy.post([image_task()]).json()["data"][0]
    assert proxy.post([image_task(taskUUID="x")]).json()["errors"][0]["code"] == "invalidUUID"


def test_a_stream_is_passed_on_event_by_event(proxy: ProxyProcess,
                                              upstream: fake.DriftedServer) -> None:
    upstream.drifted.hold.set()  # the fake keeps the stream's end until released
    received = b""
    try:
        with proxy.http.stream("POST", f"{proxy.base_url}/v1",
                               json=[text_task(deliveryMethod="stream")]) as reply:
            assert reply.headers["content-type"].startswith("text/event-stream")
            chunks = reply.iter_raw()
            while b"\n\n" not in received:  # the first event, while the fake holds the end
                received += next(chunks)
            assert fake.STREAM_FIELD.encode() in received
            upstream.drifted.released.set()
            received += b"".join(chunks)
    finally:
        upstream.drifted.hold.clear()
        upstream.drifted.released.set()
    assert received == upstream.drifted.sent[-1]
    assert received.endswith(b"data: [DONE]\n\n")
    upstream.drifted.released.clear()


def test_websocket_frames_pass_through_in_order(proxy: ProxyProcess,
                                                upstream: fake.DriftedServer) -> None:
    before = len(upstream.drifted.sent)
    extra_field = f"imageInference success: {fake.EXTRA_FIELD} (upstream only)"
    counted = _count(proxy.settled_report(), extra_field)
    received = []
    with connect(f"ws://127.0.0.1:{proxy.port}/v1") as socket:
        socket.send(json.dumps([{"taskType": "authentication", "apiKey": API_KEY}]))
        received.append(socket.recv(timeout=30))
        socket.send(json.dumps([image_task()]))
        received.append(socket.recv(timeout=30))
        socket.send(json.dumps([image_task(outputFormat="GIF")]))
        received.append(socket.recv(timeout=30))
        socket.send(json.dumps([image_task(deliveryMethod="async")]))
        received += [socket.recv(timeout=30) for _ in range(2)]  # the ack, the pushed result
    assert [text.encode() for text in received] == upstream.drifted.sent[before:before + 5]
    assert fake.EXTRA_FIELD in json.loads(received[1])["data"][0]
    assert json.loads(received[4])["data"][0]["status"] == "success"
    # The answer to a frame and a result pushed later are both compared with the emulator's.
    assert _count(proxy.settled_report(), extra_field) == counted + 2


def _count(report: dict[str, Any], key: str) -> int:
    return next((entry["count"] for entry in report["drifts"] if entry["key"] == key), 0)


def test_the_report_names_each_drift_once_false_refusals_first(proxy: ProxyProcess) -> None:
    before = proxy.settled_report()
    for _ in range(2):  # each drift twice: still one entry, counted twice
        proxy.post([image_task()])
        proxy.post([image_task(outputFormat="GIF")])
        proxy.post([image_task(clipSkipStrength=2)])
        proxy.post([image_task(taskUUID="not-a-uuid")])
        with proxy.http.stream("POST", f"{proxy.base_url}/v1",
                               json=[text_task(deliveryMethod="stream")]) as reply:
            reply.read()
    proxy.post([text_task()])  # a text answer the fake does not drift
    report = proxy.settled_report()
    assert report["exchanges"] == before["exchanges"] + 11
    assert report["unchecked"] == before["unchecked"]
    entries = report["drifts"]
    found = [(entry["kind"], entry["key"]) for entry in entries]
    assert len(found) == 5, json.dumps(entries, indent=1)
    assert [kind for kind, _ in found[:2]] == ["false refusal", "false refusal"]
    assert any(fake.WIDENED[0] in key for _, key in found[:2])
    assert any(fake.ACCEPTED_FIELD in key for _, key in found[:2])
    [renamed] = [key for kind, key in found if kind == "error code"]
    assert fake.RENAMED[0] in renamed and fake.RENAMED[1] in renamed
    extras = sorted(key for kind, key in found if kind == "extra field")
    assert len(extras) == 2
    assert fake.EXTRA_FIELD in extras[0] and extras[0].startswith("imageInference")
    assert fake.STREAM_FIELD in extras[1] and extras[1].startswith("textInference stream")
    assert all(entry["count"] >= 2 and entry["example"] for entry in entries)
    page = proxy.http.get(f"{proxy.base_url}/__admin/ui/drift").text
    assert all(entry["key"] in page.replace("&#39;", "'") for entry in entries)


def _files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_no_key_is_written_and_the_table_is_printed_at_exit(proxy: ProxyProcess) -> None:
    output = proxy.stop()
    written = [proxy.log, proxy.report, *_files(proxy.cassette)]
    assert len(written) > 3  # log, report, cassette.jsonl and media
    for path in written:
        assert API_KEY.encode() not in path.read_bytes(), path
    assert "[redacted]" in (proxy.cassette / "cassette.jsonl").read_text()  # the WebSocket's
    assert "drift report:" in output and "false refusal" in output
    lines = [json.loads(line) for line in proxy.report.read_text().splitlines()]
    assert [line["kind"] for line in lines][:2] == ["false refusal", "false refusal"]


def test_a_cassette_replays_offline_with_the_same_media(tmp_path: Path) -> None:
    task = avatar_task()
    with fake.DriftedServer(Settings(ephemeral=True, latency="fixed:60")) as upstream:
        proxy = ProxyProcess(upstream.url, tmp_path)
        try:
            assert proxy.post([task]).json()["data"][0]["taskUUID"] == task["taskUUID"]
            poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
            assert proxy.post(poll).json()["data"][0]["status"] == "processing"
            httpx.post(f"{upstream.base_url}/__admin/clock/advance", json={"seconds": 120})
            statuses = ["processing"]  # the task finishes once the fake's clock rings
            while statuses[-1] == "processing":
                [done] = proxy.post(poll).json()["data"]
                statuses.append(done["status"])
            assert statuses[-1] == "success"
            recorded_video = httpx.get(done["videoURL"], timeout=120).content
            assert proxy.settled_report()["notRecorded"] == 0
        finally:
            proxy.stop()
    for path in [proxy.log, proxy.report, *_files(proxy.cassette)]:
        assert API_KEY.encode() not in path.read_bytes(), path
    # The upstream is gone: the replay has only the cassette.
    settings = Settings(ephemeral=True, replay=proxy.cassette, replay_strict=True)
    with ServerThread(settings) as replay:
        client = httpx.Client(timeout=120, headers={"Authorization": "Bearer another-key"})
        fresh = {**task, "taskUUID": str(uuid.uuid4())}
        poll = [{"taskType": "getResponse", "taskUUID": fresh["taskUUID"]}]
        ack = client.post(replay.url, json=[fresh]).json()
        assert ack["data"][0]["taskUUID"] == fresh["taskUUID"]
        replayed = [client.post(replay.url, json=poll).json()["data"][0]
                    for _ in statuses]  # the same progress, poll for poll
        assert [item["status"] for item in replayed] == statuses
        again = replayed[-1]
        assert again["taskUUID"] == fresh["taskUUID"]
        assert again["videoURL"].startswith(f"{replay.base_url}/__replay/")
        assert client.get(again["videoURL"]).content == recorded_video
        # After the last recorded poll, that one again.
        assert client.post(replay.url, json=poll).json()["data"] == [again]
        missing = client.post(replay.url, json=[avatar_task(positivePrompt="not recorded")])
        assert missing.status_code == 404
        assert missing.json()["errors"][0]["code"] == "notInCassette"


def test_the_contract_suite_through_the_proxy_finds_no_drift_in_the_emulator(
        tmp_path: Path) -> None:
    """The docs' recipe, with the emulator itself as the upstream: the whole suite's traffic
    goes through the proxy and the report finds nothing (no false drift), while counting it."""
    settings = Settings(ephemeral=True, api_keys=("suite-key",))
    with ServerThread(settings) as upstream:
        proxy = ProxyProcess(upstream.url, tmp_path)
        try:
            suite = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--pyargs",
                 "runware_mock.contract.suite", "--runware-url", f"{proxy.base_url}/v1",
                 "--runware-api-key", "suite-key", "--runware-allow-spend",
                 "--runware-examples", "2"], capture_output=True, text=True, timeout=600)
            assert suite.returncode == 0, suite.stdout[-3000:]
            report = proxy.settled_report()
        finally:
            output = proxy.stop()
    assert report["exchanges"] >= 20 and report["drifts"] == [], report
    assert "0 kinds of drift" in output


def test_a_websocket_recording_replays_its_frames(tmp_path: Path) -> None:
    task = avatar_task()
    authentication = json.dumps([{"taskType": "authentication", "apiKey": API_KEY}])
    with fake.DriftedServer(Settings(ephemeral=True, latency="fixed:60")) as upstream:
        proxy = ProxyProcess(upstream.url, tmp_path)
        try:
            with connect(f"ws://127.0.0.1:{proxy.port}/v1", max_size=None) as socket:
                socket.send(authentication)
                socket.recv(timeout=30)
                socket.send(json.dumps([task]))
                assert json.loads(socket.recv(timeout=30))["data"][0]["taskUUID"] == \
                    task["taskUUID"]
                httpx.post(f"{upstream.base_url}/__admin/clock/advance", json={"seconds": 120})
                [pushed] = json.loads(socket.recv(timeout=60))["data"]  # the result, pushed
            assert pushed["status"] == "success"
            recorded_video = httpx.get(pushed["videoURL"], timeout=120).content
            proxy.settled_report()
        finally:
            proxy.stop()
    cassette = (proxy.cassette / "cassette.jsonl").read_text()
    assert API_KEY not in cassette
    settings = Settings(ephemeral=True, replay=proxy.cassette)
    with ServerThread(settings) as replay, connect(replay.ws_url, max_size=None) as socket:
        socket.send(authentication)  # answered by the emulator: any key will do
        assert json.loads(socket.recv(timeout=30))["data"][0]["taskType"] == "authentication"
        fresh = {**task, "taskUUID": str(uuid.uuid4())}
        socket.send(json.dumps([fresh]))
        frames = [json.loads(socket.recv(timeout=30))["data"][0] for _ in range(2)]
        assert [frame["taskUUID"] for frame in frames] == [fresh["taskUUID"]] * 2
        assert frames[1]["status"] == "success"
        assert frames[1]["videoURL"].startswith(f"{replay.base_url}/__replay/")
        assert httpx.get(frames[1]["videoURL"], timeout=60).content == recorded_video


@pytest.mark.parametrize("transport", ["websocket", "rest"])
def test_the_official_sdk_runs_an_avatar_job_through_the_proxy(
        runware_sdk_python: Path, tmp_path: Path, transport: str) -> None:
    """runware-sdk as a user runs it, only its URLs pointed at the proxy: its job (uploads,
    the avatar video, a refused model) goes through, and the report finds no drift between
    the emulator and itself on that traffic (uploads' mediaUUIDs used as inputs included)."""
    # Another seed than the proxy's emulator: its mediaUUIDs differ, as the real service's do.
    settings = Settings(ephemeral=True, api_keys=(sdks.API_KEY,), seed=7)
    with ServerThread(settings) as upstream:
        proxy = ProxyProcess(upstream.url, tmp_path)
        try:
            task_uuid = str(uuid.uuid4())
            done = sdks.run_to_end(sdks.runware_sdk_command(
                runware_sdk_python, transport, f"ws://127.0.0.1:{proxy.port}/v1",
                f"{proxy.base_url}/v1", task_uuid), tmp_path)
            check_runware_sdk_job(upstream, done, task_uuid, tmp_path)
            report = proxy.settled_report()
        finally:
            proxy.stop()
    assert report["exchanges"] >= 4 and report["drifts"] == [], report
