"""Issue 12: the official SDKs, unchanged but for URL and key, generating and upscaling images
through the emulator (the environments and script runner of tests/test_sdks.py)."""

# The SDK environments are test_sdks.py's fixtures, imported by name: their parameters "redefine"
# them (F811), as pytest intends.

from __future__ import annotations

import base64
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from runware_mock.contract import model_catalog
from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.helpers import PORTRAIT
from tests.sdks import API_KEY, SCRIPTS, WIKIMEDIA, WIKIMEDIA_IMAGE, run_to_end

# Where the sdk-js upscale test's image lives; served here from a --url-map folder.


def image_at(url: str) -> Image.Image:
    reply = httpx.get(url, timeout=30)
    assert reply.status_code == 200, url
    image = Image.open(io.BytesIO(reply.content))
    image.load()
    return image


def portrait_size() -> tuple[int, int]:
    with Image.open(media_path(PORTRAIT)) as image:
        return image.size


def check_images(items: list[dict[str, Any]], count: int, size: tuple[int, int]) -> None:
    assert len(items) == count
    assert len({item["imageUUID"] for item in items}) == count
    for item in items:
        assert item["status"] == "success"
        assert image_at(item["imageURL"]).size == size


@pytest.mark.parametrize("transport", ["websocket", "rest"])
def test_runware_sdk_generates_and_upscales(server: ServerThread, runware_sdk_python: Path,
                                            tmp_path: Path, transport: str) -> None:
    done = run_to_end([str(runware_sdk_python), str(SCRIPTS / "runware_sdk_images.py"),
                       "--transport", transport, "--ws-url", server.ws_url, "--http-url",
                       server.url, "--api-key", API_KEY, "--image", str(media_path(PORTRAIT))],
                      tmp_path)
    check_images(done["one"], 1, (1024, 1024))
    check_images(done["two"], 2, (1024, 1024))
    check_images(done["sync"], 1, (1024, 1024))
    assert (done["invalid"]["raised"], done["invalid"]["code"],
            done["invalid"]["parameter"]) == ("RunwareError", "validation", "positivePrompt")
    (upscaled,) = done["upscaled"]
    width, height = portrait_size()
    assert upscaled["taskType"] == "upscale"
    assert image_at(upscaled["imageURL"]).size == (2 * width, 2 * height)
    assert upscaled["cost"] == model_catalog.model("runware:500@1").price.of(
        megapixels=4 * width * height / 1e6)


def test_runware_05_generates_and_upscales(server: ServerThread, runware_05_python: Path,
                                           tmp_path: Path) -> None:
    done = run_to_end([str(runware_05_python), str(SCRIPTS / "runware_05_images.py"),
                       "--ws-url", server.ws_url, "--api-key", API_KEY,
                       "--image", str(media_path(PORTRAIT))], tmp_path)
    images = done["images"]
    check_images(images, 2, (512, 512))
    assert [image["seed"] for image in images] == [77, 78]
    for image in images:
        assert image["taskType"] == "imageInference"
        assert image["cost"] == model_catalog.model("runware:100@1").price.of(megapixels=0.262144)
        decoded = Image.open(io.BytesIO(base64.b64decode(image["imageBase64Data"])))
        assert (decoded.format, decoded.size) == ("PNG", (512, 512))
        assert image["imageDataURI"] == "data:image/png;base64," + image["imageBase64Data"]
    invalid = done["invalid"]
    assert (invalid["raised"], invalid["code"]) == ("RunwareAPIError", "invalidModel")
    assert uuid.UUID(invalid["error"]["taskUUID"])
    (upscaled,) = done["upscaled"]
    width, height = portrait_size()
    # Answered as imageUpscale: 0.5 reads an "upscale" item as a video.
    assert upscaled["taskType"] == "imageUpscale"
    assert image_at(upscaled["imageURL"]).size == (2 * width, 2 * height)


def test_sdk_js_generates_and_upscales(server_factory: ServerFactory, sdk_js: tuple[str, Path],
                                       tmp_path: Path) -> None:
    folder = tmp_path / "wikimedia"
    (folder / "wikipedia/commons/4/47").mkdir(parents=True)
    Image.new("RGB", (80, 60), (200, 120, 40)).save(
        folder / "wikipedia/commons/4/47/PNG_transparency_demonstration_1.png")
    server = server_factory(url_map=((WIKIMEDIA, str(folder)),))
    node, sdk_folder = sdk_js
    done = run_to_end([node, str(SCRIPTS / "sdk_js_images.cjs"), server.ws_url, API_KEY,
                       WIKIMEDIA_IMAGE, str(sdk_folder)], tmp_path)
    (first,) = done["first"]
    assert first["imageURL"].startswith("http") and first["cost"] > 0
    assert isinstance(first["seed"], int)
    assert image_at(first["imageURL"]).size == (512, 512)
    (rose,), (sky,) = done["parallel"]
    assert rose["taskUUID"] != sky["taskUUID"] and rose["imageUUID"] != sky["imageUUID"]
    (delegated,) = done["delegated"]
    assert {"imageURL", "imageUUID", "seed"} <= set(delegated)
    invalid = done["invalid_model"]
    assert invalid["rejected"] is True
    assert (invalid["error"]["code"], invalid["error"]["parameter"]) == ("invalidModel", "model")
    for result in (done["upscaleGan"], done["upscale"]):
        assert isinstance(result["taskUUID"], str)
        assert result["taskType"] == "upscale"
        assert image_at(result["imageURL"]).size == (160, 120)
