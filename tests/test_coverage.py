"""docs/coverage.md: every task type under each name the SDKs send, what the emulator takes for
it (read from the schemas and the catalog), and the official SDK methods that send it."""

from __future__ import annotations

from typing import Any

import pytest

from runware_mock.contract import coverage, schemas
from runware_mock.tasks import task_types

# runware-surface.md §1 and §2: the task types (both names where two exist) the emulator is to
# offer; until it does, coverage.md lists them as not offered yet.
SURFACE_NAMES = ("caption", "imageCaption", "removeBackground", "imageBackgroundRemoval",
                 "vectorize", "controlNetPreprocess", "imageControlNetPreProcess",
                 "imageMasking", "photoMaker", "3dInference", "getTaskDetails", "modelUpload",
                 "accountManagement", "training", "tools", "upscale", "imageUpscale")


def rows() -> dict[str, dict[str, str]]:
    header, _, *lines = coverage.coverage_table().splitlines()
    names = [cell.strip() for cell in header.strip("|").split("|")]
    table = [dict(zip(names, (cell.strip() for cell in line.strip("|").split("|")),
                      strict=True)) for line in lines]
    return {row["taskType"].strip("`"): row for row in table}


def test_every_task_type_has_a_row_offered_or_not_yet() -> None:
    table = rows()
    for name in task_types():
        assert table[name]["offered"] == coverage.YES, name
        assert table[name]["REST"] == table[name]["WebSocket"] == coverage.YES, name
    for name in SURFACE_NAMES:
        expected = coverage.YES if name in schemas.TASK_TYPES else "not yet"
        assert table[name]["offered"] == expected, name
    assert list(table) == coverage.task_type_names()


def test_the_documented_deliveries_and_sdk_methods() -> None:
    table = rows()
    video, text, image = table["videoInference"], table["textInference"], table["imageInference"]
    # runware-platform.md §0.1: video is async only; text also streams; images sync or async.
    assert (video["sync"], video["async"], video["stream"]) == (coverage.NO, coverage.YES,
                                                                coverage.NO)
    assert text["stream"] == coverage.YES
    assert (image["sync"], image["async"]) == (coverage.YES, coverage.YES)
    assert video["webhookURL"] == video["uploadEndpoint"] == coverage.YES
    assert table["ping"]["webhookURL"] == coverage.NO
    # official-sdks.md §3 and runware-platform.md §2: the methods that send them.
    sdk_js, runware_05, runware_sdk = ("@runware/sdk-js 1.3", "runware 0.5.24 (Python)",
                                       "runware-sdk 1.8 (Python)")
    assert "`upscaleGan`" in table["upscale"][sdk_js]
    assert table["imageUpscale"][runware_05] == "`imageUpscale`"
    assert table["imageUpload"][runware_05] == "`uploadImage`"
    assert table["mediaStorage"][runware_sdk] == "`media_storage`"
    assert table["videoInference"][runware_sdk] == "`run`"


@pytest.mark.parametrize("field", ["webhookURL", "uploadEndpoint", "deliveryMethod"])
def test_the_support_columns_follow_the_schemas(field: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A field taken out of the audio schemas shows in the table: nothing is hand-kept."""
    inlined = schemas.inlined

    def without(name: str) -> dict[str, Any]:
        schema = inlined(name)
        if not name.startswith("request.audioInference"):
            return schema
        kept = {key: value for key, value in schema["properties"].items() if key != field}
        return {**schema, "properties": kept}

    before = rows()["audioInference"]
    monkeypatch.setattr(schemas, "inlined", without)
    after = rows()["audioInference"]
    if field == "deliveryMethod":
        assert (before["async"], after["async"]) == (coverage.YES, coverage.NO)
        assert after["sync"] == coverage.YES
    else:
        assert (before[field], after[field]) == (coverage.YES, coverage.NO)
