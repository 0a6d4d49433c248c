"""media.datasets: a training dataset's images counted from a ZIP without unpacking it, and
the LoRA written as a safetensors file a reader can parse."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from runware_mock.media.datasets import DatasetError, lora_file, read_dataset


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def zipped(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_images_are_counted_wherever_they_sit_and_captions_apart(tmp_path):
    entries = {f"a/{i}.png": png() for i in range(3)} | {"b/c/x.jpeg": png(),
                                                        "a/0.txt": b"a caption"}
    found = read_dataset(zipped(tmp_path / "set.zip", entries))
    assert (found.images, found.captions) == (4, 1)


def test_hidden_files_folders_and_non_images_are_not_images(tmp_path):
    entries = {"__MACOSX/a/._0.png": png(), ".hidden.png": png(), "notes.md": b"# notes",
               "fake.png": b"not a picture", "real.png": png()}
    assert read_dataset(zipped(tmp_path / "set.zip", entries)).images == 1


def test_a_file_that_is_no_zip_is_refused(tmp_path):
    path = tmp_path / "set.zip"
    path.write_bytes(png())
    with pytest.raises(DatasetError, match="not a ZIP"):
        read_dataset(path)


def test_a_lora_is_a_parseable_safetensors_file_drawn_from_its_seed():
    data = lora_file({"ss_base_model": "runware:flux-1-dev@style-lora-training"}, 7)
    (length,) = struct.unpack_from("<Q", data)
    assert length % 8 == 0
    header = json.loads(data[8:8 + length])
    assert header.pop("__metadata__") == {"ss_base_model":
                                          "runware:flux-1-dev@style-lora-training"}
    ends = sorted(spec["data_offsets"][1] for spec in header.values())
    assert ends[-1] == len(data) - 8 - length
    for spec in header.values():
        start, end = spec["data_offsets"]
        values = struct.unpack(f"<{(end - start) // 2}e", data[8 + length + start:
                                                               8 + length + end])
        assert all(abs(value) < 1 for value in values)
    assert lora_file({}, 7) == lora_file({}, 7) != lora_file({}, 8)
