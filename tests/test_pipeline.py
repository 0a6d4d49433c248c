"""Issue 12: one official SDK (runware-sdk 1.8, WebSocket), fully offline, from nothing to an
avatar video: a voice from audioInference, an enhanced prompt, a portrait from imageInference,
upscaled, then the avatar from the upscaled portrait and the voice. Each output is decoded, and
the costs the SDK got add up to what the catalog's prices say."""

# The SDK environment is test_sdks.py's fixture, imported by name: its parameter "redefines"
# it (F811), as pytest intends.

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from runware_mock.contract import model_catalog
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.downloads import fetched
from tests.helpers import decode, decode_audio
from tests.sdks import API_KEY, SCRIPTS, run_to_end

TEXT = "Welcome to the museum. I will be your guide through the collection today."


def image_size(url: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(httpx.get(url, timeout=30).content)) as image:
        return image.size


def test_a_voice_a_portrait_and_an_avatar_through_one_sdk(
        server_factory: ServerFactory, runware_sdk_python: Path, tmp_path: Path) -> None:
    # No URL map, no fixture media: only what the emulator makes itself.
    server: ServerThread = server_factory(url_map=())
    done = run_to_end([str(runware_sdk_python), str(SCRIPTS / "runware_sdk_pipeline.py"),
                       "--ws-url", server.ws_url, "--http-url", server.url,
                       "--api-key", API_KEY, "--text", TEXT], tmp_path)
    voice, prompt, portrait = done["voice"], done["prompt"], done["portrait"]
    upscaled, avatar = done["upscaled"], done["avatar"]

    seconds = decode_audio(fetched(voice["audioURL"], tmp_path, "voice.mp3"))["seconds"]
    assert seconds == pytest.approx(len(TEXT) / 15, abs=0.002)
    assert prompt["text"] and prompt["cost"] > 0
    assert image_size(portrait["imageURL"]) == (512, 640)
    assert image_size(upscaled["imageURL"]) == (1024, 1280)
    video = decode(fetched(avatar["videoURL"], tmp_path, "avatar.mp4"))
    assert (video["video_codec"], video["audio_codec"], video["errors"]) == ("h264", "aac", 0)
    assert (video["width"], video["height"]) == (576, 720)  # the portrait within 720 px
    assert video["audio_seconds"] == pytest.approx(seconds, abs=1 / 25)
    assert video["frames"] == pytest.approx(seconds * 25, abs=1)

    price = {step: model_catalog.model(air).price for step, air in (
        ("voice", "inworld:tts@1.5-max"), ("portrait", "runware:400@2"),
        ("upscaled", "runware:504@1"), ("avatar", "klingai:avatar@2.0-standard"))}
    expected = {
        "voice": price["voice"].of(characters=len(TEXT), seconds=seconds),
        "prompt": prompt["cost"],  # tokens as the emulator counts them (docs/text.md)
        "portrait": price["portrait"].of(megapixels=512 * 640 / 1e6),
        "upscaled": price["upscaled"].of(megapixels=1024 * 1280 / 1e6),
        "avatar": price["avatar"].of(seconds=round(len(TEXT) / 15, 3)),
    }
    reported = {step: done[step]["cost"] for step in expected}
    assert reported == expected
    assert round(sum(reported.values()), 5) == round(sum(expected.values()), 5)
