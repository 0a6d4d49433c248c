"""Traffic that costs nothing: keep-alive, refused keys, tasks the API must reject on submit."""

from __future__ import annotations

from hypothesis import given

from runware_mock.contract import conformance, schemas
from runware_mock.contract import strategies as rs
from runware_mock.contract.harness import Emulator
from runware_mock.contract.suite.checks import assert_conforms, assert_single_error
from runware_mock.contract.suite.conftest import Target

WRONG_KEY = "runware-mock-contract-suite-wrong-key"


def test_ping_is_answered_with_pong(target: Target) -> None:
    response = target.post([{"taskType": "ping", "ping": True}])
    body = response.json()
    assert_conforms(conformance.check_envelope(body, response.status_code))
    assert [conformance.item_schema(item) for item in body["data"]] == ["response.pong"]


def test_authentication_in_the_body(target: Target) -> None:
    response = target.post([{"taskType": "authentication", "apiKey": target.api_key},
                            {"taskType": "ping", "ping": True}], api_key="")
    body = response.json()
    assert_conforms(conformance.check_envelope(body, response.status_code))
    assert [conformance.item_schema(item) for item in body["data"]] == [
        "response.authentication", "response.pong"]


def test_a_wrong_api_key_is_refused(target: Target) -> None:
    response = target.post([rs.poll_task(rs.new_task_uuid())], api_key=WRONG_KEY)
    assert response.status_code == 401, response.text
    assert_single_error(response, "invalidApiKey")


def test_polling_an_unknown_task(target: Target) -> None:
    task_uuid = rs.new_task_uuid()
    response = target.post([rs.poll_task(task_uuid)])
    assert_single_error(response, "taskNotFound", "taskUUID")
    assert response.json()["errors"][0].get("taskUUID") == task_uuid


def test_a_body_that_is_not_json(target: Target) -> None:
    assert_single_error(target.post_raw(b"{not json"), "invalidJSON")


def test_a_body_that_is_not_a_task_array(target: Target) -> None:
    assert_single_error(target.post_raw(b'{"taskType": "ping"}'), "invalidRequestFormat")


def test_invalid_tasks_get_the_catalog_error(target: Target) -> None:
    @target.properties()
    @given(rs.invalid_avatar_tasks())
    def rejected(case: rs.InvalidCase) -> None:
        task = case.task
        if target.remote and not case.parameter.startswith("inputs") \
                and isinstance(task.get("inputs"), dict):
            # Were the service to accept the task after all, it fails on its inputs instead of
            # rendering at a cost.
            task = {**task, "inputs": rs.unfetchable_inputs()}
        response = target.post([task])
        assert_conforms(conformance.check_rejection(
            response.json(), response.status_code, task, case.code, case.parameter,
            case.allowed_values))

    rejected()


def test_the_schemas_are_published(target: Target, emulator: Emulator) -> None:
    """The emulator serves each schema at /schemas/{name}.json (the real service does not)."""
    root = emulator.base_url
    for name in schemas.names():
        response = target.http.get(f"{root}/schemas/{name}.json")
        assert response.status_code == 200, name
        assert response.json() == schemas.load(name)
