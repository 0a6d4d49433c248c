"""``accountManagement``: the API key's account, from what the key spent (runware-surface.md
§2.11).

``getDetails`` (the documented operation) answers ``operation``, ``organizationUUID``,
``organizationName``, ``AIRSource`` (the first ``--air-source``), ``balance`` (USD left:
``--balance`` or the admin API's, less what the key spent since; ``null`` while unlimited),
``team``, ``apiKeys`` (the key, masked, with its requests and last use) and ``usage``
``{total, today, last7Days, last30Days: {credits, requests}}``: USD charged (every result's
price, whether or not ``includeCost`` showed it) and tasks run in each window.

runware-sdk 1.8's usage operations, whose formats are unclear in sources, answer ``usage``
``{total: {credits, requests}, groups: [...]}``, the key's results between ``startDate`` and
``endDate`` (ISO 8601, read in ``timezone``, UTC by default; an end date alone includes its
whole day), of the ``models`` given, grouped by ``groupBy`` (``day``, ``model``, ``apiKey``,
``taskType``; default ``day``). Each group of ``getUsageActivity`` has ``credits`` and
``requests``; of ``getUsagePerformance`` ``requests``, ``results``, ``succeeded``, ``failed``
and ``successRate``; of ``getUsageErrors`` (failed results only) ``code`` and ``count``.
"""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import AccountManagementRequest
from runware_mock.handling.accounts import Accounts
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.protocol.envelope import Reply, succeeded
from runware_mock.store.account_tables import Spent

ORGANIZATION_NAME = "runware-mock"
# Names the organization of each key, the same on every run.
_ORGANIZATIONS = uuid.UUID("6f1c1f0e-6a43-4a8e-9d5c-3f0a2b1c7d11")
_SHOWN = 4  # characters of the key shown at each end of its masked form


async def account_management(task: AccountManagementRequest, context: Context,
                             services: TaskServices) -> Reply:
    accounts, owner = services.accounts, context.owner
    item: dict[str, Any] = {"taskType": task["taskType"], "taskUUID": task["taskUUID"],
                            "operation": task["operation"]}
    if task["operation"] == "getDetails":
        item.update(_details(accounts, owner, services.settings.air_sources))
    else:
        item.update(_usage_report(task, accounts.activity(owner), owner))
    return succeeded(item)


def _details(accounts: Accounts, owner: str, air_sources: tuple[str, ...]) -> dict[str, Any]:
    balance = accounts.balance(owner)
    usage = accounts.usage(owner)
    activity = accounts.activity(owner)
    joined = activity[0].at if activity else None
    return {
        "organizationUUID": str(uuid.uuid5(_ORGANIZATIONS, owner)),
        "organizationName": ORGANIZATION_NAME,
        "AIRSource": air_sources[0] if air_sources else "",
        "balance": round(balance, 5) if balance != float("inf") else None,
        "team": [{"name": ORGANIZATION_NAME, "email": "owner@runware-mock.invalid",
                  "roles": ["Owner"], "joinedAt": _iso(joined)}],
        "apiKeys": [{"name": "default", "apiKey": masked(owner), "description": "",
                     "createdAt": _iso(joined), "enabled": True,
                     "requests": usage["total"]["requests"],
                     "lastUsedAt": _iso(accounts.last_used(owner))}],
        "usage": usage,
    }


def masked(key: str) -> str:
    """The key as the account lists it: its ends, the middle hidden."""
    if len(key) <= 2 * _SHOWN:
        return "*" * len(key)
    return key[:_SHOWN] + "*" * (len(key) - 2 * _SHOWN) + key[-_SHOWN:]


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat().replace("+00:00", "Z")


# --- runware-sdk 1.8's usage operations ----------------------------------------------------

Group = Callable[[Spent, datetime.tzinfo, str], str]
GROUPS: dict[str, Group] = {
    "day": lambda spent, zone, key: datetime.datetime.fromtimestamp(spent.at, zone)
    .date().isoformat(),
    "model": lambda spent, zone, key: spent.model,
    "apiKey": lambda spent, zone, key: masked(key),
    "taskType": lambda spent, zone, key: spent.task_type,
}


def _usage_report(task: AccountManagementRequest, activity: list[Spent],
                  owner: str) -> dict[str, Any]:
    zone = _zone(task.get("timezone", "UTC"))
    start = _instant(task, "startDate", zone, end=False)
    end = _instant(task, "endDate", zone, end=True)
    models = set(task.get("models", ()))
    keys = task.get("apiKeys")
    chosen = [spent for spent in activity
              if (start is None or spent.at >= start) and (end is None or spent.at < end)
              and (not models or spent.model in models)
              and (keys is None or owner in keys or masked(owner) in keys)]
    if task["operation"] == "getUsageErrors":
        chosen = [spent for spent in chosen if spent.error_code is not None]
    group_by = task.get("groupBy") or ["day"]
    grouped: dict[tuple[str, ...], list[Spent]] = defaultdict(list)
    for spent in chosen:
        grouped[tuple(GROUPS[name](spent, zone, owner) for name in group_by)].append(spent)
    groups = []
    for values, members in sorted(grouped.items()):
        named = dict(zip(group_by, values, strict=True))
        groups += [{**named, **row} for row in _rows(task["operation"], members)]
    report: dict[str, Any] = {"groupBy": group_by, "timezone": task.get("timezone", "UTC")}
    for name in ("startDate", "endDate"):
        if name in task:
            report[name] = task[name]
    return {**report, "usage": {"total": _activity(chosen), "groups": groups}}


def _rows(operation: str, members: list[Spent]) -> list[dict[str, Any]]:
    if operation == "getUsageActivity":
        return [_activity(members)]
    if operation == "getUsagePerformance":
        failed = sum(spent.error_code is not None for spent in members)
        return [{"requests": len({spent.task_uuid for spent in members}),
                 "results": len(members), "succeeded": len(members) - failed,
                 "failed": failed, "successRate": round((len(members) - failed)
                                                        / len(members), 4)}]
    codes: dict[str, int] = defaultdict(int)
    for spent in members:
        codes[str(spent.error_code)] += 1
    return [{"code": code, "count": count} for code, count in sorted(codes.items())]


def _activity(members: list[Spent]) -> dict[str, float | int]:
    return {"credits": round(sum(spent.cost for spent in members), 5),
            "requests": len({spent.task_uuid for spent in members})}


def _zone(name: str) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ApiRefusal(error("invalidTimezone", f"Unknown timezone {name[:64]!r}: use an "
                               "IANA name such as UTC or Europe/Paris.", parameter="timezone",
                               type="string")) from None


def _instant(task: AccountManagementRequest, name: str, zone: datetime.tzinfo,
             end: bool) -> float | None:
    """Unix seconds of the date (its day's end for an ``endDate`` without a time)."""
    text = task.get(name)
    if text is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ApiRefusal(error(f"invalid{name[0].upper()}{name[1:]}",
                               f"{name} {text!r} is not an ISO 8601 date (YYYY-MM-DD) or time.",
                               parameter=name, type="string")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        if end and len(text) == len("YYYY-MM-DD"):
            moment += datetime.timedelta(days=1)
        return moment.timestamp()
    except OverflowError:  # the end of 9999-12-31: no bound on that side
        return None


TASK_TYPE = TaskType.immediate("accountManagement", account_management,
                               "request.accountManagement")
