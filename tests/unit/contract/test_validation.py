"""Validation in process (contract/validation.py), against the rules of the error catalog
(docs/errors.md): documented defaults, one error per bad field in order, the cap, whole errors.
(Expected values come from the documentation, never from the code under test;
`python3 dev.py mutate` runs these against its mutants.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from runware_mock.contract import model_catalog, schemas
from runware_mock.contract.validation import MOST_ERRORS, apply_defaults, check_task
from tests.error_pages import link

AVATAR = "klingai:avatar@2.0-standard"


def avatar(**fields: Any) -> dict[str, Any]:
    return {"taskType": "videoInference", "taskUUID": str(uuid.uuid4()), "model": AVATAR,
            "inputs": {"image": str(uuid.uuid4()), "audio": str(uuid.uuid4())}, **fields}


def errors_of(task: Any) -> list[dict[str, Any]]:
    return [problem.to_json() for problem in check_task(task).errors]


# --- validation (docs/errors.md: the rules of the error catalog) ---------------------------------

def test_a_valid_task_gets_its_documented_defaults() -> None:
    checked = check_task(avatar())
    assert checked.ok and checked.omitted == 0
    # seed: outputType URL, outputFormat MP4, outputQuality 95, numberResults 1,
    # deliveryMethod async, includeCost false, safety.checkContent false.
    task = checked.task
    assert (task["outputType"], task["outputFormat"], task["outputQuality"]) == ("URL", "MP4",
                                                                                 95)
    assert (task["numberResults"], task["deliveryMethod"], task["includeCost"]) == (1, "async",
                                                                                   False)


def test_safety_mode_defaults_to_fast_only_when_checking_is_on() -> None:
    # seed: "When enabled, defaults to fast mode"; mode's own default is none.
    assert check_task(avatar(safety={"checkContent": True})).task["safety"]["mode"] == "fast"
    assert check_task(avatar(safety={"checkContent": False})).task["safety"]["mode"] == "none"
    kept = check_task(avatar(safety={"checkContent": True, "mode": "full"})).task
    assert kept["safety"]["mode"] == "full"


def test_apply_defaults_recurses_into_present_objects_only() -> None:
    schema = {"properties": {"a": {"default": 1}, "o": {"properties": {"b": {"default": 2}}}}}
    assert apply_defaults(schema, {}) == {"a": 1}
    assert apply_defaults(schema, {"o": {}}) == {"a": 1, "o": {"b": 2}}
    assert apply_defaults(schema, {"a": 5, "o": 3}) == {"a": 5, "o": 3}


def test_a_bound_error_names_the_field_its_code_and_the_bound() -> None:
    (problem,) = errors_of(avatar(outputQuality=100))
    assert problem["code"] == "invalidOutputQuality" and problem["parameter"] == "outputQuality"
    assert problem["type"] == "integer" and problem["taskType"] == "videoInference"
    assert problem["message"] == ("Invalid value for outputQuality: 100. outputQuality must be "
                                  "an integer from 20 to 99.")
    (problem,) = errors_of(avatar(ttl=59))
    assert problem["code"] == "invalidTTL"
    assert problem["message"] == ("Invalid value for ttl: 59. ttl must be an integer from 60 "
                                  "to 31536000.")
    (problem,) = errors_of(avatar(positivePrompt=""))
    assert problem["code"] == "invalidPositivePromptLength"
    assert problem["message"].endswith("positivePrompt must be a string of 1 to 2500 "
                                       "characters.")


def test_an_enum_miss_lists_the_allowed_values() -> None:
    (problem,) = errors_of(avatar(outputFormat="GIF"))
    assert problem["code"] == "unsupportedOutputFormat"
    assert problem["allowedValues"] == ["MP4", "WEBM", "MOV"]
    assert problem["message"] == ("Unsupported value 'GIF' for outputFormat. Allowed values: "
                                  "MP4, WEBM, MOV.")


def test_missing_unknown_and_bad_fields_each_get_one_error_in_that_order() -> None:
    task = avatar(outputQuality=0, numberResults=9, colour="red")
    del task["inputs"]
    codes = [(p["code"], p["parameter"]) for p in errors_of(task)]
    assert codes == [("missingParameter", "inputs"), ("unsupportedParameter", "colour"),
                     ("invalidOutputQuality", "outputQuality"),
                     ("invalidNumberResults", "numberResults")]
    (problem,) = errors_of({**avatar(), "inputs": {"image": str(uuid.uuid4())}})
    assert (problem["code"], problem["parameter"]) == ("missingParameter", "inputs.audio")
    assert problem["message"] == "Missing required parameter: inputs.audio."


def test_task_type_and_model_problems() -> None:
    (problem,) = errors_of({"taskUUID": str(uuid.uuid4())})
    assert (problem["code"], problem["parameter"]) == ("missingParameter", "taskType")
    (problem,) = errors_of(avatar(taskType="imageTeleport"))
    assert problem["code"] == "unsupportedTaskType" and "videoInference" in problem[
        "allowedValues"]
    assert problem["message"].startswith("Unsupported taskType 'imageTeleport'. Supported: ")
    (problem,) = errors_of({"taskType": "videoInference", "taskUUID": str(uuid.uuid4())})
    assert (problem["code"], problem["parameter"]) == ("missingParameter", "model")
    (problem,) = errors_of(avatar(model="nonexistent:1@1"))
    assert problem["code"] == "invalidModel" and AVATAR in problem["allowedValues"]
    (problem,) = errors_of(avatar(model=["list"]))
    assert problem["code"] == "invalidModel"
    (problem,) = errors_of(avatar(taskType=["list"]))
    assert problem["code"] == "unsupportedTaskType"


def test_an_element_that_is_not_an_object_is_an_invalid_task() -> None:
    (problem,) = [p.to_json() for p in check_task("ping", index=3).errors]
    assert problem["code"] == "invalidTask" and problem["parameter"] == "[3]"
    assert problem["message"] == "Task 3 must be a JSON object, got string."
    assert check_task([1]).errors[0].message == "Task 0 must be a JSON object, got array."


def test_a_wrong_type_is_described_with_its_json_type() -> None:
    (problem,) = errors_of(avatar(includeCost="yes"))
    assert problem["code"] == "invalidIncludeCost"
    assert "'yes'" in problem["message"]
    (problem,) = errors_of(avatar(outputQuality=True))
    assert "True (boolean)" in problem["message"]
    (problem,) = errors_of(avatar(outputQuality=None))
    assert "None (null)" in problem["message"]
    (problem,) = errors_of(avatar(positivePrompt="x" * 2501))
    assert "... (2501 characters)" in problem["message"]


def test_errors_are_capped_and_the_rest_counted() -> None:
    task = avatar(**{f"extra{number}": 1 for number in range(MOST_ERRORS + 7)})
    checked = check_task(task)
    assert len(checked.errors) == MOST_ERRORS and checked.omitted == 7
    assert len(check_task(task, most_errors=3).errors) == 3
    assert MOST_ERRORS == 50


def test_echoed_task_type_and_uuid_are_short_strings() -> None:
    long_uuid = "u" * 101
    (problem,) = errors_of(avatar(taskUUID=long_uuid))
    assert "taskUUID" not in problem  # too long to echo
    (problem,) = errors_of(avatar(taskUUID="x" * 100, outputQuality=0))[-1:]
    assert problem["taskUUID"] == "x" * 100


def test_missing_fields_are_named_with_their_type() -> None:
    task = avatar()
    del task["inputs"]
    (problem,) = errors_of(task)
    assert (problem["parameter"], problem["type"]) == ("inputs", "object")
    (problem,) = errors_of({**avatar(), "inputs": {"image": str(uuid.uuid4())}})
    assert (problem["parameter"], problem["type"]) == ("inputs.audio", "string")
    (problem,) = errors_of({"taskType": "getResponse"})
    assert (problem["code"], problem["parameter"], problem["type"]) == (
        "missingParameter", "taskUUID", "string")


# --- validation: whole errors, as the error catalog's rules make them (docs/errors.md) -----------

U = "00000000-0000-4000-8000-000000000009"
IMAGE = {"taskType": "imageInference", "taskUUID": U, "model": "runware:100@1",
         "positivePrompt": "a cat", "width": 512, "height": 512}


def _avatar_at(**fields: Any) -> dict[str, Any]:
    return {"taskType": "videoInference", "taskUUID": U, "model": AVATAR,
            "inputs": {"image": U, "audio": U}, **fields}


def _error(code: str, message: str, parameter: str, task_type: str, **more: Any) -> dict[str, Any]:
    found = {"code": code, "message": message, "parameter": parameter, **more,
             "documentation": link(task_type, parameter), "taskType": task_type, "taskUUID": U}
    return {key: value for key, value in found.items() if value is not None}


FORMATS = ["URL", "base64Data", "dataURI"]
WHOLE_ERRORS = [
    ({"taskType": "ping", "ping": "yes"},
     [{"code": "invalidPing", "message": "Invalid value for ping: 'yes'. ping must be a boolean.",
       "parameter": "ping", "type": "boolean", "documentation": link("ping"),
       "taskType": "ping"}]),
    ({**IMAGE, "outputType": "PDF"},
     [_error("unsupportedOutputType", "Unsupported value 'PDF' for outputType. Allowed values: "
             "URL, base64Data, dataURI.", "outputType", "imageInference", type="string",
             allowedValues=FORMATS)]),
    ({**IMAGE, "outputType": ["URL", "PDF"]},
     [_error("unsupportedOutputType", "Unsupported value 'PDF' for outputType.1. Allowed "
             "values: URL, base64Data, dataURI.", "outputType.1", "imageInference",
             type="string", allowedValues=FORMATS)]),
    ({**IMAGE, "outputType": 5},
     [_error("invalidOutputType", "Invalid value for outputType: 5. outputType must be URL, "
             "base64Data or dataURI, or a list of them.", "outputType", "imageInference",
             default="URL")]),
    (_avatar_at(inputs={"image": U, "audio": U, "video": U}),
     [_error("unsupportedParameter", "Unsupported parameter: inputs.video. This model does not "
             "take it.", "inputs.video", "videoInference")]),
    (_avatar_at(**{"z" * 150: 1}),
     [_error("unsupportedParameter", f"Unsupported parameter: {'z' * 27}...{'z' * 28}. This "
             "model does not take it.", f"{'z' * 27}...{'z' * 28}", "videoInference")]),
    (_avatar_at(**{"z" * 100: 1}),
     [_error("unsupportedParameter", f"Unsupported parameter: {'z' * 100}. This model does not "
             "take it.", "z" * 100, "videoInference")]),
    (_avatar_at(outputQuality={"a": 1}),
     [_error("invalidOutputQuality", "Invalid value for outputQuality: {'a': 1} (object). "
             "outputQuality must be an integer from 20 to 99.", "outputQuality",
             "videoInference", type="integer", min=20, max=99, default=95)]),
    (_avatar_at(positivePrompt=["x"]),
     [_error("invalidPositivePrompt", "Invalid value for positivePrompt: ['x'] (array). "
             "positivePrompt must be a string of 1 to 2500 characters.", "positivePrompt",
             "videoInference", type="string")]),
    (_avatar_at(outputFormat="M" * 500),
     [_error("unsupportedOutputFormat", f"Unsupported value '{'M' * 60}'... (500 characters) "
             "for outputFormat. Allowed values: MP4, WEBM, MOV.", "outputFormat",
             "videoInference", type="string", allowedValues=["MP4", "WEBM", "MOV"],
             default="MP4")]),
    (_avatar_at(safety={"checkContent": "yes", "mode": "odd"}),
     [_error("invalidCheckContent", "Invalid value for safety.checkContent: 'yes'. "
             "safety.checkContent must be a boolean.", "safety.checkContent", "videoInference",
             type="boolean", default=False),
      _error("unsupportedMode", "Unsupported value 'odd' for safety.mode. Allowed values: none, "
             "fast, full.", "safety.mode", "videoInference", type="string",
             allowedValues=["none", "fast", "full"], default="none")]),
    ({**IMAGE, "referenceImages": [U, 5]},
     [_error("invalidReferenceImages", "Invalid value for referenceImages.1: 5. "
             "referenceImages.1 must be a URL, a UUID from an upload task, a data URI or base64 "
             "data.", "referenceImages.1", "imageInference", type="string")]),
    ({"taskUUID": U},
     [{"code": "missingParameter", "message": "Missing required parameter: taskType.",
       "parameter": "taskType", "type": "string", "documentation": link(None),
       "taskUUID": U}]),
    ({"taskType": "videoInference", "taskUUID": U},
     [_error("missingParameter", "Missing required parameter: model.", "model",
             "videoInference", type="string")]),
]


@pytest.mark.parametrize(("task", "expected"), WHOLE_ERRORS)
def test_whole_errors(task: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    checked = check_task(task)
    assert [problem.to_json() for problem in checked.errors] == expected
    assert checked.omitted == 0 and checked.task == task


def test_unsupported_task_type_and_invalid_model_in_whole() -> None:
    (problem,) = errors_of({"taskType": "imageTeleport", "taskUUID": U})
    supported = list(schemas.TASK_TYPES)
    assert problem == {"code": "unsupportedTaskType", "message": "Unsupported taskType "
                       f"'imageTeleport'. Supported: {', '.join(supported)}.",
                       "parameter": "taskType", "type": "string", "allowedValues": supported,
                       "documentation": link("imageTeleport", "taskType"),
                       "taskType": "imageTeleport",
                       "taskUUID": U}
    (problem,) = errors_of({"taskType": "audioInference", "taskUUID": U, "model": "x:1@1"})
    served = list(model_catalog.airs("audioInference"))
    assert problem == {"code": "invalidModel", "message": f"Invalid model 'x:1@1': this "
                       f"emulator serves {', '.join(served)} for audioInference.",
                       "parameter": "model", "type": "string", "allowedValues": served,
                       "documentation": link("audioInference", "model"),
                       "taskType": "audioInference", "taskUUID": U}


def test_unknown_fields_past_the_cap_are_counted() -> None:
    checked = check_task(_avatar_at(**{f"x{number}": 1 for number in range(3)}), most_errors=2)
    assert [problem.parameter for problem in checked.errors] == ["x0", "x1"]
    assert checked.omitted == 1
    nested = check_task(_avatar_at(inputs={"image": U, "audio": U, "a": 1, "b": 2, "c": 3}),
                        most_errors=1)
    assert [problem.parameter for problem in nested.errors] == ["inputs.a"]
    assert nested.omitted == 2
    # A task with exactly the fields the schema knows is checked fully too.
    full = _avatar_at(outputQuality=5)
    assert [p.code for p in check_task(full).errors] == ["invalidOutputQuality"]
