"""Hostile input and hostile peers (issue 13), each as a user or an attacker would hit it, over
real sockets: a Runware-shaped error every time, never a 500, a dropped connection, a hang, an
unbounded cost, or a way into the emulator's own admin API."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from runware_mock.admin.client import AdminClient
from runware_mock.contract.receivers import Receiver
from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.conftest import ServerFactory
from tests.helpers import VOICE, RestClient, avatar_task, raw_base64
from tests.raw_wire import KeepAlive, RawOrigin, dribbling, nested, wait_until
from tests.socket_client import Socket

# Also against serve --workers 2, whose followers read every request's HTTP first.
pytestmark = pytest.mark.workers

KEY = {"Authorization": "Bearer test-key"}
PING = b'[{"taskType":"ping","ping":true}]'


def upload(media: str) -> list[dict[str, str]]:
    return [{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), "operation": "upload",
             "media": media}]


# --- 1. nesting ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    nested(1100),                                          # past orjson's own 1,024 levels
    nested(1100, "12345678901234567890123456789"),         # the big int sends it to json
    '[{"taskType":"ping","ping":' + nested(975) + "}]",    # a deep field: the validator's repr
    '[{"taskType":"ping","ping":' + nested(40) + "}]",     # past the setting, far from 1,024
])
def test_deep_nesting_is_a_400_and_the_connection_stays_usable(server: ServerThread,
                                                              body: str) -> None:
    with KeepAlive(server.base_url) as http:
        answer = http.post("/v1", body.encode(), KEY)
        assert answer.status == 400, answer.body[:300]
        assert answer.codes() == ["nestingTooDeep"]
        assert http.ping().status == 200
        assert http.reused


def test_a_deep_websocket_frame_gets_an_error_frame_and_the_socket_stays_open(
        server: ServerThread) -> None:
    with connect(server.ws_url, open_timeout=10) as socket_:
        socket_.send(nested(3000))
        reply = json.loads(socket_.recv(30))
        assert [e["code"] for e in reply["errors"]] == ["nestingTooDeep"]
        socket_.send(PING.decode())
        assert json.loads(socket_.recv(30))["data"][0]["pong"] is True


# --- 2. numbers ----------------------------------------------------------------------------------

def test_a_ttl_past_any_float_is_refused_and_never_breaks_a_poll(client: RestClient) -> None:
    answer = client.post([avatar_task(ttl=10**309)])
    assert answer.status_code == 400
    assert [e["code"] for e in answer.json()["errors"]] == ["invalidTTL"]
    assert "at most" in answer.json()["errors"][0]["message"] or "from 60" in \
        answer.json()["errors"][0]["message"]


def test_the_longest_ttl_allowed_still_renders_and_polls(client: RestClient) -> None:
    from runware_mock.contract import schemas
    ttl = schemas.inlined("request.videoInference.klingai-avatar-2.0")["properties"]["ttl"]
    body = client.run(avatar_task(ttl=ttl["maximum"]))
    assert body["data"][0]["status"] == "success", body


# --- 3. URLs httpx refuses -----------------------------------------------------------------------

BAD_URLS = ["http://[::1", "http://\udc80.example/a.jpg", "http://exa\x00mple.test/a.jpg",
            "http://example.test:99999/a.jpg", "https://ex ample.test/a.jpg"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_urls_httpx_refuses_are_upload_errors_not_500(client: RestClient, url: str) -> None:
    for task_type, field in (("mediaStorage", "media"), ("imageUpload", "image")):
        task = {"taskType": task_type, "taskUUID": str(uuid.uuid4()), field: url}
        if task_type == "mediaStorage":
            task["operation"] = "upload"
        answer = client.http.post(client.url, content=json.dumps([task]).encode(),
                                  headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, answer.text
        assert [e["code"] for e in answer.json()["errors"]] == ["invalidValueUploadFailed"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_task_with_such_a_url_fails_as_a_400_on_get_response(client: RestClient,
                                                                url: str) -> None:
    task = avatar_task()
    task["inputs"]["image"] = url
    ack = client.http.post(client.url, content=json.dumps([task]).encode(),
                           headers={"Content-Type": "application/json"})
    assert ack.status_code == 200, ack.text
    body = client.wait(task["taskUUID"])
    assert [e["code"] for e in body["errors"]] == ["invalidValueUploadFailed"], body
    assert client.poll(task["taskUUID"]).status_code == 400


def test_a_redirect_to_a_data_uri_is_an_upload_error(client: RestClient) -> None:
    redirect = (b"HTTP/1.1 302 Found\r\nLocation: data:image/png;base64,AAAA\r\n"
                b"Content-Length: 0\r\n\r\n")
    with RawOrigin([(redirect, 0.0)]) as origin:
        answer = client.post(upload(f"{origin.base_url}/a.png"))
    assert answer.status_code == 400, answer.text
    assert [e["code"] for e in answer.json()["errors"]] == ["invalidValueUploadFailed"]


# --- 4. whole-request deadlines ------------------------------------------------------------------

def test_a_slow_origin_cannot_stretch_an_input_fetch_past_the_fetch_timeout(
        server_factory: ServerFactory) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n"
    server = server_factory(fetch_timeout=1.0)
    with RawOrigin(dribbling(head, 0.2, 20)) as origin:
        answer = RestClient(server.url).post(upload(f"{origin.base_url}/slow.png"))
    assert answer.status_code == 400
    message = answer.json()["errors"][0]["message"]
    assert "1 s" in message and "fetch" in message, message


def test_a_slow_webhook_receiver_cannot_stretch_a_try_past_the_delivery_timeout(
        server_factory: ServerFactory) -> None:
    server = server_factory(delivery_timeout=1.0, delivery_attempts=1)
    with RawOrigin(dribbling(b"", 0.2, 20)) as origin:
        task = avatar_task(webhookURL=f"{origin.base_url}/hook")
        RestClient(server.url).run(task)
        attempts = AdminClient(server.base_url).wait_for_deliveries(task["taskUUID"], 60)
    assert [a["outcome"] for a in attempts] == ["gave-up"]
    assert "timeout" in attempts[0]["error"]


# --- 5. bounded work per request -----------------------------------------------------------------

def test_a_body_over_the_limit_is_a_413_without_reading_it_all(
        server_factory: ServerFactory) -> None:
    server = server_factory(max_body_bytes=4096)
    with KeepAlive(server.base_url) as http:
        answer = http.post("/v1", b"[" + b'"xxxxxxxx",' * 1000 + b"1]", KEY)
        assert answer.status == 413
        assert answer.codes() == ["payloadTooLarge"]
        assert http.ping().status == 200


def test_a_million_values_are_refused_before_they_are_parsed(server: ServerThread) -> None:
    with KeepAlive(server.base_url) as http:
        answer = http.post("/v1", b"[" + b"1," * 1_000_000 + b"1]", KEY)
        assert answer.status == 413
        assert answer.codes() == ["payloadTooLarge"]
        assert len(answer.body) < 2000
        assert http.ping().status == 200
        assert http.reused


# docs/configuration.md: --max-json-values counts "arrays, objects and the strings, numbers,
# booleans and nulls in them"; a systemPrompt may be 100,000 characters (runware-surface.md 5.2).
LONG_PROMPT = ",[{" * 33_333


def test_commas_and_brackets_inside_strings_are_not_values(server: ServerThread) -> None:
    def chat() -> dict[str, Any]:
        return {"taskType": "textInference", "taskUUID": str(uuid.uuid4()),
                "model": "google:gemma@4-31b", "systemPrompt": LONG_PROMPT,
                "messages": [{"role": "user", "content": LONG_PROMPT}]}

    over = json.dumps([{"taskType": "ping", "ping": True, "n": ["a,b"] * 100_000}])
    with KeepAlive(server.base_url) as http:
        answer = http.post("/v1", json.dumps([chat()]).encode(), KEY)
        assert answer.status == 200, answer.body[:300]
        assert answer.json()["data"][0]["status"] == "success"
        assert http.post("/v1", over.encode(), KEY).codes() == ["payloadTooLarge"]
    with contextlib.closing(Socket(server.ws_url)) as ws:
        ws.authenticate()
        task = chat()
        assert ws.ask([task])["data"][0]["taskUUID"] == task["taskUUID"]
        assert [e["code"] for e in ws.ask(over)["errors"]] == ["payloadTooLarge"]


def test_too_many_tasks_is_one_error(server_factory: ServerFactory) -> None:
    server = server_factory(max_tasks_per_request=10)
    with KeepAlive(server.base_url) as http:
        answer = http.post("/v1", json.dumps([{"taskType": "ping"}] * 11).encode(), KEY)
        assert answer.status == 400
        assert answer.codes() == ["tooManyTasks"]
        assert http.post("/v1", json.dumps([{"taskType": "ping"}] * 10).encode(),
                         KEY).status == 200


def test_errors_per_reply_are_capped_and_the_rest_counted(
        server_factory: ServerFactory) -> None:
    server = server_factory(max_errors_per_reply=5)
    task = {"taskType": "ping", **{f"unknown{i}": i for i in range(5000)}}
    with KeepAlive(server.base_url) as http:
        answer = http.post("/v1", json.dumps([task, task]).encode(), KEY)
    codes = answer.codes()
    assert answer.status == 400
    assert codes == ["unsupportedParameter"] * 5 + ["tooManyErrors"]
    assert "9995" in answer.json()["errors"][-1]["message"]


def test_the_same_limits_hold_on_a_websocket_frame(server_factory: ServerFactory) -> None:
    server = server_factory(max_tasks_per_request=3)
    with connect(server.ws_url, open_timeout=10) as ws:
        ws.send(json.dumps([{"taskType": "ping"}] * 4))
        assert [e["code"] for e in json.loads(ws.recv(30))["errors"]] == ["tooManyTasks"]
        ws.send("[" + "1," * 200_000 + "1]")
        assert [e["code"] for e in json.loads(ws.recv(30))["errors"]] == ["payloadTooLarge"]
        ws.send(PING.decode())
        assert json.loads(ws.recv(30))["data"][0]["pong"] is True


# --- 6. the loop guard ---------------------------------------------------------------------------

SELF_HOSTS = ["127.1", "2130706433", "0x7f000001", "017700000001", "[::ffff:127.0.0.1]",
              "127.0.0.1.", "LOCALHOST"]


def test_every_spelling_of_this_host_is_refused_and_admin_is_never_reached(
        server_factory: ServerFactory) -> None:
    server = server_factory()
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    hosts = [*SELF_HOSTS, socket.gethostname()]
    tasks = [avatar_task(webhookURL=f"http://{host}:{server.settings.port}/__admin/reset")
             for host in hosts]
    for task in tasks:
        client.run(task)
    for host, task in zip(hosts, tasks, strict=True):
        attempts = admin.wait_for_deliveries(task["taskUUID"])
        assert [a["outcome"] for a in attempts] == ["refused"], (host, attempts)
        assert attempts[0]["error"].startswith("loop guard")
    assert len(admin.tasks()) == len(tasks)  # never reset


def test_a_receiver_on_another_port_of_loopback_still_gets_its_webhook(
        server: ServerThread) -> None:
    with Receiver() as hook:
        url = hook.url.replace("127.0.0.1", "127.1")
        task = avatar_task(webhookURL=url)
        RestClient(server.url).run(task)
        assert hook.wait_for(1)


# --- 7. the disk budget covers inputs ------------------------------------------------------------

def test_refused_inputs_do_not_stay_in_the_data_dir(server: ServerThread) -> None:
    inputs = server.settings.data_dir / "inputs"
    before = set(inputs.iterdir())
    client = RestClient(server.url)
    for _ in range(3):
        junk = base64.b64encode(os.urandom(50_000)).decode()
        assert client.post(upload(junk)).status_code == 400
    task = avatar_task()
    task["inputs"]["image"] = base64.b64encode(os.urandom(50_000)).decode()
    body = client.run(task)
    assert body["errors"][0]["code"] == "invalidValueUploadFailed", body
    assert set(inputs.iterdir()) == before


def test_inputs_and_uploads_count_against_the_disk_budget(
        server_factory: ServerFactory) -> None:
    server = server_factory(disk_budget_mb=1)
    client = RestClient(server.url)
    voice = media_path(VOICE).read_bytes()
    answers = []
    for index in range(20):
        # Distinct bytes of a valid track each time: each upload is one more input file.
        track = voice + bytes([index]) * 16
        answers.append(client.post(upload(base64.b64encode(track).decode())))
        assert answers[-1].status_code == 200, answers[-1].text
    media = [server.settings.data_dir / "inputs", server.settings.data_dir / "cache"]
    used = sum(path.stat().st_size for folder in media for path in folder.rglob("*")
               if path.is_file())
    assert 20 * len(voice) > 1024 * 1024 >= used
    newest = answers[-1].json()["data"][0]["mediaURL"]
    assert httpx.get(newest).status_code == 200


# --- 9. media belong to the API key that uploaded them -------------------------------------------

def test_another_key_can_neither_use_nor_delete_an_upload(server: ServerThread) -> None:
    owner, other = RestClient(server.url, "key-a"), RestClient(server.url, "key-b")
    uploaded = owner.post(upload(raw_base64(media_path(VOICE))))
    media_uuid = uploaded.json()["data"][0]["mediaUUID"]

    stolen = avatar_task()
    stolen["inputs"]["audio"] = media_uuid
    body = other.run(stolen)
    assert body["errors"][0]["code"] == "invalidValueUploadFailed", body
    assert "no uploaded media" in body["errors"][0]["message"]
    delete = [{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
               "operation": "delete", "media": media_uuid}]
    assert other.post(delete).json()["errors"][0]["code"] == "mediaNotFound"

    mine = avatar_task()
    mine["inputs"]["audio"] = media_uuid
    assert owner.run(mine)["data"][0]["status"] == "success"
    assert owner.post(delete).status_code == 200


# --- 8. the journal's memory cap covers every string ---------------------------------------------

def test_a_huge_api_key_is_cut_in_the_journal(server: ServerThread) -> None:
    key = "k" * 1_000_000
    answer = httpx.post(server.url, content=PING, headers={"Authorization": f"Bearer {key}",
                                                           "Content-Type": "application/json"})
    assert answer.status_code == 200
    entry = AdminClient(server.base_url).journal()[-1]
    assert len(entry["apiKey"]) < 400
    assert len(json.dumps(entry)) < server.settings.journal_entry_bytes + 1024


def test_a_journal_entry_stays_within_its_byte_budget(server: ServerThread) -> None:
    task = {"taskType": "ping", **{f"field{i:04}": "v" * 200 for i in range(300)}}
    httpx.post(server.url, json=[task], headers=KEY)
    entry = AdminClient(server.base_url).journal()[-1]
    assert len(json.dumps(entry)) < server.settings.journal_entry_bytes + 1024


# --- 10. fault parameters and shutdown -----------------------------------------------------------

@pytest.mark.parametrize("header", ["latency; seconds=fixed:1e308", "latency; seconds=1e308",
                                    "latency; seconds=uniform:0:1e9",
                                    "latency; seconds=lognormal:1:1000",
                                    "latency; seconds=lognormal:1e300:1"])
def test_unbounded_fault_parameters_are_refused(client: RestClient, header: str) -> None:
    answer = client.http.post(client.url, content=PING, headers={"X-Mock-Fault": header})
    assert answer.status_code == 400
    assert [e["code"] for e in answer.json()["errors"]] == ["invalidFaultHeader"]


def test_shutdown_finishes_within_its_bound_whatever_requests_are_held(tmp_path: Path) -> None:
    server = ServerThread(Settings(latency="instant", data_dir=tmp_path / "data",
                                   shutdown_timeout=1.0)).start()
    held = threading.Thread(target=_held_request, args=(server.url,), daemon=True)
    held.start()
    assert wait_until(lambda: len(server.services.journal) > 0), "nothing was journaled"
    server._server.should_exit = True
    server._thread.join(timeout=20)
    assert not server._thread.is_alive()


def _held_request(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(url, content=PING, timeout=120,
                   headers={**KEY, "X-Mock-Fault": "latency; seconds=60",
                            "Content-Type": "application/json"})


# --- 11. a data dir that looks like an option ----------------------------------------------------

def test_a_relative_data_dir_starting_with_a_dash_still_renders(
        server_factory: ServerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    server = server_factory(data_dir=Path("-data"))
    body = RestClient(server.url).run(avatar_task())
    assert body["data"][0]["status"] == "success", body


# --- 12. the admin API refuses other sites -------------------------------------------------------

def test_the_admin_api_refuses_a_rebound_host(server: ServerThread) -> None:
    answer = httpx.get(f"{server.base_url}/__admin/journal",
                       headers={"Host": f"attacker.example:{server.settings.port}"})
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "invalidAdminHost"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://attacker.example", "Content-Type": "text/plain"},
    {"Origin": "http://attacker.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "null"},
])
def test_the_admin_api_refuses_cross_site_requests(server: ServerThread,
                                                   headers: dict[str, str]) -> None:
    RestClient(server.url).run(avatar_task())
    answer = httpx.post(f"{server.base_url}/__admin/reset", headers=headers, content=b"{}")
    assert answer.status_code == 403, answer.text
    assert answer.json()["errors"][0]["code"] == "crossSiteAdminRequest"
    assert AdminClient(server.base_url).tasks()  # not reset


def test_an_admin_write_must_be_json(server: ServerThread) -> None:
    answer = httpx.post(f"{server.base_url}/__admin/clock/advance", content=b'{"seconds": 1}',
                        headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415
    assert answer.json()["errors"][0]["code"] == "unsupportedAdminContentType"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LocalHost."])
def test_the_admin_api_answers_loopback_names_and_same_origin_pages(server: ServerThread,
                                                                    host: str) -> None:
    port = server.settings.port
    headers = {"Host": f"{host}:{port}", "Origin": f"http://{host}:{port}",
               "Sec-Fetch-Site": "same-origin"}
    assert httpx.get(f"{server.base_url}/__admin/tasks", headers=headers).status_code == 200
    assert httpx.post(f"{server.base_url}/__admin/reset", headers=headers).status_code == 200


def test_the_admin_api_answers_the_public_url_host(server_factory: ServerFactory) -> None:
    server = server_factory(public_url="https://mock.example.test:9443")
    answer = httpx.get(f"http://127.0.0.1:{server.settings.port}/__admin/tasks",
                       headers={"Host": "mock.example.test:9443",
                                "Origin": "https://mock.example.test:9443"})
    assert answer.status_code == 200
