"""A small synchronous client for the emulator's admin API (``/__admin``).

    from runware_mock.admin.client import AdminClient

    with AdminClient("http://127.0.0.1:8787") as admin:
        admin.complete(task_uuid)                   # skip the latency, wait for the video
        admin.verify(task_type="getResponse", at_least=1)
        attempts = admin.wait_for_deliveries(task_uuid)

Every method raises ``AdminError`` when the emulator answers with an error.
"""

from __future__ import annotations

import time
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

Moment = float | datetime


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str, parameter: Any = None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter


class VerificationError(AdminError, AssertionError):
    """``verify`` found another number of journal entries than expected."""


class AdminClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        """``base_url`` is the server's root; an API URL ending in ``/v1`` works as well."""
        root = base_url.rstrip("/").removesuffix("/v1").removesuffix("/__admin")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=f"{root}/__admin", headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def openapi(self) -> dict[str, Any]:
        return self._call("GET", "/openapi.json")

    def journal(self, task_uuid: str | None = None, task_type: str | None = None,
                since: Moment | None = None, until: Moment | None = None,
                transport: str | None = None, kind: str | None = None,
                api_key: str | None = None, limit: int | None = None,
                fault: str | None = None) -> list[dict[str, Any]]:
        """Matching requests and frames, oldest first (``limit``: only the newest N;
        ``fault``: hit by a fault of this kind, or "any", or "none")."""
        params = _filters(task_uuid, task_type, since, until, transport, kind, api_key, fault)
        if limit is not None:
            params["limit"] = str(limit)
        return list(self._call("GET", "/journal", params=params)["entries"])

    def count(self, task_uuid: str | None = None, task_type: str | None = None,
              since: Moment | None = None, until: Moment | None = None,
              transport: str | None = None, kind: str | None = None,
              api_key: str | None = None, fault: str | None = None) -> int:
        params = _filters(task_uuid, task_type, since, until, transport, kind, api_key, fault)
        return int(self._call("GET", "/journal/count", params=params)["count"])

    def verify(self, *, count: int | None = None, at_least: int | None = None,
               at_most: int | None = None, task_uuid: str | None = None,
               task_type: str | None = None, since: Moment | None = None,
               until: Moment | None = None, transport: str | None = None,
               kind: str | None = None, api_key: str | None = None,
               fault: str | None = None) -> int:
        """Raise ``VerificationError`` unless the matching entries number ``count`` (or lie
        within ``at_least``/``at_most``; at least one when no bound is given)."""
        params = _filters(task_uuid, task_type, since, until, transport, kind, api_key, fault)
        bounds = {"count": count, "atLeast": at_least, "atMost": at_most}
        params.update({name: str(value) for name, value in bounds.items() if value is not None})
        try:
            return int(self._call("GET", "/journal/verify", params=params)["count"])
        except AdminError as exc:
            if exc.code == "journalVerificationFailed":
                raise VerificationError(exc.status, exc.code, exc.message) from None
            raise

    def reset_journal(self) -> None:
        self._call("DELETE", "/journal")

    def tasks(self, state: str | None = None) -> list[dict[str, Any]]:
        params = {"state": state} if state else {}
        return list(self._call("GET", "/tasks", params=params)["tasks"])

    def task(self, task_uuid: str) -> dict[str, Any]:
        return self._call("GET", f"/tasks/{task_uuid}")

    def complete(self, task_uuid: str, wait: bool = True) -> dict[str, Any]:
        """Finish the task without its latency; with ``wait``, return it once finished."""
        return self._call("POST", f"/tasks/{task_uuid}/complete",
                          params={"wait": "true" if wait else "false"})

    def fail(self, task_uuid: str, code: str | None = None,
             message: str | None = None) -> dict[str, Any]:
        body = {name: value for name, value in (("code", code), ("message", message))
                if value is not None}
        return self._call("POST", f"/tasks/{task_uuid}/fail", json=body)

    def deliveries(self, task_uuid: str | None = None,
                   kind: str | None = None) -> list[dict[str, Any]]:
        params = {name: value for name, value in (("taskUUID", task_uuid), ("kind", kind))
                  if value is not None}
        return list(self._call("GET", "/deliveries", params=params)["attempts"])

    def wait_for_deliveries(self, task_uuid: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The task's attempts once it has finished and none of its deliveries is in progress."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.task(task_uuid)
            found = self._call("GET", "/deliveries", params={"taskUUID": task_uuid})
            if state["state"] != "processing" and found["pending"] == 0:
                return list(found["attempts"])
            if time.monotonic() > deadline:
                raise TimeoutError(f"deliveries of task {task_uuid} still in progress: {found}")
            time.sleep(0.05)

    def clock(self) -> float:
        return float(self._call("GET", "/clock")["now"])

    def advance(self, seconds: float) -> float:
        """Move the simulated clock forward; returns its new reading."""
        return float(self._call("POST", "/clock/advance", json={"seconds": seconds})["now"])

    def reset(self) -> None:
        self._call("POST", "/reset")

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules in force (admin, then profile), with their counters."""
        return list(self._call("GET", "/faults")["rules"])

    def add_fault(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Add a rule: ``add_fault("http_error", status=503, taskType="videoInference",
        times=1)``; returns it with its ``id``."""
        return self._call("POST", "/faults", json={"kind": kind, **fields})

    def remove_fault(self, rule_id: str) -> None:
        self._call("DELETE", f"/faults/{rule_id}")

    def clear_faults(self) -> int:
        """Remove every rule; returns how many there were."""
        return int(self._call("DELETE", "/faults")["cleared"])

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        body = _json_or_none(response)
        if response.is_success and isinstance(body, dict):
            return body
        problem = (body or {}).get("errors", [{}])[0] if isinstance(body, dict) else {}
        raise AdminError(response.status_code, problem.get("code", "unexpectedResponse"),
                         problem.get("message", response.text[:500]), problem.get("parameter"))


def _filters(task_uuid: str | None, task_type: str | None, since: Moment | None,
             until: Moment | None, transport: str | None, kind: str | None,
             api_key: str | None, fault: str | None = None) -> dict[str, str]:
    given = {"taskUUID": task_uuid, "taskType": task_type, "since": _moment(since),
             "until": _moment(until), "transport": transport, "kind": kind, "apiKey": api_key,
             "fault": fault}
    return {name: value for name, value in given.items() if value is not None}


def _moment(value: Moment | None) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else repr(float(value))


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
