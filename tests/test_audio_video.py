"""audioInference, and videoInference for the generated (non-avatar) video models: outputs
decoded with the bundled ffmpeg at the asked format and length, the family rules, the errors,
and a generated voice driving an avatar."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from runware_mock.contract import model_catalog
from runware_mock.contract.receivers import Receiver
from runware_mock.fixtures import media_path
from runware_mock.handling.video_plans import Plan, plan
from runware_mock.runner import ServerThread
from runware_mock.tasks.audio_inference import spoken_seconds
from tests.downloads import fetched
from tests.helpers import (
    PORTRAIT,
    RestClient,
    data_uri,
    decode,
    decode_audio,
    ffmpeg,
    length_tolerance,
)
from tests.task_bodies import TEXT, speech_task, video_task

SPOKEN = round(62 / 15, 3)
CODECS = {"MP3": "mp3", "WAV": "pcm_s16le", "FLAC": "flac", "OGG": "vorbis"}
REFERENCE_MODELS = Path("/work/shared/reference/runware-models.tsv")


def only_item(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    (item,) = body["data"]
    return dict(item)


def only_error(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 400, reply.text
    (problem,) = reply.json()["errors"]
    return dict(problem)


# --- audioInference ------------------------------------------------------------------------------

@pytest.mark.parametrize("output_format", ["MP3", "WAV", "FLAC", "OGG"])
def test_speech_is_sync_by_default_and_decodes_at_its_spoken_length(
        client: RestClient, tmp_path: Path, output_format: str) -> None:
    task = speech_task(outputFormat=output_format, includeCost=True,
                       audioSettings={"sampleRate": 22050, "channels": 1})
    item = only_item(client.post([task]).json())
    assert (item["taskType"], item["taskUUID"], item["status"]) == (
        "audioInference", task["taskUUID"], "success")
    assert item["cost"] == round(62 * 0.05 / 1000, 5)  # $0.05 per 1000 characters
    assert item["audioURL"].endswith(f"/audio/{item['audioUUID']}.{output_format.lower()}")
    decoded = decode_audio(fetched(item["audioURL"], tmp_path, "voice"))
    assert decoded == {"codec": CODECS[output_format], "sample_rate": 22050, "channels": 1,
                       "seconds": pytest.approx(SPOKEN, abs=length_tolerance(decoded)),
                       "errors": 0}


def test_speech_length_follows_the_text_and_its_speed() -> None:
    assert spoken_seconds({"text": "x" * 150, "speed": 1.0}) == 10.0
    assert spoken_seconds({"text": "x" * 150, "speed": 2.0}) == 5.0
    assert spoken_seconds({"text": "hi", "speed": 1.0}) == 2.0  # never under 2 s


def test_audio_as_base64_and_data_uri_are_the_served_bytes(client: RestClient) -> None:
    seed = {"seed": 7}
    url = only_item(client.post([speech_task(**seed)]).json())
    raw = only_item(client.post([speech_task(outputType="base64Data", **seed)]).json())
    uri = only_item(client.post([speech_task(outputType="dataURI", **seed)]).json())
    served = httpx.get(url["audioURL"], timeout=30).content
    assert "audioURL" not in raw and "audioURL" not in uri
    assert base64.b64decode(raw["audioBase64Data"]) == served
    head, _, data = uri["audioDataURI"].partition(",")
    assert head == "data:audio/mpeg;base64"
    assert base64.b64decode(data) == served


def test_a_seed_gives_the_same_sound_and_results_differ(client: RestClient) -> None:
    first = only_item(client.post([speech_task(seed=1234)]).json())
    again = only_item(client.post([speech_task(seed=1234)]).json())
    body = client.post([speech_task(seed=1234, numberResults=2)]).json()
    assert (first["seed"], [item["seed"] for item in body["data"]]) == (1234, [1234, 1235])
    contents = [httpx.get(item["audioURL"], timeout=30).content
                for item in (first, again, *body["data"])]
    assert contents[0] == contents[1] == contents[2] != contents[3]
    assert len({item["audioUUID"] for item in (first, again, *body["data"])}) == 4


@pytest.mark.parametrize(("model", "extra", "seconds", "codec"), [
    ("runware:ace-step@v1.5-turbo", {"positivePrompt": "calm piano", "duration": 12}, 12, "mp3"),
    ("mirelo:sfx@1.6", {"positivePrompt": "a door creaks", "duration": 3.5,
                        "outputFormat": "WAV"}, 3.5, "pcm_s16le"),
    ("minimax:music@2.6", {"positivePrompt": "upbeat synth pop"}, 30, "mp3"),  # default 30 s
])
def test_music_and_effects_last_their_duration(client: RestClient, tmp_path: Path, model: str,
                                               extra: dict[str, Any], seconds: float,
                                               codec: str) -> None:
    task = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "model": model,
            "deliveryMethod": "async", "includeCost": True, **extra}
    ack = client.post([task])
    assert ack.json() == {"data": [{"taskType": "audioInference", "taskUUID": task["taskUUID"]}]}
    item = only_item(client.wait(task["taskUUID"]))
    assert item["cost"] == round(0.001 * seconds, 5)
    decoded = decode_audio(fetched(item["audioURL"], tmp_path, "sound"))
    assert (decoded["codec"], decoded["sample_rate"], decoded["channels"]) == (codec, 44100, 2)
    assert decoded["seconds"] == pytest.approx(seconds, abs=length_tolerance(decoded))


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"speech": {"voice": "Dennis"}}, "missingParameter", "speech.text"),
    ({"speech": {"text": "x", "voice": "Dennis"}}, "invalidSpeechTextLength", "speech.text"),
    ({"speech": {"text": TEXT}}, "missingParameter", "speech.voice"),
    ({"speech": {"text": TEXT, "voice": "Dennis", "speed": 9}}, "invalidSpeed", "speech.speed"),
    ({"outputFormat": "AAC"}, "unsupportedOutputFormat", "outputFormat"),
    ({"deliveryMethod": "stream"}, "unsupportedDeliveryMethod", "deliveryMethod"),
    ({"audioSettings": {"sampleRate": 9000}}, "unsupportedSampleRate",
     "audioSettings.sampleRate"),
    ({"audioSettings": {"bitrate": 321}}, "invalidBitrate", "audioSettings.bitrate"),
    ({"audioSettings": {"channels": 6}}, "unsupportedChannels", "audioSettings.channels"),
    ({"numberResults": 5}, "invalidNumberResults", "numberResults"),
    ({"seed": -1}, "invalidSeed", "seed"),
    ({"duration": 10}, "unsupportedParameter", "duration"),
    ({"model": "nonexistent:999@999"}, "invalidModel", "model"),
])
def test_audio_validation(client: RestClient, overrides: dict[str, Any], code: str,
                          parameter: str) -> None:
    task = speech_task(**overrides)
    problem = only_error(client.post([task]))
    assert (problem["code"], problem["parameter"], problem["taskUUID"]) == (
        code, parameter, task["taskUUID"])


def test_async_audio_is_uploaded_then_posted_to_the_webhook(client: RestClient) -> None:
    with Receiver() as sink:
        task = speech_task(deliveryMethod="async", outputFormat="WAV",
                           uploadEndpoint=f"{sink.base_url}/bucket/voice.wav",
                           webhookURL=f"{sink.base_url}/hook")
        assert client.post([task]).status_code == 200
        put, hook = sink.wait_for(2)
    item = only_item(client.wait(task["taskUUID"]))
    served = httpx.get(item["audioURL"], timeout=30).content
    assert (put.method, put.path, put.headers["content-type"]) == (
        "PUT", "/bucket/voice.wav", "audio/wav")
    assert put.body == served
    assert (hook.method, hook.json()["data"][0]["audioUUID"]) == ("POST", item["audioUUID"])


@pytest.mark.parametrize(("model", "task", "code", "parameter"), [
    ("minimax:music@2.6", {"duration": 30}, "missingParameter", "positivePrompt"),
    ("minimax:music@2.6", {"positivePrompt": "jazz", "duration": 5}, "invalidDuration",
     "duration"),
    ("mirelo:1@1", {"duration": 31}, "invalidDuration", "duration"),
    ("xai:tts@0", {}, "missingParameter", "speech"),
])
def test_audio_validation_per_family(client: RestClient, model: str, task: dict[str, Any],
                                     code: str, parameter: str) -> None:
    full = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "model": model, **task}
    problem = only_error(client.post([full]))
    assert (problem["code"], problem["parameter"]) == (code, parameter)


@pytest.mark.parametrize("reference", ["audioUUID", "audioURL"])
def test_a_generated_voice_drives_an_avatar(client: RestClient, tmp_path: Path,
                                            reference: str) -> None:
    voice = only_item(client.post([speech_task()]).json())
    avatar = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
              "model": "klingai:avatar@2.0-standard", "includeCost": True,
              "inputs": {"image": data_uri(media_path(PORTRAIT), "image/jpeg"),
                         "audio": voice[reference]}}
    video = only_item(client.run(avatar))
    assert video["status"] == "success"
    assert video["cost"] == round(0.044 * SPOKEN, 5)
    decoded = decode(fetched(video["videoURL"], tmp_path, "avatar.mp4"))
    assert decoded["audio_seconds"] == pytest.approx(SPOKEN, abs=1 / 25)
    assert decoded["frames"] == pytest.approx(SPOKEN * 25, abs=1)


# --- videoInference, generated ------------------------------------------------------------------

def test_pixverse_video_is_async_and_decodes_at_the_asked_size_and_length(
        client: RestClient, tmp_path: Path) -> None:
    task = video_task(includeCost=True, seed=99)
    ack = client.post([task])
    assert ack.json() == {"data": [{"taskType": "videoInference", "taskUUID": task["taskUUID"]}]}
    item = only_item(client.wait(task["taskUUID"]))
    assert (item["status"], item["seed"], item["cost"]) == ("success", 99, 0.299)
    decoded = decode(fetched(item["videoURL"], tmp_path, "pixverse.mp4"))
    assert decoded == {"video_codec": "h264", "width": 360, "height": 640, "frames": 125,
                       "audio_codec": "aac", "audio_seconds": pytest.approx(5.0, abs=1 / 25),
                       "errors": 0}


@pytest.mark.parametrize(("model", "extra", "size", "seconds", "codec"), [
    ("pixverse:1@8", {"resolution": "360p", "duration": 2, "outputFormat": "WEBM"},
     (640, 360), 2, "vp9"),
    ("minimax:3@1", {"width": 768, "height": 768, "fps": 25, "outputFormat": "MOV"},
     (768, 768), 6, "h264"),
    ("sync:lipsync-2@1", {"inputs": {"video": "https://example.com/in.mp4"}, "duration": 3,
                          "resolution": "360p"}, (640, 360), 3, "h264"),
])
def test_generated_video_families(client: RestClient, tmp_path: Path, model: str,
                                  extra: dict[str, Any], size: tuple[int, int], seconds: float,
                                  codec: str) -> None:
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": model,
            "positivePrompt": "waves", **extra}
    item = only_item(client.run(task))
    decoded = decode(fetched(item["videoURL"], tmp_path, "video"))
    assert (decoded["video_codec"], decoded["width"], decoded["height"]) == (codec, *size)
    assert decoded["frames"] == seconds * 25
    assert decoded["errors"] == 0


def test_a_first_frame_image_is_the_picture(client: RestClient, tmp_path: Path) -> None:
    task = video_task(duration=5, inputs={"frameImages": [
        {"image": data_uri(media_path(PORTRAIT), "image/jpeg"), "frame": "first"}]})
    item = only_item(client.run(task))
    video = fetched(item["videoURL"], tmp_path, "i2v.mp4")
    first = tmp_path / "first.png"
    assert ffmpeg("-v", "error", "-i", str(video), "-frames:v", "1", str(first)).returncode == 0
    with Image.open(media_path(PORTRAIT)) as portrait, Image.open(first) as frame:
        expected = ImageOps.fit(portrait.convert("RGB"), (360, 640)).crop((0, 0, 360, 400))
        shown = frame.convert("RGB").crop((0, 0, 360, 400))  # above the caption
        difference = ImageStat.Stat(ImageChops.difference(expected, shown)).mean
    assert max(difference) < 12, difference


def test_an_undecodable_start_image_fails_the_task(client: RestClient) -> None:
    task = video_task(inputs={"image": base64.b64encode(b"not an image at all").decode()})
    body = client.run(task)
    (problem,) = body["errors"]
    assert (problem["code"], problem["parameter"], problem["taskUUID"]) == (
        "invalidValueUploadFailed", "inputs.image", task["taskUUID"])


def test_a_seed_gives_the_same_video(client: RestClient) -> None:
    first, again, other = (only_item(client.run(video_task(seed=seed, duration=5)))
                           for seed in (5, 5, 6))
    contents = [httpx.get(item["videoURL"], timeout=30).content for item in (first, again, other)]
    assert first["videoUUID"] != again["videoUUID"]
    assert contents[0] == contents[1] != contents[2]


def test_whole_numbers_written_as_decimals_are_taken(client: RestClient, tmp_path: Path) -> None:
    """JSON's 720.0 is an integer to the schema, so it must work everywhere after it."""
    video = only_item(client.run(video_task(width=360.0, height=640.0, duration=5.0, seed=3.0)))
    decoded = decode(fetched(video["videoURL"], tmp_path, "decimal.mp4"))
    assert (decoded["width"], decoded["height"], decoded["frames"], video["seed"]) == (
        360, 640, 125, 3)
    audio = only_item(client.post([speech_task(audioSettings={
        "sampleRate": 16000.0, "bitrate": 64.0, "channels": 1.0})]).json())
    decoded = decode_audio(fetched(audio["audioURL"], tmp_path, "decimal.mp3"))
    assert (decoded["sample_rate"], decoded["channels"]) == (16000, 1)


def test_a_talking_head_model_renders_as_the_avatars(client: RestClient, tmp_path: Path) -> None:
    voice = only_item(client.post([speech_task()]).json())
    task = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()),
            "model": "bytedance:5@2", "includeCost": True,
            "inputs": {"image": data_uri(media_path(PORTRAIT), "image/jpeg"),
                       "audio": voice["audioUUID"]}}
    item = only_item(client.run(task))
    assert item["cost"] == round(0.05 * SPOKEN, 5)
    decoded = decode(fetched(item["videoURL"], tmp_path, "head.mp4"))
    assert decoded["audio_seconds"] == pytest.approx(SPOKEN, abs=1 / 25)


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"duration": 6}, "unsupportedDuration", "duration"),
    ({"width": 720, "height": 720 + 1}, "unsupportedHeight", "height"),
    ({"width": 720, "height": 360}, "unsupportedDimensions", ["width", "height"]),
    ({"resolution": "720p"}, "conflictingParameters", ["width", "height", "resolution"]),
    ({"height": None}, "missingParameter", "height"),
    ({"positivePrompt": ""}, "invalidPositivePromptLength", "positivePrompt"),
    ({"positivePrompt": None}, "missingParameter", "positivePrompt"),
    ({"fps": 24}, "unsupportedParameter", "fps"),
    ({"deliveryMethod": "sync"}, "unsupportedDeliveryMethod", "deliveryMethod"),
    ({"outputType": "base64Data"}, "unsupportedOutputType", "outputType"),
    ({"outputQuality": 100}, "invalidOutputQuality", "outputQuality"),
    ({"seed": 2**32}, "invalidSeed", "seed"),
    ({"model": "nonexistent:999@999"}, "invalidModel", "model"),
])
def test_video_validation(client: RestClient, overrides: dict[str, Any], code: str,
                          parameter: Any) -> None:
    task = video_task(**overrides)
    for name in [name for name, value in overrides.items() if value is None]:
        del task[name]
    problem = only_error(client.post([task]))
    assert (problem["code"], problem["parameter"], problem["taskUUID"]) == (
        code, parameter, task["taskUUID"])


@pytest.mark.parametrize(("model", "task", "code", "parameter"), [
    ("minimax:4@1", {"fps": 30}, "unsupportedFps", "fps"),
    ("lightricks:ltx@2", {"resolution": "720p"}, "unsupportedResolution", "resolution"),
    ("vidu:4@1", {"duration": 17}, "invalidDuration", "duration"),
    ("runway:aleph@2.0", {}, "missingParameter", "inputs"),
    ("runway:aleph@2.0", {"inputs": {"image": "https://example.com/a.png"}},
     "missingParameter", "inputs.video"),
    ("luma:ray@3.2", {"width": 4000, "height": 720}, "invalidWidth", "width"),
])
def test_video_validation_per_family(client: RestClient, model: str, task: dict[str, Any],
                                     code: str, parameter: str) -> None:
    full = {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": model,
            "positivePrompt": "a fox", **task}
    problem = only_error(client.post([full]))
    assert (problem["code"], problem["parameter"]) == (code, parameter)


# --- the catalog ---------------------------------------------------------------------------------

def test_every_reference_audio_and_video_model_is_served() -> None:
    rows = [line.split("\t") for line in REFERENCE_MODELS.read_text().splitlines()[1:]]
    for task_type in ("audioInference", "videoInference"):
        listed = {air for air, kind, _ in rows if kind == task_type}
        assert set(model_catalog.airs(task_type)) >= listed


@pytest.mark.parametrize("air", [air for air in model_catalog.airs("videoInference")
                                 if model_catalog.model(air).family.image is None])
def test_every_generated_video_model_has_a_default_size_and_length(air: str) -> None:
    planned = plan({"model": air}, model_catalog.model(air).family)
    assert isinstance(planned, Plan), planned
    assert planned.width >= 128 and planned.height >= 128 and planned.seconds >= 1


def test_the_avatar_models_keep_their_family(server: ServerThread) -> None:
    for air in ("klingai:avatar@2.0-standard", "klingai:avatar@2.0-pro"):
        family = model_catalog.model(air).family
        assert (family.name, family.schema) == (
            "klingai-avatar-2-0", "request.videoInference.klingai-avatar-2.0")
