"""Issue 24: the official SDKs' image-tool methods, unchanged but for URL and key, through the
emulator: runware 0.5's own examples (imageBackgroundRemoval with settings and with a model,
videoBackgroundRemoval), imageVectorize and imageCaption (its README's image-to-text);
sdk-js's removeBackground, removeImageBackground, controlNetPreprocess (async, polled) and its
alias controlNetPreProcess, caption and its alias requestImageToText (an image caption),
imageMasking and vectorize. The public URLs the examples name are served from a --url-map
folder, so nothing leaves 127.0.0.1; outputs are decoded."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image, ImageDraw

from runware_mock.fixtures import media_path
from runware_mock.media.ffmpeg import executable
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import PORTRAIT, ffmpeg
from tests.image_tools import fetched, opened
from tests.sdks import API_KEY, SCRIPTS, WIKIMEDIA, WIKIMEDIA_IMAGE, run_to_end

# The inputs runware 0.5's examples name, and where the --url-map serves them from.
GITHUB = "https://raw.githubusercontent.com/"
HEADPHONES = "adilentiq/test-images/refs/heads/main/common/headphones.jpeg"
EXAMPLE = "https://example.com/"
HEADPHONES_SIZE, CLIP_SIZE, WIKIMEDIA_SIZE = (160, 120), (96, 64), (80, 60)


def subject(size: tuple[int, int], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.new("RGB", size, (235, 235, 235))
    width, height = size
    ImageDraw.Draw(picture).ellipse((width // 3, height // 5, 2 * width // 3, 4 * height // 5),
                                    fill=(30, 30, 40))
    picture.save(path)


@pytest.fixture(scope="module")
def tools_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    folder = tmp_path_factory.mktemp("public")
    subject(HEADPHONES_SIZE, folder / "github" / HEADPHONES)
    subject(WIKIMEDIA_SIZE, folder / "wikimedia" / WIKIMEDIA_IMAGE.removeprefix(WIKIMEDIA))
    (folder / "example").mkdir()
    subprocess.run([executable(), "-v", "error", "-f", "lavfi", "-i",
                    "color=c=0x3c6e9a:s=96x64:r=5:d=1,drawbox=x=30:y=10:w=30:h=40:"
                    "color=0xc8643c:t=fill", "-pix_fmt", "yuv420p",
                    str(folder / "example" / "video.mp4")], check=True)
    settings = Settings(latency="instant", data_dir=tmp_path_factory.mktemp("sdk-tools-data"),
                        url_map=((GITHUB, str(folder / "github")),
                                 (WIKIMEDIA, str(folder / "wikimedia")),
                                 (EXAMPLE, str(folder / "example"))))
    with ServerThread(settings) as server:
        yield server


def test_runware_05_examples(tools_server: ServerThread, runware_05_python: Path,
                             tmp_path: Path) -> None:
    done = run_to_end([str(runware_05_python), str(SCRIPTS / "runware_05_image_tools.py"),
                       "--ws-url", tools_server.ws_url, "--api-key", API_KEY,
                       "--image", str(media_path(PORTRAIT))], tmp_path)
    (with_settings,) = done["with_settings"]
    assert with_settings["taskType"] == "imageBackgroundRemoval"
    assert with_settings["cost"] == 0.0006
    cut = opened(fetched(with_settings["imageURL"]))
    assert (cut.format, cut.mode, cut.size) == ("PNG", "RGBA", HEADPHONES_SIZE)
    alpha = cut.getchannel("A")
    assert alpha.getpixel((2, 2)) == 0 and alpha.getpixel((80, 60)) == 255
    (with_model,) = done["with_model"]
    assert opened(fetched(with_model["imageURL"])).size == HEADPHONES_SIZE
    (video,) = done["videos"]
    assert video["status"] == "success" and video["videoURL"].endswith(".webm")
    target = tmp_path / "video.webm"
    target.write_bytes(fetched(video["videoURL"]))
    assert "alpha_mode" in ffmpeg("-i", str(target)).stderr
    (vector,) = done["vectorized"]
    root = ElementTree.fromstring(fetched(vector["imageURL"]))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    with Image.open(media_path(PORTRAIT)) as portrait:
        assert root.get("width") == str(portrait.width)
    caption = done["caption"]
    assert caption["taskType"] == "imageCaption" and caption["text"].strip()


def test_sdk_js_methods(tools_server: ServerThread, sdk_js: tuple[str, Path],
                        tmp_path: Path) -> None:
    node, sdk_folder = sdk_js
    done = run_to_end([node, str(SCRIPTS / "sdk_js_image_tools.cjs"), tools_server.ws_url,
                       API_KEY, WIKIMEDIA_IMAGE, str(sdk_folder)], tmp_path)
    for removed in (done["removed"], done["legacy"]):
        assert removed["taskType"] == "removeBackground"
        cut = opened(fetched(removed["imageURL"]))
        assert (cut.mode, cut.size) == ("RGBA", WIKIMEDIA_SIZE)
    for guide in (done["guide"], done["legacyGuide"]):
        assert guide["taskType"] == "imageControlNetPreProcess" and guide["status"] == "success"
        assert opened(fetched(guide["guideImageURL"])).size == WIKIMEDIA_SIZE
    for caption in (done["caption"], done["imageToText"]):
        assert caption["taskType"] == "caption" and caption["text"].strip()
    masked = done["masked"]
    assert masked["detections"] and masked["imageUUID"] == masked["maskImageUUID"]
    assert opened(fetched(masked["maskImageURL"])).size == WIKIMEDIA_SIZE
    vectorized = done["vectorized"]
    root = ElementTree.fromstring(fetched(vectorized["imageURL"]))
    assert root.get("width") == str(WIKIMEDIA_SIZE[0])


@pytest.mark.parametrize("transport", ["websocket", "rest"])
def test_runware_sdk_runs_the_modern_forms(tools_server: ServerThread, runware_sdk_python: Path,
                                           tmp_path: Path, transport: str) -> None:
    done = run_to_end([str(runware_sdk_python), str(SCRIPTS / "runware_sdk_image_tools.py"),
                       "--transport", transport, "--ws-url", tools_server.ws_url, "--http-url",
                       tools_server.url, "--api-key", API_KEY,
                       "--image", str(media_path(PORTRAIT))], tmp_path)
    with Image.open(media_path(PORTRAIT)) as portrait:
        size = portrait.size
    (removed,) = done["removed"]
    cut = opened(fetched(removed["imageURL"]))
    assert (cut.mode, cut.size) == ("RGBA", size) and removed["cost"] == 0.0006
    (vectorized,) = done["vectorized"]
    assert vectorized["cost"] == 0.08
    assert ElementTree.fromstring(fetched(vectorized["imageURL"])).get("width") == str(size[0])
    (guide,) = done["guide"]
    assert opened(fetched(guide["guideImageURL"])).size == size
    (masked,) = done["masked"]
    assert masked["detections"] and opened(fetched(masked["maskImageURL"])).size == size
