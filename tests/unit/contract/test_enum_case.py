"""contract/enum_case.py: enum values as clients spell them read as the documented ones
(runware-surface.md Summary 3: outputFormat as jpg/JPEG/svg, preProcessorType as Canny)."""

from __future__ import annotations

from runware_mock.contract import schemas
from runware_mock.contract.enum_case import canonical
from runware_mock.contract.validation import check_task

U = "b38a0d45-2cb9-45e7-8340-8ab8de6aec1d"
SCHEMA = {"type": "object", "properties": {
    "format": {"type": "string", "enum": ["JPG", "PNG"], "x-any-case": True,
               "x-aliases": {"JPEG": "JPG"}},
    "strict": {"type": "string", "enum": ["sync", "async"]},
    "kind": {"type": "string", "enum": ["lineart_anime", "lineart"], "x-any-case": True},
    "nested": {"type": "object", "properties": {
        "format": {"type": "string", "enum": ["SVG"], "x-any-case": True}}},
    "list": {"type": "array", "items": {"type": "string", "enum": ["URL"], "x-any-case": True}},
    "either": {"anyOf": [{"type": "string", "enum": ["URL"], "x-any-case": True},
                         {"type": "array"}]},
}}


def test_marked_enums_take_any_case_and_the_aliases() -> None:
    task = {"format": "jpeg", "kind": "LineArtAnime", "nested": {"format": "svg"},
            "list": ["url"], "either": "Url", "strict": "ASYNC", "other": "png"}
    assert canonical(SCHEMA, task) == {"format": "JPG", "kind": "lineart_anime",
                                       "nested": {"format": "SVG"}, "list": ["URL"],
                                       "either": "URL", "strict": "ASYNC", "other": "png"}
    assert canonical(SCHEMA, {"kind": "LineArt"}) == {"kind": "lineart"}


def test_an_unmatched_value_is_left_for_validation_to_refuse() -> None:
    task = {"format": "gif", "kind": 3}
    assert canonical(SCHEMA, task) is task


def test_validation_stores_the_canonical_value() -> None:
    checked = check_task({"taskType": "imageControlNetPreProcess", "taskUUID": U,
                          "inputImage": U, "preProcessorType": "Canny", "outputFormat": "png"})
    assert checked.ok
    assert (checked.task["preProcessorType"], checked.task["outputFormat"]) == ("canny", "PNG")
    schema = schemas.inlined("request.vectorize")
    assert canonical(schema, {"outputFormat": "svg"}) == {"outputFormat": "SVG"}
