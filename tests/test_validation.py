"""Every bound of the avatar task at its edges, checked over a real REST request."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.helpers import RestClient, avatar_task


def submit(client: RestClient, **overrides: Any) -> tuple[int, dict[str, Any]]:
    response = client.post([avatar_task(**overrides)])
    return response.status_code, response.json()


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert "data" not in body or body["data"] == [], body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


@pytest.mark.parametrize(("field", "valid", "invalid", "code"), [
    ("outputQuality", [20, 99, 95], [19, 100, 50.5, True, "95"], "invalidOutputQuality"),
    ("numberResults", [1, 4], [0, 5, True, "2"], "invalidNumberResults"),
    ("ttl", [60, 86400], [59, 0, -1, 60.5, False], "invalidTTL"),
    ("positivePrompt", ["a", "é" * 2500], ["", "x" * 2501], "invalidPositivePromptLength"),
    ("positivePrompt", [], [7, None, ["a"]], "invalidPositivePrompt"),
    ("includeCost", [True, False], [1, "true", None], "invalidIncludeCost"),
    ("webhookURL", ["https://example.test/hook", "http://127.0.0.1:9/x?a=1"],
     ["ftp://example.test", "example.test/hook", "", "https://", 5], "invalidWebhookURL"),
    ("uploadEndpoint", ["https://bucket.test/v.mp4?X-Amz-Signature=abc"],
     ["s3://bucket/v.mp4", "not a url"], "invalidUploadEndpoint"),
    ("taskUUID", ["B38A0D45-2CB9-45E7-8340-8AB8DE6AEC1D"],
     ["not-a-uuid", "b38a0d45-2cb9-15e7-8340-8ab8de6aec1d", 12], "invalidTaskUUID"),
    ("safety", [{}, {"checkContent": True}, {"checkContent": False, "mode": "full"}],
     ["fast", [], None], "invalidSafety"),
])
def test_bound_edges(client: RestClient, field: str, valid: list[Any], invalid: list[Any],
                     code: str) -> None:
    for value in valid:
        overrides = {field: value}
        if field == "taskUUID":
            overrides[field] = value.replace("B38A", uuid.uuid4().hex[:4].upper())
        status, body = submit(client, **overrides)
        assert status == 200, (field, value, body)
        assert "errors" not in body
    for value in invalid:
        status, body = submit(client, **{field: value})
        problem = only_error(body)
        assert status == 400, (field, value, body)
        assert problem["code"] == code, (field, value, problem)
        assert problem["parameter"] == field
        assert problem["taskType"] == "videoInference"
        assert problem["documentation"].startswith("https://")
        assert field in problem["message"]


@pytest.mark.parametrize(("field", "value", "code", "parameter", "allowed"), [
    ("outputFormat", "MPEG4", "unsupportedOutputFormat", "outputFormat", ["MP4", "WEBM", "MOV"]),
    ("outputFormat", "GIF", "unsupportedOutputFormat", "outputFormat", ["MP4", "WEBM", "MOV"]),
    ("outputType", "base64Data", "unsupportedOutputType", "outputType", ["URL"]),
    ("deliveryMethod", "sync", "unsupportedDeliveryMethod", "deliveryMethod", ["async"]),
    ("safety", {"mode": "strict"}, "unsupportedMode", "safety.mode", ["none", "fast", "full"]),
])
def test_enum_misses_list_allowed_values(client: RestClient, field: str, value: Any, code: str,
                                         parameter: str, allowed: list[str]) -> None:
    status, body = submit(client, **{field: value})
    problem = only_error(body)
    assert (status, problem["code"], problem["parameter"]) == (400, code, parameter)
    assert problem["allowedValues"] == allowed
    assert problem["type"] == "string"


def test_an_output_format_in_any_case_is_answered_as_the_seeds_value(client: RestClient) -> None:
    """The seed's formats are MP4, WEBM and MOV, its results .mp4 URLs; clients send ``mp4``
    (runware-surface.md, Summary 3)."""
    sent = avatar_task(outputFormat="mp4")
    (item,) = client.run(sent)["data"]
    assert item["status"] == "success"
    assert item["videoURL"].endswith(f"{item['videoUUID']}.mp4")
    details = client.post([{"taskType": "getTaskDetails", "taskUUID": sent["taskUUID"]}]).json()
    (request,) = details["data"][0]["request"]
    assert request["outputFormat"] == "MP4"
    status, body = submit(client, outputFormat="Mov", model="klingai:avatar@2.0-pro")
    assert status == 200 and "errors" not in body, body


def test_messages_name_the_bound(client: RestClient) -> None:
    _, body = submit(client, outputQuality=100)
    assert "from 20 to 99" in only_error(body)["message"]
    _, body = submit(client, positivePrompt="x" * 2501)
    assert "1 to 2500 characters" in only_error(body)["message"]
    _, body = submit(client, ttl=59)
    assert "from 60 to 31536000" in only_error(body)["message"]


@pytest.mark.parametrize("field", ["width", "height", "duration", "fps", "seed", "CFGScale"])
def test_fields_the_model_does_not_take(client: RestClient, field: str) -> None:
    status, body = submit(client, **{field: 5})
    problem = only_error(body)
    assert (status, problem["code"], problem["parameter"]) == (400, "unsupportedParameter", field)


def test_missing_inputs_and_unknown_input_fields(client: RestClient) -> None:
    task = avatar_task()
    del task["inputs"]["audio"]
    task["inputs"]["video"] = "x"
    body = client.post([task]).json()
    found = {(e["code"], e["parameter"]) for e in body["errors"]}
    assert found == {("missingParameter", "inputs.audio"), ("unsupportedParameter", "inputs.video")}
    task = avatar_task()
    del task["inputs"]
    assert only_error(client.post([task]).json())["parameter"] == "inputs"


def test_every_violated_field_gets_one_error(client: RestClient) -> None:
    body = client.post([avatar_task(outputQuality=0, numberResults=9, width=512,
                                    positivePrompt="", outputFormat="AVI")]).json()
    found = sorted((e["parameter"], e["code"]) for e in body["errors"])
    assert found == [("numberResults", "invalidNumberResults"),
                     ("outputFormat", "unsupportedOutputFormat"),
                     ("outputQuality", "invalidOutputQuality"),
                     ("positivePrompt", "invalidPositivePromptLength"),
                     ("width", "unsupportedParameter")]
    assert all(e["taskUUID"] for e in body["errors"])


def test_model_and_task_type_problems(client: RestClient) -> None:
    problem = only_error(client.post([avatar_task(model="nonexistent:999@999")]).json())
    assert (problem["code"], problem["parameter"]) == ("invalidModel", "model")
    assert "klingai:avatar@2.0-pro" in problem["allowedValues"]
    task = avatar_task()
    del task["model"]
    assert only_error(client.post([task]).json())["code"] == "missingParameter"
    problem = only_error(client.post([avatar_task(taskType="imageTeleport")]).json())
    assert (problem["code"], problem["parameter"]) == ("unsupportedTaskType", "taskType")
    problem = only_error(client.post([{"taskUUID": str(uuid.uuid4())}]).json())
    assert (problem["code"], problem["parameter"]) == ("missingParameter", "taskType")


def test_pro_model_takes_the_same_request(client: RestClient) -> None:
    status, body = submit(client, model="klingai:avatar@2.0-pro", outputQuality=20)
    assert status == 200 and "errors" not in body


@pytest.mark.parametrize(("raw", "code"), [
    (b"{not json", "invalidJSON"),
    (b"\xff\xfe", "invalidJSON"),
    (b"", "invalidJSON"),
    (b'{"taskType": "ping"}', "invalidRequestFormat"),
    (b"[]", "invalidRequestFormat"),
    (b'"ping"', "invalidRequestFormat"),
])
def test_body_that_is_not_a_task_array(client: RestClient, raw: bytes, code: str) -> None:
    response = client.http.post(client.url, content=raw)
    assert response.status_code == 400
    assert only_error(response.json())["code"] == code


@pytest.mark.parametrize(("value", "code"), [
    ("1" + "0" * 40, "invalidOutputQuality"),  # beyond 64 bits
    ("NaN", "invalidOutputQuality"),
    ("Infinity", "invalidOutputQuality"),
])
def test_json_that_only_the_standard_library_reads_is_still_validated(
        client: RestClient, value: str, code: str) -> None:
    raw = json.dumps([avatar_task(outputQuality=0)]).replace('"outputQuality": 0',
                                                            f'"outputQuality": {value}')
    response = client.http.post(client.url, content=raw.encode())
    assert response.status_code == 400
    problem = only_error(response.json())
    assert (problem["code"], problem["parameter"]) == (code, "outputQuality")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_body_in_another_unicode_encoding_is_read(client: RestClient, encoding: str) -> None:
    raw = json.dumps([{"taskType": "ping", "ping": True}]).encode(encoding)
    assert client.http.post(client.url, content=raw).json() == {
        "data": [{"taskType": "ping", "pong": True}]}


def test_a_lone_surrogate_in_a_prompt_is_a_string_like_any_other(client: RestClient) -> None:
    raw = json.dumps([avatar_task(positivePrompt="\ud83d")])  # escaped: \ud83d
    assert "\\ud83d" in raw
    body = client.http.post(client.url, content=raw.encode()).json()
    assert "errors" not in body and body["data"][0]["taskType"] == "videoInference"


def test_array_element_that_is_not_an_object(client: RestClient) -> None:
    body = client.post([{"taskType": "ping", "ping": True}, "ping", 3]).json()
    assert body["data"] == [{"taskType": "ping", "pong": True}]
    assert [(e["code"], e["parameter"]) for e in body["errors"]] == [
        ("invalidTask", "[1]"), ("invalidTask", "[2]")]


def test_trailing_newline_is_not_a_valid_uuid_or_url(client: RestClient) -> None:
    task = avatar_task()
    status, body = submit(client, taskUUID=task["taskUUID"] + "\n")
    assert (status, only_error(body)["code"]) == (400, "invalidTaskUUID")
    _, body = submit(client, webhookURL="https://example.test/hook\n")
    assert only_error(body)["code"] == "invalidWebhookURL"


def test_task_uuid_is_echoed_as_sent(client: RestClient) -> None:
    task = avatar_task()
    task["taskUUID"] = task["taskUUID"].upper()
    ack = client.post([task]).json()["data"][0]
    assert ack["taskUUID"] == task["taskUUID"]
    body = client.wait(task["taskUUID"].lower())
    assert [item["taskUUID"] for item in body["data"]] == [task["taskUUID"]]
    again = client.post([dict(task, taskUUID=task["taskUUID"].lower())])
    assert again.json()["errors"][0]["code"] == "conflictTaskUUID"


def test_a_lone_surrogate_echoed_in_an_error_is_written_as_its_escape(
        client: RestClient) -> None:
    raw = json.dumps([avatar_task(taskUUID="\ud83d")])
    response = client.http.post(client.url, content=raw.encode())
    assert response.status_code == 400
    assert b"\\ud83d" in response.content
    problem = only_error(response.json())
    assert (problem["code"], problem["taskUUID"]) == ("invalidTaskUUID", "\ud83d")
