"""The admin API's view of each API key's account: its balance, what it spent, its uploaded
models (``GET /__admin/accounts/{apiKey}``), and setting its balance
(``PUT /__admin/accounts/{apiKey}/balance``)."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runware_mock.admin.inspected import Inspected
from runware_mock.admin.params import AdminInputError, json_object, reject_unknown
from runware_mock.handling.accounts import Accounts
from runware_mock.protocol.jsoncodec import JSONResponse


async def account(request: Request, services: Inspected) -> Response:
    reject_unknown(request.query_params, ())
    return JSONResponse(account_json(services.tasks.accounts, request.path_params["apiKey"]))


async def set_balance(request: Request, services: Inspected) -> Response:
    """``{"balance": USD}`` (``null``: unlimited): what the key has left from now on."""
    reject_unknown(request.query_params, ())
    body = await json_object(request)
    reject_unknown(body, ("balance",))
    owner = request.path_params["apiKey"]
    services.tasks.accounts.set_balance(owner, balance_field(body))
    return JSONResponse(account_json(services.tasks.accounts, owner))


def balance_field(body: dict[str, Any]) -> float:
    if "balance" not in body:
        raise AdminInputError("balance", "balance is required, e.g. {\"balance\": 5.0} (USD; "
                              "null for unlimited).")
    raw = body["balance"]
    if raw is None:
        return math.inf
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw < math.inf:
        raise AdminInputError("balance", f"balance must be a number of USD, at least 0, or "
                              f"null for unlimited; got {raw!r}.")
    return float(raw)


def account_json(accounts: Accounts, owner: str) -> dict[str, Any]:
    balance = accounts.balance(owner)
    return {"apiKey": owner, "balance": round(balance, 5) if balance != math.inf else None,
            "spent": round(accounts.spent(owner), 5), "usage": accounts.usage(owner),
            "uploadedModels": [spec["air"] for spec in accounts.uploaded_models(owner)]}
