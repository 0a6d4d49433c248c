"""The proxy's drift checks, cassette and replay matching, in process (tests/test_proxy.py runs
them over real sockets against a drifted fake upstream)."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx

from runware_mock.proxy.assembly import create_proxy_app
from runware_mock.proxy.drift import Outcome, outcome, outcome_drifts, schema_drifts, shape_drifts
from runware_mock.proxy.observer import Observer
from runware_mock.proxy.parsed_answer import read_answer
from runware_mock.proxy.report import DriftReport
from runware_mock.proxy.shadow import EmulatedAnswer
from runware_mock.replay.cassette import CassetteWriter, Recording, media_name, redacted
from runware_mock.replay.layer import request_key
from runware_mock.settings import Settings

UUID = "3f0c6a6e-4b1f-4c1e-9a43-0d6f7f2b9d10"
REFUSAL = {"code": "unsupportedOutputFormat", "parameter": "outputFormat",
           "message": "Unsupported outputFormat", "allowedValues": ["JPG", "PNG", "WEBP"],
           "taskUUID": UUID}
TASK = {"taskType": "imageInference", "taskUUID": UUID, "outputFormat": "GIF"}


def test_acceptance_on_one_side_only_is_a_false_refusal_or_acceptance() -> None:
    [refusal] = outcome_drifts(TASK, Outcome(None), Outcome(REFUSAL))
    assert refusal.kind == "false refusal" and "outputFormat" in refusal.key
    assert "'GIF'" in refusal.detail and "JPG" in refusal.detail
    [acceptance] = outcome_drifts(TASK, Outcome(REFUSAL), Outcome(None))
    assert acceptance.kind == "false acceptance"
    renamed = {**REFUSAL, "code": "invalidOutputFormat"}
    [code] = outcome_drifts(TASK, Outcome(renamed), Outcome(REFUSAL))
    assert code.kind == "error code" and "invalidOutputFormat" in code.key
    assert outcome_drifts(TASK, Outcome(REFUSAL), Outcome(REFUSAL)) == []


def test_a_failed_generation_is_an_accepted_task_not_a_refusal() -> None:
    answer = read_answer(200, "application/json", json.dumps({"errors": [
        {"code": "generationFailed", "message": "x", "taskUUID": UUID, "status": "error"}]})
        .encode())
    assert answer is not None and outcome(answer, UUID) == Outcome(None)


def test_fields_on_one_side_types_and_cost_are_told_apart() -> None:
    upstream = {"taskType": "imageInference", "imageURL": "u", "seed": "7", "extra": 1,
                "nested": {"a": 1, "b": [{"c": 1}]}}
    emulated = {"taskType": "imageInference", "imageURL": "u", "seed": 7, "cost": 0.1,
                "nested": {"a": 1.5, "b": [{"c": 1, "d": 2}]}}
    found = {drift.kind: drift.key for drift in shape_drifts(upstream, emulated, "w")}
    assert found == {"extra field": "w: extra (upstream only)",
                     "type": "w: seed (string upstream, number emulated)",
                     "cost presence": "w: cost (emulator only)",
                     "missing field": "w: nested.b[].d (emulator only)"}


def test_the_response_schema_names_an_unknown_field_as_the_comparison_does() -> None:
    item = {"taskType": "videoInference", "taskUUID": UUID, "status": "success",
            "videoUUID": UUID, "videoURL": "https://x/v.mp4", "seed": 1, "duration": 5}
    [drift] = schema_drifts(item, "videoInference success")
    emulated = {key: value for key, value in item.items() if key != "duration"}
    [compared] = shape_drifts(item, emulated, "videoInference success")
    assert drift.kind == compared.kind == "extra field" and drift.key == compared.key


def test_a_stream_is_read_event_by_event() -> None:
    body = (b'data: {"taskType":"textInference","taskUUID":"u","delta":{"text":"a"}}\n\n'
            b'data: {"errors":[{"code":"timeoutProvider","message":"m"}]}\n\ndata: [DONE]\n\n')
    answer = read_answer(200, "text/event-stream; charset=utf-8", body)
    assert answer is not None and answer.streamed
    assert [item["delta"] for item in answer.items] == [{"text": "a"}]
    assert [problem["code"] for problem in answer.errors] == ["timeoutProvider"]


def test_the_report_lists_each_key_once_false_refusals_first(tmp_path: Path) -> None:
    report = DriftReport(tmp_path / "drift.jsonl")
    extra = shape_drifts({"x": 1}, {}, "w")
    refusal = outcome_drifts(TASK, Outcome(None), Outcome(REFUSAL))
    report.add(extra)
    report.add(extra + refusal)
    report.save()
    lines = [json.loads(line) for line in (tmp_path / "drift.jsonl").read_text().splitlines()]
    assert [(line["kind"], line["count"]) for line in lines] == [("false refusal", 1),
                                                                 ("extra field", 2)]
    assert report.table().splitlines()[2].startswith("false refusal")


def test_secrets_are_redacted_and_requests_match_without_per_request_values() -> None:
    tasks = [{"taskType": "authentication", "apiKey": "k"}, {"nested": {"webhookToken": "t"}}]
    assert redacted(tasks) == [{"taskType": "authentication", "apiKey": "[redacted]"},
                               {"nested": {"webhookToken": "[redacted]"}}]
    first = [{"taskType": "imageInference", "taskUUID": "a", "positivePrompt": "p"}]
    second = [{"taskType": "imageInference", "taskUUID": "b", "positivePrompt": "p"}]
    assert request_key(first) == request_key(second)
    assert request_key([{**second[0], "positivePrompt": "q"}]) != request_key(first)
    poll = [{"taskType": "getResponse", "taskUUID": "fresh"}]
    assert request_key(poll, {"fresh": "recorded"}) == request_key(
        [{"taskType": "getResponse", "taskUUID": "recorded"}])
    assert request_key([{"taskType": "ping", "ping": True}]) is None  # the emulator answers


def test_the_cassette_keeps_to_its_size_and_names_media_by_content(tmp_path: Path) -> None:
    assert media_name(b"abc", "https://h/x.mp4", "") == media_name(b"abc", "https://o/y.mp4", "")
    assert media_name(b"abc", "https://h/x", "image/png").endswith(".png")
    writer = CassetteWriter(tmp_path, max_bytes=2000)
    recording = Recording("rest", [{"taskType": "ping"}], 200, "application/json", "{}")
    assert writer.write(recording, {"a.bin": b"x" * 100}, ["secret"])
    assert not writer.write(recording, {"b.bin": b"x" * 5000}, [])
    assert not (tmp_path / "media" / "b.bin").exists()
    assert len((tmp_path / "cassette.jsonl").read_text().splitlines()) == 1


def test_the_drift_report_asks_for_the_admin_token() -> None:
    """Its examples hold the requests' content: --admin-token guards it as the admin API."""
    settings = Settings(admin_token="admin-secret", upstream="http://127.0.0.1:9/v1")
    app = create_proxy_app(settings, DriftReport(None))

    async def statuses() -> list[int]:
        found = []
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            for path in ("/__admin/drift", "/__admin/ui/drift"):
                found.append((await client.get(path)).status_code)
                found.append((await client.get(path, headers={
                    "X-Admin-Token": "admin-secret"})).status_code)
            found.append((await client.get("/__admin/drift", headers={
                "X-Admin-Token": "admin-secret", "Origin": "http://attacker.example"}
                                           )).status_code)
        return found

    assert asyncio.run(statuses()) == [401, 200, 401, 200, 403]


def test_an_upstream_that_cannot_be_reached_is_a_bad_gateway() -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = Settings(upstream=f"http://127.0.0.1:{port}/v1")
    app = create_proxy_app(settings, DriftReport(None))

    async def answer() -> httpx.Response:
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            return await client.post("/v1", json=[{"taskType": "ping", "ping": True}])

    response = asyncio.run(answer())
    assert response.status_code == 502
    assert response.json()["errors"][0]["code"] == "badGateway"


def test_a_poll_answered_as_before_counts_its_drifts_without_asking_the_emulator() -> None:
    poll = json.dumps([{"taskType": "getResponse", "taskUUID": UUID}]).encode()
    upstream = json.dumps({"data": [{"taskType": "imageInference", "taskUUID": UUID,
                                     "status": "success", "imageUUID": UUID, "imageURL": "u",
                                     "extra": 1}]})
    emulated = json.dumps({"data": [{"taskType": "imageInference", "taskUUID": UUID,
                                     "status": "success", "imageUUID": UUID,
                                     "imageURL": "e"}]}).encode()
    asked = []

    async def ask(body: bytes, api_key: str | None) -> EmulatedAnswer:
        asked.append(body)
        return EmulatedAnswer(200, "application/json", emulated)

    async def finished(task_uuid: str) -> None:
        return None

    async def three_polls(answers: list[str]) -> DriftReport:
        report = DriftReport(None)
        observer = Observer(ask, finished, report, None)
        worker = asyncio.create_task(observer.run())
        for answer in answers:
            observer.rest("Bearer k", poll, 200, {"content-type": "application/json"},
                          answer.encode())
        await observer.settled()
        worker.cancel()
        return report

    report = asyncio.run(three_polls([upstream] * 3))
    assert [(entry.drift.kind, entry.count) for entry in report.entries()] == [
        ("extra field", 3)]
    assert len(asked) == 1
    changed = upstream.replace('"u"', '"v"')  # another answer: asked again
    asyncio.run(three_polls([upstream, changed]))
    assert len(asked) == 3


def test_a_report_that_cannot_be_written_is_kept_in_memory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    report = DriftReport(tmp_path / "file" / "drift.jsonl")  # a folder that is a file
    report.add(shape_drifts({"x": 1}, {}, "w"))
    report.save()  # logged, not raised: the checks go on
    assert report.to_json()["drifts"][0]["count"] == 1
