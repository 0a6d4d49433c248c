"""Assertions of the suite, each failing with the full list of drift it found."""

from __future__ import annotations

import httpx

from runware_mock.contract import conformance


def assert_conforms(problems: list[conformance.Problem]) -> None:
    assert not problems, conformance.describe(problems)


def assert_single_error(response: httpx.Response, code: str,
                        parameter: str | None = None) -> None:
    """The reply conforms and holds exactly this one error (``parameter``: when given)."""
    body = response.json()
    assert_conforms(conformance.check_envelope(body, response.status_code))
    errors = body.get("errors", [])
    assert len(errors) == 1 and not body.get("data"), f"contract drift: {body}"
    found = (errors[0]["code"], errors[0].get("parameter") if parameter else None)
    assert found == (code, parameter), f"contract drift: expected {code} {parameter}, got {body}"
