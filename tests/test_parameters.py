"""Issue 24 over REST, as the clients send them: documented parameters accepted on a model that
takes them (with null members and lower-case enums, as runware 0.5.24 and the docs' own examples
send them) and refused where the architecture does not; a conversation with tool calls; a
modelSearch sorted by a key with a ``-`` prefix. One server for the file; the logic underneath:
tests/unit/contract/test_inference_parameters.py and test_task_parameters.py."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import RestClient

SDXL = "civitai:133005@782002"
FLUX_DEV = "runware:101@1"
GEMMA = "google:gemma@4-31b"
GUIDE = "https://example.com/guide.png"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestClient]:
    data_dir: Path = tmp_path_factory.mktemp("parameters")
    server = ServerThread(Settings(latency="instant", data_dir=data_dir)).start()
    try:
        yield RestClient(server.url)
    finally:
        server.stop()


def image(model: str, **fields: Any) -> dict[str, Any]:
    return {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "model": model,
            "positivePrompt": "a lighthouse at dusk", "width": 128, "height": 192, **fields}


def test_documented_parameters_with_null_members_make_an_image(client: RestClient) -> None:
    """runware 0.5.24's shape: unset controlNet[] members as null, promptWeighting sdembeds,
    outputFormat as the docs' example spells it (jpg); the smallest documented size."""
    sent = image(SDXL, outputFormat="jpg", outputType="base64Data", promptWeighting="sdembeds",
                 lora=[{"model": "civitai:58390@62833", "weight": 0.8}],
                 controlNet=[{"model": "civitai:38784@44716", "guideImage": GUIDE,
                              "weight": None, "startStep": None, "endStep": None,
                              "controlMode": "Balanced"}],
                 refiner={"model": "civitai:101055@128080", "startStepPercentage": 80},
                 embeddings=[{"model": "civitai:7808@9208", "weight": 1}], vae=None, seed=None)
    body = client.post([sent]).json()
    assert "errors" not in body, body
    (item,) = body["data"]
    picture = Image.open(io.BytesIO(base64.b64decode(item["imageBase64Data"])))
    assert (picture.format, picture.size) == ("JPEG", (128, 192))


def test_a_parameter_the_architecture_does_not_take_is_refused(client: RestClient) -> None:
    response = client.post([image(FLUX_DEV, refiner={"model": "civitai:101055@128080"})])
    assert response.status_code == 400
    (problem,) = response.json()["errors"]
    assert (problem["code"], problem["parameter"]) == ("unsupportedParameter", "refiner")
    assert problem["documentation"].startswith("https://")


def test_another_providers_settings_are_a_mismatch(client: RestClient) -> None:
    response = client.post([image("openai:1@1", width=1024, height=1024,
                                  providerSettings={"bfl": {"raw": True}})])
    (problem,) = response.json()["errors"]
    assert (problem["code"], problem["parameter"]) == ("mismatchProviderSettingsProvider",
                                                       "providerSettings.bfl")


def speech(voices: list[Any]) -> dict[str, Any]:
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()),
            "model": "inworld:tts@1.5-max", "outputType": "base64Data",
            "speech": {"text": "Hello there, and welcome.", "voice": "Dennis", "voices": voices}}


def test_speech_voices_are_names_or_speaker_voice_pairs(client: RestClient) -> None:
    """runware-surface.md 5.1: speech.voices:[string|{speaker, voice}]."""
    body = client.post([speech(["Dennis", {"speaker": "S2", "voice": "Ashley"}])]).json()
    assert "errors" not in body, body
    (item,) = body["data"]
    assert item["audioUUID"] and base64.b64decode(item["audioBase64Data"])
    response = client.post([speech(["Dennis", {"speaker": "S2"}])])
    assert response.status_code == 400
    (problem,) = response.json()["errors"]
    assert (problem["code"], problem["parameter"]) == ("missingParameter",
                                                       "speech.voices.1.voice")


def text(messages: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"taskType": "textInference", "taskUUID": str(uuid.uuid4()), "model": GEMMA,
            "messages": messages, **fields}


def test_a_conversation_with_tool_calls_is_answered(client: RestClient) -> None:
    """runware 0.5.24: top-level tools and toolChoice, an assistant turn of tool calls with no
    content, then the tool's result."""
    tools = [{"name": "get_weather", "description": "The weather of a city",
              "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    messages = [{"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "tools": [{"id": "call_1", "name": "get_weather",
                                                 "input": {"city": "Paris"}}]},
                {"role": "user", "id": "call_1", "content": "18 degrees and sunny"}]
    body = client.post([text(messages, tools=tools, toolChoice={"type": "auto"})]).json()
    assert "errors" not in body, body
    (item,) = body["data"]
    assert item["text"] and item["finishReason"] in ("stop", "length")


def test_tools_in_settings_as_comfyui_sends_them_are_taken(client: RestClient) -> None:
    """runware-surface.md 5.2: settings.tools is the deprecated place of the top-level tools."""
    tools = [{"name": "get_weather", "description": "The weather of a city",
              "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    sent = text([{"role": "user", "content": "Weather in Paris?"}],
                settings={"maxTokens": 64, "tools": tools, "toolChoice": {"type": "auto"}})
    body = client.post([sent]).json()
    assert "errors" not in body, body
    (item,) = body["data"]
    assert item["text"]
    response = client.post([text([{"role": "user", "content": "hi"}],
                                 settings={"tools": [{"description": "no name"}]})])
    assert response.status_code == 400
    (problem,) = response.json()["errors"]
    assert (problem["code"], problem["parameter"]) == ("missingParameter",
                                                       "settings.tools.0.name")


def test_only_an_assistant_turn_with_tool_calls_may_omit_content(client: RestClient) -> None:
    messages = [{"role": "assistant"}, {"role": "user", "content": "hi"}]
    response = client.post([text(messages)])
    assert response.status_code == 400
    (problem,) = response.json()["errors"]
    assert (problem["code"], problem["parameter"]) == ("missingParameter", "messages.0.content")


def test_model_search_sorts_by_any_key_with_a_minus_prefix(client: RestClient) -> None:
    """ComfyUI-Runware sends -downloadCount."""
    body = client.post([{"taskType": "modelSearch", "taskUUID": str(uuid.uuid4()),
                         "search": "flux", "sort": "-downloadCount", "limit": 25}]).json()
    assert "errors" not in body, body
    (item,) = body["data"]
    assert item["totalResults"] > 0 and item["results"]
