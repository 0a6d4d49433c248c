"""Issue 24, item 3: every model the official SDKs' READMEs and examples run (and the ones the
Runware docs pages use in their examples) is accepted by its task type over a real socket: the
minimal request the document shows (its model, prompt, size, duration) gets a result. Any CivitAI
model is, too (runware-surface.md section 6), and an AIR that is not one is refused.
The requests are the documents' own (sources beside each); a media input the document gives as a
public URL is the fixture portrait here (an offline test cannot reach the web)."""

from __future__ import annotations

import tomllib
import uuid
from importlib import resources
from typing import Any

from runware_mock.contract.model_catalog import DOCUMENTED_EXAMPLES
from runware_mock.fixtures import media_path
from tests.helpers import PORTRAIT, RestClient, data_uri

SUNSET = "a beautiful sunset over the mountains"
CHAT = [{"role": "user", "content": "Explain photosynthesis in one sentence."}]

# (taskType, the request's fields, where the request is shown)
README_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("imageInference", {"model": "civitai:36520@76907", "positivePrompt": SUNSET,
                        "width": 512, "height": 512, "numberResults": 4},
     "sdk-python README, Generating Images"),
    ("imageInference", {"model": "civitai:943001@1055701", "positivePrompt": SUNSET,
                        "width": 1024, "height": 1024}, "sdk-python README, teaCache"),
    ("imageInference", {"model": "runware:108@22", "positivePrompt": SUNSET,
                        "width": 1024, "height": 1024}, "sdk-python README, fbCache"),
    ("imageInference", {"model": "civitai:101055@128078", "positivePrompt": SUNSET,
                        "width": 512, "height": 512}, "sdk-python README, refiner"),
    ("imageInference", {"model": "civitai:4384@128713", "positivePrompt": "a beautiful sunset",
                        "width": 512, "height": 512, "seed": 1568, "steps": 40},
     "sdk-python README, ControlNet"),
    ("imageInference", {"model": "runware:102@1", "positivePrompt": SUNSET,
                        "width": 1024, "height": 1024}, "sdk-python README, ACE++"),
    ("imageInference", {"model": "openai:1@1", "positivePrompt": SUNSET,
                        "width": 1024, "height": 1024}, "sdk-python README, DALL-E 2"),
    ("imageInference", {"model": "openai:2@3", "positivePrompt": SUNSET, "width": 1024,
                        "height": 1024, "outputFormat": "PNG", "includeCost": True},
     "sdk-python README, DALL-E 3"),
    ("imageInference", {"model": "civitai:30240@102996", "positivePrompt": SUNSET,
                        "width": 1024, "height": 1024},
     "sdk-python examples/parallel_image_inference.py"),
    ("imageInference", {"model": "civitai:133005@782002",
                        "positivePrompt": "A professional headshot portrait",
                        "negativePrompt": "blurry, distorted", "width": 1024, "height": 1024,
                        "steps": 30},
     "runware-sdk 1.8 README, SdxlArchParams"),
    ("imageInference", {"model": "runware:400@1",
                        "positivePrompt": "A serene mountain landscape at sunset",
                        "width": 1024, "height": 1024}, "runware-sdk 1.8 README; docs CLI page"),
    ("upscale", {"model": "runware:504@1", "inputs": {"image": "PORTRAIT"}},
     "runware-sdk 1.8 README, concurrency"),
    ("videoInference", {"model": "google:3@0", "positivePrompt": "spinning galaxy",
                        "width": 1280, "height": 720, "seed": 10},
     "sdk-python README, Inferencing Video Models"),
    ("videoInference", {"model": "openai:3@2", "positivePrompt": "A beautiful sunset over the "
                        "ocean", "duration": 4, "width": 1280, "height": 720},
     "sdk-python README, async delivery"),
    ("videoInference", {"model": "bytedance:1@1", "positivePrompt": "a couple in the rain",
                        "width": 640, "height": 1504, "duration": 5, "seed": 10},
     "sdk-python examples/video/seedance.py"),
    ("videoInference", {"model": "klingai:1@1", "positivePrompt": "a cat", "width": 1280,
                        "height": 720, "duration": 5}, "sdk-python examples/video/kling.py"),
    ("videoInference", {"model": "minimax:1@1", "positivePrompt": "a cat", "width": 1366,
                        "height": 768, "duration": 6}, "sdk-python examples/video/minimax.py"),
    ("videoInference", {"model": "pixverse:1@1", "positivePrompt": "a cat", "width": 1280,
                        "height": 720, "duration": 5}, "sdk-python examples/video/pixverse.py"),
    ("videoInference", {"model": "vidu:1@1", "positivePrompt": "a cat", "width": 1920,
                        "height": 1080, "duration": 5}, "sdk-python examples/video/vidu.py"),
    ("videoInference", {"model": "google:3@3", "positivePrompt": "Ocean waves at sunset",
                        "width": 1280, "height": 720, "duration": 8},
     "runware-sdk 1.8 README; docs CLI page"),
    ("audioInference", {"model": "elevenlabs:1@1", "positivePrompt": "hip hop", "duration": 10,
                        "outputFormat": "MP3", "numberResults": 2, "includeCost": True,
                        "outputType": "URL", "deliveryMethod": "async",
                        "audioSettings": {"bitrate": 128, "sampleRate": 44100}},
     "sdk-js readme, Audio Inference (and sdk-python README)"),
    ("audioInference", {"model": "alibaba:qwen@3-tts-1.7b-voicedesign",
                        "positivePrompt": "A calm, friendly young woman with a soft tone",
                        "speech": {"text": "Hello world", "voice": "design"}},
     "runware-sdk 1.8 README; docs CLI page"),
    ("textInference", {"model": "deepseek:v4@flash", "messages": CHAT},
     "sdk-python README, Text inference with tools"),
    ("textInference", {"model": "runware:qwen3-thinking@1", "messages": CHAT,
                       "includeCost": True}, "sdk-python README, Text inference streaming"),
    ("textInference", {"model": "google:gemma@4-31b", "messages": CHAT},
     "runware-sdk 1.8 README; docs CLI page"),
]

# The examples of Runware's docs pages (runware.ai/docs/en, October 2025; runware.ai/docs,
# December 2026) whose models the curated maps lack: (taskType, the example's fields, its page).
DOCS = "runware.ai/docs/en/"
DOCS_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    *[("imageInference", {"model": model, "positivePrompt": SUNSET, "width": width,
                          "height": height}, DOCS + page)
      for model, width, height, page in [
          ("bfl:1@1", 1024, 1024, "image-inference/api-reference"),
          ("bfl:1@4", 1024, 1024, "providers/bfl"), ("bfl:1@5", 1024, 1024, "providers/bfl"),
          ("bria:10@10", 1152, 896, "providers/bria"), ("bria:10@21", 1024, 1024,
                                                        "providers/bria"),
          ("bytedance:4@1", 1024, 1024, "providers/bytedance"),
          ("google:1@1", 1408, 768, "providers/google"),
          ("google:1@2", 896, 1280, "providers/google"),
          ("google:2@1", 1024, 1024, "providers/google"),
          ("google:2@2", 1280, 896, "providers/google"),
          ("google:2@3", 1408, 768, "providers/google"),
          ("ideogram:1@1", 1024, 1024, "providers/ideogram"),
          ("ideogram:1@2", 1024, 1024, "providers/ideogram"),
          ("ideogram:3@3", 1024, 1024, "providers/ideogram"),
          ("ideogram:3@4", 1024, 1024, "providers/ideogram"),
          ("openai:2@2", 1024, 1024, "providers/openai"),
          ("runware:103@1", 1024, 1024, "image-inference/flux-tools"),
          ("sourceful:1@0", 1024, 1024, "providers/sourceful"),
          ("sourceful:1@1", 1024, 1024, "providers/sourceful"),
          ("sourceful:1@2", 1024, 1024, "providers/sourceful"),
          ("civitai:139562@297320", 1024, 1024, "image-inference/api-reference")]],
    ("videoInference", {"model": "google:2@0", "positivePrompt": "waves", "duration": 6,
                        "width": 1280, "height": 720}, DOCS + "providers/google"),
    ("videoInference", {"model": "google:3@1", "positivePrompt": "waves", "duration": 8,
                        "width": 1280, "height": 720}, DOCS + "providers/google"),
    ("videoInference", {"model": "runware:200@6", "positivePrompt": "waves", "width": 1280,
                        "height": 720}, DOCS + "video-inference/api-reference"),
    ("videoInference", {"model": "klingai:1@0", "positivePrompt": "A person walking through a "
                        "peaceful garden with soft sunlight filtering through trees",
                        "duration": 5, "width": 1280, "height": 720}, DOCS + "providers/klingai"),
    ("imageInference", {"model": "alibaba:wan@2.5-image",
                        "positivePrompt": "A cinematic still with rich detail", "width": 1280,
                        "height": 1280, "providerSettings": {"alibaba": {"promptExtend": True}}},
     "runware.ai/docs/providers/alibaba"),
    ("videoInference", {"model": "runware:200@8", "positivePrompt": "waves", "width": 1280,
                        "height": 720}, "runware.ai/docs/models/alibaba-wan2-2-a14b-turbo"),
    ("imageInference", {"model": "xai:grok-imagine@image-pro", "positivePrompt": SUNSET,
                        "width": 1024, "height": 1024},
     "runware.ai/docs/models/xai-grok-imagine-image-pro"),
]

# What a finished result of each task type carries (runware-surface.md summary, rule 5).
RESULT_KEYS = {"imageInference": "imageURL", "upscale": "imageURL", "videoInference": "videoURL",
               "audioInference": "audioURL", "textInference": "text"}


def _submitted(client: RestClient, task_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    portrait = data_uri(media_path(PORTRAIT), "image/jpeg")
    if fields.get("inputs") == {"image": "PORTRAIT"}:
        fields = {**fields, "inputs": {"image": portrait}}
    task = {"taskType": task_type, "taskUUID": str(uuid.uuid4()), **fields}
    reply = client.post([task])
    body = reply.json()
    if reply.status_code != 200 or "errors" in body:
        return body
    if any(item.get(RESULT_KEYS[task_type]) for item in body.get("data", [])):
        return body
    return client.wait(task["taskUUID"])


def test_every_readme_and_docs_model_runs_with_its_documented_request(client: RestClient) -> None:
    refused = {}
    for task_type, fields, source in README_REQUESTS + DOCS_REQUESTS:
        body = _submitted(client, task_type, fields)
        results = [item for item in body.get("data", []) if item.get(RESULT_KEYS[task_type])]
        if "errors" in body or not results:
            refused[f"{fields['model']} ({source})"] = body.get("errors", body)
    assert refused == {}


def test_every_model_of_the_documents_files_has_its_documented_request() -> None:
    """Each model sdk-examples.toml and docs-examples.toml add is one the test above runs: a model
    added to either file without its document's request fails here."""
    requested = {fields["model"] for _, fields, _ in README_REQUESTS + DOCS_REQUESTS}
    folder = resources.files("runware_mock.contract").joinpath("models")
    for file_name in DOCUMENTED_EXAMPLES:
        text = folder.joinpath(file_name).read_text("utf-8")
        listed = set(tomllib.loads(text)["models"])
        assert listed - requested == set(), file_name


def test_any_civitai_model_is_an_image_model_and_a_malformed_air_is_refused(
        client: RestClient) -> None:
    image = {"positivePrompt": SUNSET, "width": 512, "height": 512}
    body = _submitted(client, "imageInference", {"model": "civitai:987654@3210", **image})
    assert body["data"][0]["imageURL"], body
    for malformed in ("civitai:987654", "civitai987654@3210", "civitai:@3210", ":1@1",
                      "civitai:98 7654@3210"):
        body = _submitted(client, "imageInference", {"model": malformed, **image})
        (problem,) = body["errors"]
        assert (problem["code"], problem["parameter"]) == ("invalidModel", "model"), malformed
        assert "not an AIR" in problem["message"]
    # Malformed or well formed but no model: the task type's models are named.
    body = _submitted(client, "imageInference", {"model": "nowhere:1@1", **image})
    (problem,) = body["errors"]
    assert problem["code"] == "invalidModel" and "runware:100@1" in problem["allowedValues"]
    # A CivitAI model is an image model, not a video one.
    body = _submitted(client, "videoInference", {"model": "civitai:987654@3210",
                                                 "positivePrompt": "waves"})
    assert body["errors"][0]["code"] == "invalidModel"
