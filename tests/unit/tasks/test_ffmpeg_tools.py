"""tasks.ffmpeg_tools: what its schema cannot say: 1 to 10 inputs in all, the first of them
(video, then image, then audio) the one the output is made from."""

from __future__ import annotations

import pytest

from runware_mock.contract.errors import ApiRefusal
from runware_mock.tasks.ffmpeg_tools import check_input_count, input_specs


def test_ffmpeg_inputs_video_first_then_images_then_audio():
    found = input_specs({"inputs": {"audio": "a", "images": ["i0", "i1"],  # type: ignore[typeddict-item]
                                    "video": "v"}})
    assert found == [("video", "inputs.video", "v"), ("image", "inputs.images.0", "i0"),
                     ("image", "inputs.images.1", "i1"), ("audio", "inputs.audio", "a")]


@pytest.mark.parametrize(("count", "code"), [(0, "missingParameter"), (11, "invalidInputs")])
def test_ffmpeg_takes_1_to_10_inputs(count, code):
    check_input_count(1)
    check_input_count(10)  # runware.ai/docs/models/ffmpeg: "up to 10 ... inputs"
    with pytest.raises(ApiRefusal) as refused:
        check_input_count(count)
    assert (refused.value.problem.code, refused.value.problem.parameter) == (code, "inputs")
