"""The admin API over real sockets: drive tasks, read the journal, reset, and reject bad input."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from runware_mock.admin import openapi as admin_openapi
from runware_mock.admin.api import PREFIX, admin_mount
from runware_mock.admin.client import AdminClient, AdminError, VerificationError
from runware_mock.contract.receivers import Receiver
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.helpers import RestClient, avatar_task

# Also against serve --workers 2: one emulator whichever worker a connection reaches.
pytestmark = pytest.mark.workers

PING = {"taskType": "ping", "ping": True}


def slow_server(server_factory: ServerFactory, **settings: Any) -> ServerThread:
    """An emulator whose tasks would take an hour, unless the admin API intervenes."""
    return server_factory(latency="fixed:3600", **settings)


def test_complete_finishes_a_task_without_its_latency_and_the_journal_shows_it(
        server_factory: ServerFactory) -> None:
    server = slow_server(server_factory)
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    task = avatar_task(includeCost=True)
    assert client.post([task]).status_code == 200
    assert client.poll(task["taskUUID"]).json()["data"][0]["status"] == "processing"
    assert [t["taskUUID"] for t in admin.tasks(state="processing")] == [task["taskUUID"]]

    finished = admin.complete(task["taskUUID"])

    assert finished["state"] == "success" and admin.tasks(state="processing") == []
    result = finished["results"][0]
    assert finished["generations"][0]["status"] == "success"
    video = httpx.get(result["videoURL"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert len(video.content) > 1000
    polled = client.poll(task["taskUUID"]).json()
    assert polled["data"] == [result] and result["cost"] > 0

    entries = admin.journal(task_uuid=task["taskUUID"])
    assert [e["taskTypes"] for e in entries] == [["videoInference"], ["getResponse"],
                                                 ["getResponse"]]
    assert all(e["apiKey"] == "test-key" and e["transport"] == "rest" for e in entries)
    assert all(e["kind"] == "request" and e["status"] == 200 for e in entries)
    assert entries[0]["response"] == {"data": [{"taskType": "videoInference",
                                                "taskUUID": task["taskUUID"]}]}
    assert entries[-1]["response"] == polled
    # The journal keeps the request but not megabytes of base64.
    assert entries[0]["request"][0]["inputs"]["audio"].endswith("characters]")
    assert len(json.dumps(entries[0]["request"])) < 2000
    assert admin.count(task_type="getResponse") == 2
    assert admin.verify(task_type="videoInference", count=1) == 1
    assert admin.verify(task_uuid=task["taskUUID"], at_least=3, at_most=3) == 3
    with pytest.raises(VerificationError, match="exactly 2"):
        admin.verify(task_type="videoInference", count=2)
    with pytest.raises(VerificationError, match="at least 1"):
        admin.verify(task_type="imageUpload")


def test_complete_without_wait_answers_at_once_and_the_task_then_succeeds(
        server_factory: ServerFactory) -> None:
    server = slow_server(server_factory)
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    task = avatar_task(numberResults=2)
    client.post([task])
    admin.complete(task["taskUUID"], wait=False)
    body = client.wait(task["taskUUID"])
    assert [item["status"] for item in body["data"]] == ["success", "success"]
    with pytest.raises(AdminError) as finished:
        admin.complete(task["taskUUID"])
    assert (finished.value.status, finished.value.code) == (409, "taskAlreadyFinished")


def test_fail_ends_a_task_with_the_given_error_and_posts_it_to_the_webhook(
        server_factory: ServerFactory) -> None:
    with Receiver() as hook:
        server = slow_server(server_factory)
        client, admin = RestClient(server.url), AdminClient(server.base_url)
        task = avatar_task(webhookURL=hook.url)
        client.post([task])
        failed = admin.fail(task["taskUUID"], code="timeoutProvider", message="provider slept")
        attempts = admin.wait_for_deliveries(task["taskUUID"])

    assert failed["state"] == "error"
    polled = client.poll(task["taskUUID"]).json()
    assert "data" not in polled
    problem = polled["errors"][0]
    assert (problem["code"], problem["message"]) == ("timeoutProvider", "provider slept")
    assert problem["taskUUID"] == task["taskUUID"] and problem["status"] == "error"
    assert json.loads(hook.requests[0].body) == {"errors": [problem]}
    assert [a["outcome"] for a in attempts] == ["delivered"]
    with pytest.raises(AdminError) as again:
        admin.fail(task["taskUUID"])
    assert again.value.code == "taskAlreadyFinished"


def test_advancing_the_clock_lets_the_latency_pass(server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:600")
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    task = avatar_task()
    client.post([task])
    before = admin.clock()
    after = admin.advance(601)
    assert after >= before + 601
    assert client.wait(task["taskUUID"])["data"][0]["status"] == "success"


def test_unknown_tasks_are_a_json_404(server: ServerThread) -> None:
    admin = AdminClient(server.base_url)
    for call in (admin.task, admin.complete, admin.fail):
        with pytest.raises(AdminError) as missing:
            call("6a0b1f7e-3c2d-4e5f-8a9b-0c1d2e3f4a5b")
        assert (missing.value.status, missing.value.code) == (404, "taskNotFound")


def test_journal_filters_by_time_type_and_limit(server: ServerThread) -> None:
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    client.post([PING])
    middle = time.time()
    time.sleep(0.01)  # entries are stamped with the same clock: keep them apart
    client.post([PING, PING])
    client.post([{"taskType": "getResponse", "taskUUID": "6a0b1f7e-3c2d-4e5f-8a9b-0c1d2e3f4a5b"}])

    assert len(admin.journal()) == 3
    assert len(admin.journal(since=middle)) == 2
    assert len(admin.journal(until=middle)) == 1
    assert len(admin.journal(since=datetime.fromtimestamp(middle, UTC))) == 2
    assert [e["id"] for e in admin.journal(limit=2)] == [2, 3]
    assert admin.count(task_type="ping") == 2
    missing = admin.journal(task_type="getResponse")[0]
    assert missing["status"] == 404 and missing["response"]["errors"][0]["code"] == "taskNotFound"
    assert admin.count(transport="websocket") == 0 and admin.count(kind="request") == 3


def test_the_journal_keeps_only_its_limit(server_factory: ServerFactory) -> None:
    server = server_factory(journal_limit=5)
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    for _ in range(8):
        client.post([PING])
    assert [e["id"] for e in admin.journal()] == [4, 5, 6, 7, 8]
    assert admin.health()["journal"] == {"kept": 5, "recorded": 8, "limit": 5}


def test_the_journal_shows_a_lone_surrogate_a_client_sent(server: ServerThread) -> None:
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    task = avatar_task(positivePrompt="\ud83d")
    reply = client.http.post(client.url, content=json.dumps([task]).encode())
    assert reply.status_code == 200
    [entry] = admin.journal(task_uuid=task["taskUUID"])
    assert entry["request"][0]["positivePrompt"] == "\ud83d"


def test_reset_journal_only_or_everything(server_factory: ServerFactory) -> None:
    server = slow_server(server_factory)
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    task = avatar_task()
    client.post([task])
    admin.reset_journal()
    assert admin.journal() == [] and len(admin.tasks()) == 1

    admin.reset()

    assert admin.tasks() == [] and admin.journal() == []
    assert client.poll(task["taskUUID"]).json()["errors"][0]["code"] == "taskNotFound"
    assert client.post([task]).status_code == 200, "a forgotten taskUUID can be used again"


def test_the_admin_token_guards_everything_but_health(server_factory: ServerFactory) -> None:
    server = server_factory(admin_token="s3cret")
    with pytest.raises(AdminError) as refused:
        AdminClient(server.base_url).tasks()
    assert (refused.value.status, refused.value.code) == (401, "invalidAdminToken")
    with pytest.raises(AdminError):
        AdminClient(server.base_url, token="wrong").journal()
    assert AdminClient(server.base_url, token="s3cret").tasks() == []
    by_header = httpx.get(f"{server.base_url}{PREFIX}/journal",
                          headers={"X-Admin-Token": "s3cret"})
    assert by_header.status_code == 200
    assert AdminClient(server.base_url).health()["status"] == "ok"


@pytest.mark.parametrize("method, path, body, parameter", [
    ("GET", "/journal?task_uuid=x", None, "task_uuid"),
    ("GET", "/journal?limit=0", None, "limit"),
    ("GET", "/journal?limit=ten", None, "limit"),
    ("GET", "/journal?since=yesterday", None, "since"),
    ("GET", "/journal?since=20&until=10", None, "since"),
    ("GET", "/journal?kind=frame", None, "kind"),
    ("GET", "/journal/verify?count=1&atLeast=1", None, "count"),
    ("GET", "/journal/verify?atMost=-1", None, "atMost"),
    ("GET", "/tasks?state=done", None, "state"),
    ("GET", "/deliveries?kind=email", None, "kind"),
    ("POST", "/clock/advance", b"", "seconds"),
    ("POST", "/clock/advance", b'{"seconds": -5}', "seconds"),
    ("POST", "/clock/advance", b'{"seconds": "NaN"}', "seconds"),
    ("POST", "/clock/advance", b'{"seconds": true}', "seconds"),
    ("POST", "/clock/advance", b"[3600]", "body"),
    ("POST", "/clock/advance", b"{not json", "body"),
    ("POST", "/clock/advance", b'{"seconds": 1, "minutes": 2}', "minutes"),
    ("POST", "/tasks/6a0b1f7e-3c2d-4e5f-8a9b-0c1d2e3f4a5b/complete?wait=maybe", None, "wait"),
])
def test_bad_admin_input_gets_a_json_400_naming_the_field(
        server: ServerThread, method: str, path: str, body: bytes | None,
        parameter: str) -> None:
    response = httpx.request(method, f"{server.base_url}{PREFIX}{path}", content=body)
    assert response.status_code == 400, response.text
    problem = response.json()["errors"][0]
    assert problem["code"] == "invalidAdminRequest" and problem["parameter"] == parameter
    assert problem["message"]


def test_bad_fail_bodies_are_rejected_before_the_task_is_touched(
        server_factory: ServerFactory) -> None:
    server = slow_server(server_factory)
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    task = avatar_task()
    client.post([task])
    for body in ({"code": "not a code"}, {"code": 42}, {"message": ""}, {"reason": "x"}):
        with pytest.raises(AdminError) as rejected:
            admin._call("POST", f"/tasks/{task['taskUUID']}/fail", json=body)
        assert rejected.value.status == 400
    assert admin.task(task["taskUUID"])["state"] == "processing"


def test_unknown_admin_paths_and_methods_get_json_errors(server: ServerThread) -> None:
    missing = httpx.get(f"{server.base_url}{PREFIX}/stubs")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "notFound"
    wrong = httpx.put(f"{server.base_url}{PREFIX}/journal")
    assert wrong.status_code == 405
    assert "DELETE, GET" in wrong.json()["errors"][0]["message"]


def test_openapi_is_served_and_documents_every_admin_route(server: ServerThread) -> None:
    served = AdminClient(server.base_url).openapi()
    assert served == json.loads(json.dumps(admin_openapi.spec()))
    assert served["openapi"].startswith("3.1")
    routed = {(PREFIX + route.path, method.lower())
              for route in admin_mount().routes
              for method in getattr(route, "methods", None) or ()
              if method != "HEAD" and "{rest" not in route.path}
    documented = {(path, method) for path, operations in served["paths"].items()
                  for method in operations}
    assert routed == documented


def test_health_counts_tasks_and_pending_deliveries(server: ServerThread) -> None:
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    client.run(avatar_task())
    health = admin.health()
    assert (health["status"], health["tasks"], health["processing"]) == ("ok", 1, 0)
    assert health["baseURL"] == server.base_url and health["deliveriesPending"] == 0



def test_websocket_frames_are_journaled_with_their_replies(server: ServerThread) -> None:
    from websockets.sync.client import connect

    admin = AdminClient(server.base_url)
    task = avatar_task()
    with connect(server.ws_url, max_size=None, open_timeout=10) as socket:
        socket.send(json.dumps([{"taskType": "authentication", "apiKey": "ws-key"}]))
        socket.recv(30)
        socket.send(json.dumps([task]))
        ack = json.loads(socket.recv(30))

    received = admin.journal(transport="websocket", kind="received")
    assert [e["taskTypes"] for e in received] == [["authentication"], ["videoInference"]]
    assert received[1]["apiKey"] == "ws-key" and received[1]["taskUUIDs"] == [task["taskUUID"]]
    assert received[1]["response"] == ack
    assert admin.journal(task_uuid=task["taskUUID"], kind="received") == received[1:]
    assert admin.count(transport="rest") == 0
