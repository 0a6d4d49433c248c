"""``removeBackground`` and ``imageBackgroundRemoval`` over REST as clients send them
(runware-surface.md §2.2): sync and async, both input styles, the settings flat (runware 0.5)
or nested, the output decoded (Pillow for the alpha, the bundled ffmpeg for a video's), and
the documented refusals. One emulator serves the whole file."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runware_mock.media.ffmpeg import executable
from tests.helpers import ffmpeg
from tests.image_tools import DISC, ToolClient, disc_uri, fetched, image_task, new_uuid, opened


def task(task_type: str = "removeBackground", **overrides: Any) -> dict[str, Any]:
    return image_task(task_type, **overrides)


@pytest.mark.parametrize("name", ["removeBackground", "imageBackgroundRemoval"])
def test_each_name_answers_a_png_with_real_alpha_at_the_inputs_size(tool_client: ToolClient,
                                                                    name: str) -> None:
    item = tool_client.only_result(task(name))
    assert item["imageURL"].endswith(f"/image/{item['imageUUID']}.png")
    image = opened(fetched(item["imageURL"]))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", DISC.size)
    alpha = image.getchannel("A")
    assert alpha.getpixel(DISC.backdrop) == 0 and alpha.getpixel(DISC.inside) == 255
    assert image.getpixel(DISC.inside)[:3] == (200, 40, 40)  # the subject keeps its colour


def test_async_is_acknowledged_then_polled_with_the_image_uuid(tool_client: ToolClient) -> None:
    item = tool_client.polled(task(deliveryMethod="async"))
    assert opened(fetched(item["imageURL"])).size == DISC.size
    assert item["imageUUID"]  # runware 0.5 counts a result only when it carries imageUUID


def test_the_modern_input_form_answers_media_keys_too(tool_client: ToolClient) -> None:
    sent = task(inputs={"image": disc_uri()}, model="runware:109@1",
                settings={"returnOnlyMask": True}, outputType="base64Data")
    del sent["inputImage"]
    item = tool_client.only_result(sent)
    assert item["mediaUUID"] == item["imageUUID"]
    mask = opened(base64.b64decode(item["imageBase64Data"]))
    assert mask.mode == "RGB" and mask.getpixel(DISC.inside) == (255, 255, 255)
    assert mask.getpixel(DISC.backdrop) == (0, 0, 0)


def test_flat_settings_as_runware_05_sends_them_change_the_output(tool_client: ToolClient) -> None:
    plain = opened(fetched(tool_client.only_result(task(outputFormat="webp"))["imageURL"]))
    coloured = opened(fetched(tool_client.only_result(task(
        outputFormat="WEBP", rgba=[0, 0, 255, 1], returnOnlyMask=False, alphaMatting=False,
        postProcessMask=False))["imageURL"]))
    assert plain.format == coloured.format == "WEBP"
    assert plain.getchannel("A").getpixel(DISC.backdrop) == 0
    # An opaque rgba fills the removed background with its colour.
    red, green, blue, alpha = coloured.convert("RGBA").getpixel(DISC.backdrop)
    assert alpha == 255 and blue > 200 and red < 40 and green < 40


def test_a_nested_setting_wins_over_the_flat_one(tool_client: ToolClient) -> None:
    item = tool_client.only_result(task(returnOnlyMask=False,
                                        settings={"returnOnlyMask": True}))
    assert opened(fetched(item["imageURL"])).mode == "RGB"  # the mask, not a cut-out


def test_jpg_in_any_case_is_flattened_and_reported_canonically(tool_client: ToolClient) -> None:
    item = tool_client.only_result(task(outputFormat="jpeg"))
    assert item["imageURL"].endswith(".jpg")
    image = opened(fetched(item["imageURL"]))
    assert (image.format, image.mode) == ("JPEG", "RGB")


def test_a_model_without_settings_ignores_them(tool_client: ToolClient) -> None:
    item = tool_client.only_result(task(model="runware:110@1", returnOnlyMask=True,
                                        includeCost=True))
    assert opened(fetched(item["imageURL"])).mode == "RGBA"  # a cut-out, not the mask
    assert item["cost"] == 0.0006


@pytest.mark.parametrize(("overrides", "code", "parameter"), [
    ({"model": "runware:0@0"}, "invalidModel", "model"),
    ({"outputFormat": "GIF"}, "unsupportedOutputFormat", "outputFormat"),
    ({"outputFormat": "WEBM"}, "unsupportedOutputFormat", "outputFormat"),
    ({"alphaMattingErodeSize": 0}, "invalidAlphaMattingErodeSize", "alphaMattingErodeSize"),
    ({"settings": {"alphaMattingForegroundThreshold": 256}},
     "invalidAlphaMattingForegroundThreshold", "settings.alphaMattingForegroundThreshold"),
    ({"inputs": {"image": "00000000-0000-4000-8000-000000000001"}}, "invalidInputImage",
     "inputs.image"),
    ({"model": "bria:51@1"}, "unsupportedModel", "model"),
    ({"unknownField": 1}, "unsupportedParameter", "unknownField"),
])
def test_what_is_not_its_own_is_refused(tool_client: ToolClient, overrides: dict[str, Any],
                                         code: str, parameter: str) -> None:
    problem = tool_client.only_error(task(**overrides))
    assert (problem["code"], problem["parameter"]) == (code, parameter)
    assert problem["documentation"].startswith("https://runware.ai/docs/en/tools/remove-background")


# --- video (runware-surface.md §2.2, §2.8): async only, video with alpha ------------------------

@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    """1 s, 5 fps, 96x64: a blue backdrop and an orange box; as a data URI."""
    path = Path(tmp_path_factory.mktemp("clip")) / "clip.mp4"
    subprocess.run([executable(), "-v", "error", "-f", "lavfi", "-i",
                    "color=c=0x3c6e9a:s=96x64:r=5:d=1,drawbox=x=30:y=10:w=30:h=40:"
                    "color=0xc8643c:t=fill", "-pix_fmt", "yuv420p", str(path)], check=True)
    return "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode()


def video_task(clip: str, **overrides: Any) -> dict[str, Any]:
    return {"taskType": "removeBackground", "taskUUID": new_uuid(), "model": "bria:51@1",
            "inputs": {"video": clip}, **overrides}


@pytest.mark.parametrize(("output_format", "extension", "alpha_marker"), [
    (None, "webm", r"alpha_mode\s*:\s*1"), ("mov", "mov", r"prores.*yuva444p")])
def test_a_video_is_async_and_keeps_its_size_with_alpha(tool_client: ToolClient, clip: str,
                                                        tmp_path: Path, output_format: str | None,
                                                        extension: str, alpha_marker: str) -> None:
    extra = {"outputFormat": output_format} if output_format else {}
    item = tool_client.polled(video_task(clip, **extra))  # async without being asked
    assert item["mediaUUID"] == item["videoUUID"]
    assert item["videoURL"].endswith(f".{extension}")
    target = tmp_path / f"out.{extension}"
    target.write_bytes(fetched(item["videoURL"]))
    assert re.search(alpha_marker, ffmpeg("-i", str(target)).stderr)
    frame = tmp_path / "frame.png"
    decoder = ["-c:v", "libvpx-vp9"] if extension == "webm" else []
    ffmpeg("-v", "error", *decoder, "-i", str(target), "-frames:v", "1", "-pix_fmt", "rgba",
           str(frame))
    image = opened(frame.read_bytes())
    assert image.size == (96, 64)
    alpha = image.getchannel("A")
    assert alpha.getpixel((5, 5)) < 16 and alpha.getpixel((45, 30)) > 240


def test_a_video_asked_sync_is_refused(tool_client: ToolClient, clip: str) -> None:
    problem = tool_client.only_error(video_task(clip, deliveryMethod="sync"))
    assert (problem["code"], problem["allowedValues"]) == ("unsupportedDeliveryMethod", ["async"])
