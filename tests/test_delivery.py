"""Webhooks and uploads: real receivers on 127.0.0.1, retries, signatures, the delivery log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest

from runware_mock.admin.client import AdminClient
from runware_mock.contract import schemas
from runware_mock.contract.receivers import Receiver
from runware_mock.delivery.backoff import retry_delay
from runware_mock.engine.randomness import Randomness
from runware_mock.runner import free_port
from runware_mock.settings import from_mapping
from tests.conftest import ServerFactory
from tests.helpers import RestClient, avatar_task

# Also against serve --workers 2: one emulator whichever worker a connection reaches.
pytestmark = pytest.mark.workers

FAST_RETRIES = {"delivery_backoff": 1.0, "time_scale": 0.01}


def run_and_collect(server_factory: ServerFactory, task: dict, **settings: object) -> tuple:
    server = server_factory(**settings)
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    body = client.run(task)
    return body, admin.wait_for_deliveries(task["taskUUID"]), admin


def test_webhook_answered_500_twice_then_200_gets_exactly_three_attempts(
        server_factory: ServerFactory) -> None:
    with Receiver(statuses=[500, 500], default=200) as hook:
        task = avatar_task(webhookURL=f"{hook.base_url}/hooks/runware?token=abc", includeCost=True)
        body, attempts, _ = run_and_collect(server_factory, task, **FAST_RETRIES)

    assert len(hook.requests) == 3
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["status"] for a in attempts] == [500, 500, 200]
    assert [a["outcome"] for a in attempts] == ["retrying", "retrying", "delivered"]
    assert {a["url"] for a in attempts} == {task["webhookURL"]}
    assert all(a["kind"] == "webhook" and a["method"] == "POST" for a in attempts)
    assert all(a["durationMs"] >= 0 and a["error"] is None for a in attempts)
    received = hook.requests
    assert all(r.path == "/hooks/runware?token=abc" for r in received)
    assert len({r.body for r in received}) == 1, "every retry sends the same body"
    assert attempts[0]["bodySha256"] == hashlib.sha256(received[0].body).hexdigest()
    assert attempts[0]["bodyBytes"] == len(received[0].body)
    assert received[0].headers["content-type"] == "application/json"
    assert "webhook-signature" not in received[0].headers, "unsigned unless a secret is set"
    assert json.loads(received[0].body) == {"data": body["data"]}
    schemas.validator("response.webhook").validate(json.loads(received[0].body))
    assert body["data"][0]["status"] == "success" and "cost" in body["data"][0]


def test_webhook_gives_up_after_the_configured_attempts(server_factory: ServerFactory) -> None:
    with Receiver(default=503) as hook:
        task = avatar_task(webhookURL=hook.url)
        _, attempts, _ = run_and_collect(server_factory, task, delivery_attempts=3,
                                         **FAST_RETRIES)
    assert len(hook.requests) == 3
    assert [a["outcome"] for a in attempts] == ["retrying", "retrying", "gave-up"]


def test_refused_connections_and_timeouts_are_logged_and_retried(
        server_factory: ServerFactory) -> None:
    closed_port = free_port()
    with Receiver(delay=3.0) as slow:
        refused = avatar_task(webhookURL=f"http://127.0.0.1:{closed_port}/hook")
        too_slow = avatar_task(webhookURL=slow.url)
        server = server_factory(delivery_attempts=2, delivery_timeout=0.3, **FAST_RETRIES)
        client, admin = RestClient(server.url), AdminClient(server.base_url)
        client.run(refused)
        client.run(too_slow)
        refused_attempts = admin.wait_for_deliveries(refused["taskUUID"])
        slow_attempts = admin.wait_for_deliveries(too_slow["taskUUID"])

    assert [a["outcome"] for a in refused_attempts] == ["retrying", "gave-up"]
    assert all(a["status"] is None and "Connect" in a["error"] for a in refused_attempts)
    assert [a["outcome"] for a in slow_attempts] == ["retrying", "gave-up"]
    assert all(a["status"] is None and "timeout" in a["error"] for a in slow_attempts)


@pytest.mark.parametrize("secret, key", [
    ("whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode(),
     b"0123456789abcdef0123456789abcdef"),
    ("plain-secret", b"plain-secret"),
])
def test_signed_webhooks_verify_with_an_independent_hmac(
        server_factory: ServerFactory, secret: str, key: bytes) -> None:
    with Receiver(statuses=[500], default=200) as hook:
        task = avatar_task(webhookURL=hook.url)
        _, attempts, _ = run_and_collect(server_factory, task, webhook_secret=secret,
                                         **FAST_RETRIES)
    assert [a["status"] for a in attempts] == [500, 200]
    for received in hook.requests:
        message_id = received.headers["webhook-id"]
        timestamp = received.headers["webhook-timestamp"]
        signed = f"{message_id}.{timestamp}.".encode() + received.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert received.headers["webhook-signature"] == f"v1,{expected}"
        assert timestamp.isdigit()
    assert len({r.headers["webhook-id"] for r in hook.requests}) == 1, "same id on a retry"
    tampered = b"{}" + hook.requests[0].body
    forged = hmac.new(key, f"{message_id}.{timestamp}.".encode() + tampered,
                      hashlib.sha256).digest()
    assert hook.requests[0].headers["webhook-signature"] != "v1," + base64.b64encode(
        forged).decode()


def test_upload_put_carries_the_video_bytes_then_the_webhook_follows(
        server_factory: ServerFactory) -> None:
    # One receiver for both, so the order they arrive in is observable.
    with Receiver(statuses=[500, 200, 200]) as sink:
        task = avatar_task(uploadEndpoint=f"{sink.base_url}/bucket/out.mp4?X-Signature=s",
                           webhookURL=f"{sink.base_url}/hook")
        body, attempts, admin = run_and_collect(server_factory, task, **FAST_RETRIES)
        sink.wait_for(3)

    video_url = body["data"][0]["videoURL"]
    downloaded = httpx.get(video_url).content
    puts = [r for r in sink.requests if r.method == "PUT"]
    assert [r.method for r in sink.requests] == ["PUT", "PUT", "POST"]
    assert len(downloaded) > 1000
    assert all(put.body == downloaded for put in puts)
    assert puts[0].path == "/bucket/out.mp4?X-Signature=s"
    assert puts[0].headers["content-type"] == "video/mp4"
    assert int(puts[0].headers["content-length"]) == len(downloaded)
    uploads = admin.deliveries(task["taskUUID"], kind="upload")
    assert [(a["status"], a["outcome"]) for a in uploads] == [(500, "retrying"),
                                                              (200, "delivered")]
    assert uploads[0]["bodySha256"] == hashlib.sha256(downloaded).hexdigest()
    assert [a["kind"] for a in attempts] == ["upload", "upload", "webhook"]
    assert json.loads(sink.requests[2].body)["data"][0]["videoURL"] == video_url


def test_failed_generation_posts_an_errors_body_and_uploads_nothing(
        server_factory: ServerFactory) -> None:
    with Receiver() as sink:
        task = avatar_task(webhookURL=f"{sink.base_url}/hook",
                           uploadEndpoint=f"{sink.base_url}/put")
        task["inputs"]["audio"] = base64.b64encode(b"not an audio track at all").decode()
        body, attempts, _ = run_and_collect(server_factory, task)
    assert body["errors"][0]["code"] == "invalidValueUploadFailed"
    assert [r.method for r in sink.requests] == ["POST"]
    sent = json.loads(sink.requests[0].body)
    assert set(sent) == {"errors"}
    schemas.validator("response.webhook").validate(sent)
    problem = sent["errors"][0]
    assert problem["code"] == "invalidValueUploadFailed"
    assert problem["taskUUID"] == task["taskUUID"] and problem["status"] == "error"
    assert [a["kind"] for a in attempts] == ["webhook"]


def test_urls_pointing_at_the_emulator_itself_are_refused_not_looped(
        server_factory: ServerFactory) -> None:
    server = server_factory(**FAST_RETRIES)
    port = server.settings.port
    task = avatar_task(webhookURL=f"http://localhost:{port}/v1",
                       uploadEndpoint=f"{server.base_url}/video/loop.mp4")
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    client.run(task)
    attempts = admin.wait_for_deliveries(task["taskUUID"])
    assert [(a["kind"], a["outcome"], a["attempt"]) for a in attempts] == [
        ("upload", "refused", 1), ("webhook", "refused", 1)]
    assert all("loop guard" in a["error"] and a["bodyBytes"] > 0 for a in attempts)
    # Nothing but the test's own requests reached the API.
    assert {entry["apiKey"] for entry in admin.journal()} == {"test-key"}


def test_retry_waits_run_on_the_simulated_clock(server_factory: ServerFactory) -> None:
    with Receiver(statuses=[500], default=200) as hook:
        # Retention outlasts the advance: the sweep may run at any time after the retry.
        server = server_factory(delivery_backoff=3600.0, task_retention=86400.0)
        client, admin = RestClient(server.url), AdminClient(server.base_url)
        task = avatar_task(webhookURL=hook.url)
        client.run(task)
        hook.wait_for(1)
        assert admin.task(task["taskUUID"])["deliveries"]["pending"] == 1
        assert len(hook.requests) == 1, "the retry waits for the clock"
        admin.advance(7200)
        attempts = admin.wait_for_deliveries(task["taskUUID"])
    assert [a["status"] for a in attempts] == [500, 200]


def test_an_advance_while_a_try_awaits_its_answer_counts_toward_the_retry_wait(
        server_factory: ServerFactory) -> None:
    # The receiver has the request a second before the emulator has its 500: the advance
    # comes in between.
    with Receiver(statuses=[500], default=200, delay=1.0) as hook:
        server = server_factory(delivery_backoff=3600.0, task_retention=86400.0)
        client, admin = RestClient(server.url), AdminClient(server.base_url)
        task = avatar_task(webhookURL=hook.url)
        client.run(task)
        hook.wait_for(1)
        admin.advance(7200)
        attempts = admin.wait_for_deliveries(task["taskUUID"])
    assert [a["status"] for a in attempts] == [500, 200]


def test_the_sweep_forgets_a_finished_task_after_its_retention_but_not_while_it_delivers(
        server_factory: ServerFactory) -> None:
    with Receiver(statuses=[500], default=200) as hook:
        server = server_factory(task_retention=60.0, sweep_interval=0.1, delivery_backoff=3600.0)
        client, admin = RestClient(server.url), AdminClient(server.base_url)
        quiet, delivering = avatar_task(), avatar_task(webhookURL=hook.url)
        client.run(quiet)
        client.run(delivering)
        hook.wait_for(1)  # answered 500: its retry waits at least 1,800 simulated seconds
        admin.advance(120)

        assert _forgotten(client, quiet["taskUUID"])
        assert client.poll(delivering["taskUUID"]).status_code == 200, "kept while it retries"
        assert admin.task(delivering["taskUUID"])["deliveries"]["pending"] == 1

        admin.advance(3600)
        hook.wait_for(2)
        assert _forgotten(client, delivering["taskUUID"])


def _forgotten(client: RestClient, task_uuid: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        errors = client.poll(task_uuid).json().get("errors", [])
        if errors and errors[0]["code"] == "taskNotFound":
            return True
        time.sleep(0.05)
    return False


def test_backoff_is_exponential_capped_and_seeded() -> None:
    def schedule(seed: int, key: str) -> list[float]:
        rng = Randomness(seed).stream("delivery-backoff", "webhook", key, 0)
        return [retry_delay(retry, 2.0, 20.0, rng) for retry in range(1, 7)]

    delays = schedule(7, "a")
    steps = [2.0, 4.0, 8.0, 16.0, 20.0, 20.0]
    assert all(step / 2 <= delay <= step for delay, step in zip(delays, steps, strict=True))
    assert delays == schedule(7, "a"), "same seed and key, same jitter"
    assert delays != schedule(7, "b") and delays != schedule(8, "a")


def test_a_malformed_whsec_secret_is_rejected_at_startup() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        from_mapping({"webhook_secret": "whsec_***"})
    assert from_mapping({"webhook_secret": "whsec_" + base64.b64encode(b"k").decode()})
