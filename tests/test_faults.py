"""Fault injection over real sockets: each fault of the catalog as a real client meets it, the
three ways to ask for one (header, admin API, profile), reproducibility from the seed, and no
lost task under a profile that hits half the requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from runware_mock.admin.client import AdminClient, AdminError
from runware_mock.contract.receivers import Receiver
from runware_mock.faults import load_profile
from runware_mock.fixtures import seed_examples
from runware_mock.runner import ServerThread
from runware_mock.settings import from_mapping
from tests.conftest import ServerFactory
from tests.helpers import MODEL, RestClient, avatar_task
from tests.sdks import (
    RUNWARE_SDK,
    check_runware_sdk_job,
    python_sdk_env,
    run_to_end,
    runware_sdk_command,
)
from tests.socket_client import PING, PONG, Socket

# Also against serve --workers 2: one emulator whichever worker a connection reaches.
pytestmark = pytest.mark.workers

KEY = "test-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}


def post(server: ServerThread, tasks: list[Any], fault: str | None = None,
         timeout: float = 30.0) -> httpx.Response:
    headers = dict(HEADERS, **({"X-Mock-Fault": fault} if fault else {}))
    return httpx.post(server.url, json=tasks, headers=headers, timeout=timeout)


def accepted(server: ServerThread, task_uuid: str) -> bool:
    return httpx.get(f"{server.base_url}/__admin/tasks/{task_uuid}").status_code == 200


def journal_faults(server: ServerThread, **filters: str) -> list[list[str]]:
    """The kinds of fault that hit each journaled request, oldest first."""
    entries = AdminClient(server.base_url).journal(**filters)
    return [[hit["kind"] for hit in entry["faults"]] for entry in entries]


def raw_exchange(server: ServerThread, tasks: list[Any], fault: str) -> socket.socket:
    """Send a REST request by hand, to see exactly what comes back on the wire."""
    body = json.dumps(tasks).encode()
    connection = socket.create_connection(("127.0.0.1", server.settings.port), timeout=10)
    connection.sendall(b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Authorization: Bearer " + KEY.encode() + b"\r\n"
                       b"X-Mock-Fault: " + fault.encode() + b"\r\n"
                       b"Content-Type: application/json\r\nConnection: close\r\n"
                       b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    return connection


def read_all(connection: socket.socket) -> list[bytes]:
    """Every recv until the server closes: the chunks as they arrived."""
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return chunks


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def split_http(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")[1:]
    return {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}, body


# --- REST transport faults ---------------------------------------------------------------------

@pytest.mark.parametrize(("status", "code", "retry_after"), [
    (429, "rateLimitExceeded", "2"), (500, "internalServerError", None),
    (502, "badGateway", None), (503, "serviceUnavailable", "1"), (504, "gatewayTimeout", None)])
def test_http_error_answers_the_status_with_runware_errors_and_accepts_nothing(
        server: ServerThread, status: int, code: str, retry_after: str | None) -> None:
    task = avatar_task()
    header = f"http_error; status={status}" + ("; retryAfter=2" if status == 429 else "")
    reply = post(server, [task], header)
    assert reply.status_code == status
    assert reply.headers.get("retry-after") == retry_after
    (problem,) = reply.json()["errors"]
    assert (problem["code"], problem["taskUUID"], problem["taskType"]) == (
        code, task["taskUUID"], "videoInference")
    assert not accepted(server, task["taskUUID"])
    assert post(server, [task]).status_code == 200  # the same task, resent, is taken


def test_latency_delays_a_processed_answer_past_the_client_timeout(server: ServerThread) -> None:
    task = avatar_task()
    with pytest.raises(httpx.ReadTimeout):
        post(server, [task], "latency; seconds=3", timeout=0.3)
    assert accepted(server, task["taskUUID"])
    assert post(server, [task]).json()["errors"][0]["code"] == "conflictTaskUUID"


def test_latency_from_a_distribution_is_drawn_and_journaled(server: ServerThread) -> None:
    for _ in range(5):
        assert post(server, PING, "latency; seconds=uniform:0.01:0.05").status_code == 200
    entries = AdminClient(server.base_url).journal(fault="latency")
    delays = [entry["faults"][0]["delaySeconds"] for entry in entries]
    assert len(delays) == 5 and all(0.01 <= delay <= 0.05 for delay in delays)
    assert len(set(delays)) > 1


def test_hang_answers_nothing_until_the_client_gives_up(server: ServerThread) -> None:
    task = avatar_task()
    with pytest.raises(httpx.ReadTimeout):
        post(server, [task], "hang; seconds=60", timeout=0.5)
    assert not accepted(server, task["taskUUID"])
    admin = AdminClient(server.base_url)
    wait_for(lambda: admin.count(fault="hang") == 1, "the hang to end when the client left")
    (entry,) = admin.journal(fault="hang")
    assert entry["status"] is None and entry["response"] is None


def test_reset_aborts_the_connection_with_an_rst(server: ServerThread) -> None:
    connection = raw_exchange(server, PING, "reset")
    with pytest.raises(ConnectionResetError):
        read_all(connection)
    connection.close()


def test_empty_closes_without_a_byte(server: ServerThread) -> None:
    task = avatar_task()
    connection = raw_exchange(server, [task], "empty")
    assert read_all(connection) == []
    connection.close()
    with pytest.raises(httpx.RemoteProtocolError):
        post(server, [task], "empty")
    assert not accepted(server, task["taskUUID"])


def test_malformed_answers_invalid_json_for_a_processed_request(server: ServerThread) -> None:
    task = avatar_task()
    reply = post(server, [task], "malformed")
    assert reply.status_code == 200
    with pytest.raises(ValueError):
        reply.json()
    assert accepted(server, task["taskUUID"])


def test_truncated_promises_the_whole_body_and_sends_part(server: ServerThread) -> None:
    connection = raw_exchange(server, PING, "truncated; fraction=0.5")
    headers, body = split_http(b"".join(read_all(connection)))
    connection.close()
    full = len(json.dumps(PONG, separators=(",", ":")))
    assert int(headers["content-length"]) == full and len(body) == full // 2
    with pytest.raises(httpx.RemoteProtocolError):
        post(server, PING, "truncated")


def test_dribble_sends_the_body_a_few_bytes_at_a_time(server: ServerThread) -> None:
    connection = raw_exchange(server, PING, "dribble; chunk=4; interval=0.05")
    chunks = read_all(connection)
    connection.close()
    _, body = split_http(b"".join(chunks))
    assert json.loads(body) == PONG
    assert len(chunks) >= 5  # 42 bytes in 4-byte writes, 50 ms apart


def test_a_malformed_header_gets_a_clear_error(server: ServerThread) -> None:
    for header, parameter in [("bogus", "kind"), ("http_error; status=404", "status"),
                              ("http_error; colour=red", "colour"), ("{not json", "x-mock-fault"),
                              ("latency; seconds=soon", "seconds"), ("reset; times=0", "times")]:
        reply = post(server, PING, header)
        assert reply.status_code == 400, header
        (problem,) = reply.json()["errors"]
        assert (problem["code"], problem["parameter"]) == ("invalidFaultHeader", parameter)


# --- WebSocket transport faults ----------------------------------------------------------------

class HeaderSocket(Socket):
    """The WebSocket test client, with headers on its handshake."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self._closing = contextlib.ExitStack()
        self.connection = self._closing.enter_context(
            connect(url, max_size=None, open_timeout=10, additional_headers=headers))


def fault_socket(server: ServerThread, opened: list[Socket], fault: str) -> Socket:
    """A socket whose handshake carries X-Mock-Fault, authenticated."""
    connection = HeaderSocket(server.ws_url, headers={"X-Mock-Fault": fault})
    opened.append(connection)
    connection.authenticate()
    return connection


@pytest.fixture
def sockets() -> Iterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for each in opened:
        each.close()


def test_ws_http_error_answers_an_error_frame_and_keeps_the_socket(
        server: ServerThread, sockets: list[Socket]) -> None:
    connection = fault_socket(server, sockets,
                              "http_error; status=503; taskType=videoInference; times=1")
    task = avatar_task()
    (problem,) = connection.ask([task])["errors"]
    assert (problem["code"], problem["taskUUID"]) == ("serviceUnavailable", task["taskUUID"])
    assert not accepted(server, task["taskUUID"])
    assert connection.ask([task])["data"][0]["taskUUID"] == task["taskUUID"]  # one-shot


def test_ws_close_mid_task_then_the_session_resume_gets_the_result(
        server_factory: ServerFactory, sockets: list[Socket]) -> None:
    server = server_factory(latency="fixed:3600")
    connection = HeaderSocket(server.ws_url,
                              headers={"X-Mock-Fault": "ws_close; code=4000; times=1"})
    sockets.append(connection)
    session = connection.authenticate()
    task = avatar_task()
    assert connection.ask([task])["data"] == [{"taskType": "videoInference",
                                               "taskUUID": task["taskUUID"]}]
    with pytest.raises(ConnectionClosed) as closed:
        connection.read(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
    AdminClient(server.base_url).complete(task["taskUUID"])
    again = Socket(server.ws_url)
    sockets.append(again)
    assert again.authenticate(session=session) == session
    (item,) = again.read()["data"]  # replayed: it was made while no socket was attached
    assert (item["taskUUID"], item["status"]) == (task["taskUUID"], "success")


def test_ws_no_pong_withholds_the_pong(server: ServerThread, sockets: list[Socket]) -> None:
    connection = fault_socket(server, sockets, "ws_no_pong; taskType=ping; times=1")
    connection.send(PING)  # swallowed
    assert connection.ask(PING) == PONG
    assert connection.nothing_pending()
    assert journal_faults(server, transport="websocket", task_type="ping") == [
        ["ws_no_pong"], [], []]


def test_ws_latency_holds_the_reply_frame(server: ServerThread, sockets: list[Socket]) -> None:
    connection = fault_socket(server, sockets, "latency; seconds=2; taskType=ping; times=1")
    connection.send(PING)
    with pytest.raises(TimeoutError):
        connection.read(timeout=0.3)
    assert connection.read() == PONG


def test_ws_duplicate_sends_the_reply_twice(server_factory: ServerFactory,
                                           sockets: list[Socket]) -> None:
    # The task stays processing, so its pushed result cannot come before the ping's answer.
    server = server_factory(latency="fixed:600")
    connection = fault_socket(server, sockets, "ws_duplicate; taskType=videoInference")
    task = avatar_task()
    ack = connection.ask([task])
    assert connection.read() == ack
    assert connection.nothing_pending()


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
def test_ws_reply_frame_spoiled_after_processing(server: ServerThread, sockets: list[Socket],
                                                 fault: str) -> None:
    connection = fault_socket(server, sockets, f"{fault}; taskType=videoInference")
    task = avatar_task()
    connection.send([task])
    text = connection.connection.recv(30)
    with pytest.raises(ValueError):
        json.loads(text)
    assert accepted(server, task["taskUUID"])


def test_ws_reset_and_hang_leave_the_frame_unhandled(server: ServerThread,
                                                    sockets: list[Socket]) -> None:
    hanging = fault_socket(server, sockets, "hang; taskType=videoInference")
    ignored = avatar_task()
    hanging.send([ignored])
    assert hanging.nothing_pending() and not accepted(server, ignored["taskUUID"])
    resetting = fault_socket(server, sockets, "reset; taskType=videoInference")
    lost = avatar_task()
    resetting.send([lost])
    with pytest.raises(ConnectionClosed) as closed:
        resetting.read(timeout=10)
    assert closed.value.rcvd is None  # no close frame: the TCP connection was reset
    assert not accepted(server, lost["taskUUID"])


def test_ws_bad_fault_header_gets_an_error_frame_and_close(server: ServerThread,
                                                          sockets: list[Socket]) -> None:
    connection = HeaderSocket(server.ws_url, headers={"X-Mock-Fault": "ws_close; code=1006"})
    sockets.append(connection)
    (problem,) = connection.read()["errors"]
    assert (problem["code"], problem["parameter"]) == ("invalidFaultHeader", "code")
    with pytest.raises(ConnectionClosed) as closed:
        connection.read(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


# --- task faults ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "status"), [
    ("timeoutProvider", 400), ("inferenceError", 400), ("insufficientCredits", 402)])
def test_task_error_fails_the_generation_with_the_code(server: ServerThread, code: str,
                                                       status: int) -> None:
    task = avatar_task()
    assert post(server, [task], f"task_error; code={code}").status_code == 200
    client = RestClient(server.url)
    client.wait(task["taskUUID"])
    reply = client.poll(task["taskUUID"])
    assert reply.status_code == status
    (problem,) = reply.json()["errors"]
    assert (problem["code"], problem["status"], problem["taskUUID"]) == (
        code, "error", task["taskUUID"])


def test_task_error_on_some_results_lets_the_others_succeed(server: ServerThread) -> None:
    task = avatar_task(numberResults=3)
    assert post(server, [task], "task_error; results=[1]").status_code == 200
    body = RestClient(server.url).wait(task["taskUUID"])
    assert [item["status"] for item in body["data"]] == ["success", "success"]
    assert [problem["code"] for problem in body["errors"]] == ["inferenceError"]


def test_content_policy_violation_needs_safety_checking(server: ServerThread) -> None:
    admin = AdminClient(server.base_url)
    admin.add_fault("task_error", code="contentPolicyViolation")
    client = RestClient(server.url)
    unchecked = avatar_task()
    assert "errors" not in client.run(unchecked)
    checked = avatar_task(safety={"checkContent": True})
    assert client.run(checked)["errors"][0]["code"] == "contentPolicyViolation"
    (rule,) = admin.faults()
    assert (rule["matched"], rule["fired"]) == (1, 1)


def test_never_finish_stays_processing_until_completed_by_the_admin(
        server: ServerThread) -> None:
    task = avatar_task()
    assert post(server, [task], "never_finish").status_code == 200
    admin = AdminClient(server.base_url)
    admin.advance(10 * 86400)
    assert RestClient(server.url).poll(task["taskUUID"]).json()["data"][0]["status"] == \
        "processing"
    assert admin.complete(task["taskUUID"])["state"] == "success"


def test_slow_task_stretches_the_latency(server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:10")
    slow, normal = avatar_task(), avatar_task()
    assert post(server, [slow], "slow_task; factor=100; seconds=5").status_code == 200
    assert post(server, [normal]).status_code == 200
    admin = AdminClient(server.base_url)
    wait_for(lambda: admin.task(slow["taskUUID"])["generations"][0]["readyInSeconds"]
             is not None, "the slow task's latency to be drawn")
    wait_for(lambda: admin.task(normal["taskUUID"])["generations"][0]["readyInSeconds"]
             is not None, "the normal task's latency to be drawn")
    slow_ready = admin.task(slow["taskUUID"])["generations"][0]["readyInSeconds"]
    normal_ready = admin.task(normal["taskUUID"])["generations"][0]["readyInSeconds"]
    assert normal_ready <= 10 < 900 < slow_ready <= 1005


# --- delivery faults -----------------------------------------------------------------------------

def webhook_run(server: ServerThread, receiver: Receiver, fault: str,
                **task_fields: Any) -> dict[str, Any]:
    task = avatar_task(webhookURL=f"{receiver.base_url}/hook", **task_fields)
    assert post(server, [task], fault).status_code == 200
    return task


def test_webhook_skip_sends_nothing_and_logs_it(server: ServerThread) -> None:
    with Receiver() as receiver:
        task = webhook_run(server, receiver, "webhook_skip")
        attempts = AdminClient(server.base_url).wait_for_deliveries(task["taskUUID"])
        assert [(a["outcome"], a["fault"]) for a in attempts] == [("skipped", "webhook_skip")]
        assert receiver.requests == []


def test_webhook_duplicate_delivers_the_same_body_twice(server: ServerThread) -> None:
    with Receiver() as receiver:
        task = webhook_run(server, receiver, "webhook_duplicate; copies=2")
        AdminClient(server.base_url).wait_for_deliveries(task["taskUUID"])
        first, second = receiver.wait_for(2)
        assert first.body == second.body
        assert json.loads(first.body)["data"][0]["taskUUID"] == task["taskUUID"]


def test_webhook_delay_waits_on_the_simulated_clock(server: ServerThread) -> None:
    admin = AdminClient(server.base_url)
    with Receiver() as receiver:
        task = webhook_run(server, receiver, "webhook_delay; seconds=600")
        wait_for(lambda: admin.task(task["taskUUID"])["state"] == "success", "the render")
        assert admin.deliveries(task["taskUUID"]) == [] and receiver.requests == []
        admin.advance(600)  # within the task retention: the sweep keeps it
        (attempt,) = admin.wait_for_deliveries(task["taskUUID"])
        assert (attempt["outcome"], attempt["fault"]) == ("delivered", "webhook_delay")
        assert len(receiver.wait_for(1)) == 1


@pytest.mark.one_process
def test_webhook_reorder_sends_the_results_in_reverse(server: ServerThread) -> None:
    with Receiver() as receiver:
        task = webhook_run(server, receiver, "webhook_reorder", numberResults=3)
        AdminClient(server.base_url).wait_for_deliveries(task["taskUUID"])
        polled = RestClient(server.url).poll(task["taskUUID"]).json()["data"]
        finished_order = sorted(polled, key=lambda item: finish_time(server, task, item))
        sent = [json.loads(r.body)["data"][0]["seed"] for r in receiver.wait_for(3)]
        assert sent == [item["seed"] for item in reversed(finished_order)]


def finish_time(server: ServerThread, task: dict[str, Any], item: dict[str, Any]) -> float:
    """When the generation with this seed finished, from the engine."""
    found = server.services.engine.find(task["taskUUID"])
    (generation,) = [g for g in found.generations if g.seed == item["seed"]]
    return float(generation.finished_at)


def test_upload_fail_fails_the_first_tries_without_sending(
        server_factory: ServerFactory) -> None:
    server = server_factory(delivery_backoff=0.0)
    with Receiver() as receiver:
        task = avatar_task(uploadEndpoint=f"{receiver.base_url}/put")
        assert post(server, [task], "upload_fail; failures=2").status_code == 200
        attempts = AdminClient(server.base_url).wait_for_deliveries(task["taskUUID"])
        assert [(a["attempt"], a["outcome"], a["fault"]) for a in attempts] == [
            (1, "retrying", "upload_fail"), (2, "retrying", "upload_fail"),
            (3, "delivered", "upload_fail")]
        assert [r.method for r in receiver.wait_for(1)] == ["PUT"]


# --- control: header > admin > profile; nth, times, probability -------------------------------

def write_profile(tmp_path: Path, rules: list[dict[str, Any]]) -> str:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"rules": rules}))
    return str(path)


def test_the_most_specific_rule_wins(server_factory: ServerFactory, tmp_path: Path) -> None:
    server = server_factory(faults=write_profile(tmp_path, [
        {"kind": "http_error", "status": 503, "taskType": "ping"}]))
    assert post(server, PING).status_code == 503
    admin = AdminClient(server.base_url)
    rule = admin.add_fault("http_error", status=429, taskType="ping")
    assert post(server, PING).status_code == 429
    assert post(server, PING, "http_error; status=500").status_code == 500
    assert [(r["id"], r["source"], r["fired"]) for r in admin.faults()] == [
        (rule["id"], "admin", 1), ("profile-1", "profile", 1)]
    admin.remove_fault(rule["id"])
    assert post(server, PING).status_code == 503
    assert admin.clear_faults() == 1
    assert post(server, PING).status_code == 200


def test_nth_and_times_make_a_one_shot_fault_on_the_chosen_request(
        server: ServerThread) -> None:
    AdminClient(server.base_url).add_fault("http_error", status=503, taskType="ping", nth=2,
                                           times=1)
    assert [post(server, PING).status_code for _ in range(4)] == [200, 503, 200, 200]


def test_rules_match_on_task_uuid_model_api_key_and_transport(server: ServerThread) -> None:
    admin = AdminClient(server.base_url)
    target = avatar_task(model="klingai:avatar@2.0-pro")
    admin.add_fault("http_error", status=502, taskUUID=target["taskUUID"].upper())
    admin.add_fault("http_error", status=504, model="klingai:avatar@2.0-pro", apiKey="other")
    admin.add_fault("http_error", status=500, transport="websocket")
    assert post(server, [avatar_task()]).status_code == 200
    assert post(server, [target]).status_code == 502
    other = httpx.post(server.url, json=[avatar_task(model="klingai:avatar@2.0-pro")],
                       headers={"Authorization": "Bearer other"})
    assert other.status_code == 504


def test_admin_refuses_bad_rules_naming_the_field(server: ServerThread) -> None:
    admin = AdminClient(server.base_url)
    for fields, parameter in [({"kind": "nope"}, "kind"), ({"kind": "reset", "probability": 2},
                                                           "probability"),
                              ({"kind": "empty", "transport": "websocket"}, "transport"),
                              ({"kind": "task_error", "results": [-1]}, "results"),
                              ({"kind": "reset", "times": "often"}, "times")]:
        reply = httpx.post(f"{server.base_url}/__admin/faults", json=fields)
        assert reply.status_code == 400, fields
        (problem,) = reply.json()["errors"]
        assert (problem["code"], problem["parameter"]) == ("invalidAdminRequest", parameter)
    with pytest.raises(AdminError) as missing:
        admin.remove_fault("rule-99")
    assert (missing.value.status, missing.value.code) == (404, "faultRuleNotFound")
    assert admin.faults() == []
    paths = admin.openapi()["paths"]
    assert set(paths["/__admin/faults"]) == {"get", "post", "delete"}
    assert "delete" in paths["/__admin/faults/{id}"]


@pytest.mark.parametrize("name", ["flaky-network", "overloaded", "provider-timeouts", "chaos"])
def test_shipped_profiles_load_by_name(name: str) -> None:
    settings = from_mapping({"faults": name})
    rules = load_profile(settings.faults)
    assert rules and all(rule.source == "profile" for rule in rules)


def test_a_bad_profile_stops_the_start_naming_rule_and_field(tmp_path: Path) -> None:
    path = write_profile(tmp_path, [{"kind": "reset"}, {"kind": "latency", "seconds": -1}])
    with pytest.raises(ValueError, match=r"rule 2: seconds must be"):
        from_mapping({"faults": path})
    with pytest.raises(ValueError, match="shipped profiles: chaos"):
        from_mapping({"faults": "no-such-profile"})


# --- reproducibility ----------------------------------------------------------------------------

def seeded_run(server_factory: ServerFactory, tmp_path: Path, seed: int) -> list[list[str]]:
    """The same traffic (taskUUIDs fixed) under a 30 % fault rate: which request got what."""
    server = server_factory(seed=seed, faults=write_profile(tmp_path, [
        {"kind": "http_error", "status": 503, "probability": 0.1},
        {"kind": "malformed", "probability": 0.1},
        {"kind": "latency", "seconds": "uniform:0:0.01", "probability": 0.1},
        {"kind": "task_error", "code": "timeoutProvider", "probability": 0.3}]))
    for number in range(40):
        task = avatar_task(taskUUID=str(uuid.UUID(int=number + 1, version=4)),
                           inputs={"image": "not-yet-uploaded", "audio": "not-yet-uploaded"})
        post(server, [task])
        post(server, [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
    return journal_faults(server)


def test_the_same_seed_and_traffic_give_the_same_faults(server_factory: ServerFactory,
                                                        tmp_path: Path) -> None:
    first = seeded_run(server_factory, tmp_path, seed=7)
    assert first == seeded_run(server_factory, tmp_path, seed=7)
    hit = sum(1 for kinds in first if kinds)
    assert 12 <= hit <= 40  # about 30 % of the 80 requests, plus task faults on submits
    assert first != seeded_run(server_factory, tmp_path, seed=8)


# --- no lost task under chaos -------------------------------------------------------------------

CHAOS_TASKS = 500
RETRYABLE = (429, 500, 502, 503, 504)


async def submit_until_accepted(client: httpx.AsyncClient, url: str,
                                task: dict[str, Any]) -> int:
    """Resend the same task until it is acked or known (conflict); returns the tries."""
    for tries in range(1, 200):
        try:
            reply = await client.post(url, json=[task])
            reply.json()
        except (httpx.TransportError, ValueError):
            continue  # dropped or spoiled: it may or may not have been taken, so resend
        if reply.status_code == 200 or reply.status_code == 409:
            return tries
        assert reply.status_code in RETRYABLE, reply.text
    raise AssertionError(f"task {task['taskUUID']} never accepted")


async def poll_until_terminal(client: httpx.AsyncClient, url: str,
                              task_uuid: str) -> list[str]:
    """The statuses getResponse reports once no generation is processing."""
    poll = [{"taskType": "getResponse", "taskUUID": task_uuid}]
    while True:
        try:
            reply = await client.post(url, json=poll)
            body = reply.json()
        except (httpx.TransportError, ValueError):
            continue
        items = [item for item in [*body.get("data", []), *body.get("errors", [])]
                 if item.get("taskUUID") == task_uuid and "status" in item]
        if items and all(item["status"] != "processing" for item in items):
            return sorted(item["status"] for item in items)
        assert reply.status_code in (200, *RETRYABLE) or items, reply.text
        await asyncio.sleep(0.25)  # a render takes about that: polling faster only adds load


async def chaos_client(server: ServerThread, tasks: list[dict[str, Any]]) -> list[list[str]]:
    limit = asyncio.Semaphore(32)

    async def one(task: dict[str, Any]) -> list[str]:
        async with limit:
            await submit_until_accepted(client, server.url, task)
        async with limit:
            return await poll_until_terminal(client, server.url, task["taskUUID"])

    async with httpx.AsyncClient(headers=HEADERS, timeout=10,
                                 limits=httpx.Limits(max_connections=32)) as client:
        return await asyncio.gather(*(one(task) for task in tasks))


def test_no_accepted_task_is_lost_when_half_the_requests_fail(
        server_factory: ServerFactory) -> None:
    server = server_factory(faults="chaos", max_long_side=16, render_workers=4)
    template = {key: value for key, value in seed_examples()[0]["request"].items()
                if key != "positivePrompt"}
    tasks = [dict(template, taskUUID=str(uuid.UUID(int=n + 1, version=4)))
             for n in range(CHAOS_TASKS)]
    outcomes = asyncio.run(chaos_client(server, tasks))
    assert len(outcomes) == CHAOS_TASKS
    assert all(outcome in (["success"], ["error"]) for outcome in outcomes)
    admin = AdminClient(server.base_url)
    held = admin.tasks()
    assert {task["taskUUID"] for task in held} == {task["taskUUID"] for task in tasks}
    assert all(task["state"] in ("success", "error") for task in held)
    requests = admin.count()
    hit = admin.count(fault="any")
    assert 0.4 <= hit / requests <= 0.65, (hit, requests)
    assert admin.count(fault="reset") and admin.count(fault="truncated")
    assert sum(outcome == ["success"] for outcome in outcomes) > CHAOS_TASKS // 2


# --- metrics ------------------------------------------------------------------------------------

def scrape(server: ServerThread) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{server.base_url}/metrics").text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_count_requests_tasks_deliveries_and_faults(server: ServerThread) -> None:
    with Receiver() as receiver:
        task = avatar_task(webhookURL=f"{receiver.base_url}/hook")
        assert post(server, [task], "task_error; code=timeoutProvider").status_code == 200
        AdminClient(server.base_url).wait_for_deliveries(task["taskUUID"])
    assert post(server, PING, "http_error; status=503").status_code == 503
    assert post(server, PING).status_code == 200
    metrics = scrape(server)
    assert metrics[("runware_mock_requests_total", (("kind", "request"),
                                                    ("transport", "rest")))] == 3
    assert metrics[("runware_mock_tasks", (("state", "error"),))] == 1
    assert metrics[("runware_mock_tasks", (("state", "processing"),))] == 0
    assert metrics[("runware_mock_delivery_attempts_total", (("kind", "webhook"),
                                                             ("outcome", "delivered")))] == 1
    fired = {labels: value for (name, labels), value in metrics.items()
             if name == "runware_mock_faults_injected_total"}
    assert fired == {(("kind", "http_error"), ("scope", "transport"), ("source", "header")): 1,
                     (("kind", "task_error"), ("scope", "task"), ("source", "header")): 1}


# --- official SDKs: retry and reconnect ---------------------------------------------------------

@pytest.fixture(scope="module")
def runware_sdk() -> Path:
    return python_sdk_env(RUNWARE_SDK)


@pytest.mark.one_process
def test_runware_sdk_over_rest_retries_a_one_shot_503_and_succeeds(
        server: ServerThread, runware_sdk: Path, tmp_path: Path) -> None:
    admin = AdminClient(server.base_url)
    admin.add_fault("http_error", status=503, model=MODEL, times=1)
    task_uuid = str(uuid.uuid4())
    done = run_to_end(runware_sdk_command(runware_sdk, "rest", server.ws_url, server.url,
                                          task_uuid), tmp_path)
    check_runware_sdk_job(server, done, task_uuid, tmp_path)
    submits = admin.journal(task_uuid=task_uuid, task_type="videoInference")
    assert [(entry["status"], journal_kinds(entry)) for entry in submits] == [
        (503, ["http_error"]), (200, [])]


@pytest.mark.one_process
def test_runware_sdk_over_websocket_survives_a_close_mid_task(
        server_factory: ServerFactory, runware_sdk: Path, tmp_path: Path) -> None:
    server = server_factory(latency="fixed:2")
    admin = AdminClient(server.base_url)
    admin.add_fault("ws_close", code=1011, times=1)
    task_uuid = str(uuid.uuid4())
    done = run_to_end(runware_sdk_command(runware_sdk, "websocket", server.ws_url, server.url,
                                          task_uuid), tmp_path)
    check_runware_sdk_job(server, done, task_uuid, tmp_path)
    first, resumed, *_ = done["resumes"]
    assert first is None and resumed is not None  # it reconnected and asked to resume
    (rule,) = admin.faults()
    assert rule["fired"] == 1


def journal_kinds(entry: dict[str, Any]) -> list[str]:
    return [hit["kind"] for hit in entry["faults"]]
