"""What every emulated Gorgias API call goes through: the account, Basic auth (user email + API key),
the leaky bucket (40 requests / 20 s per API key, `X-Gorgias-Account-Api-Call-Limit` on every answer,
429 with `Retry-after`), JSON bodies, cursor pagination, and the `{"error": {"msg", "data"}}` body."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from deskbridge.sandbox.helpdesks.gorgias.account import GorgiasAccount
from deskbridge.sandbox.helpdesks.gorgias.schema import Errors
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskBucket, SandboxHelpdeskRecord
from deskbridge.sandbox.helpdesks.state import take_token

LIMIT_REQUESTS, LIMIT_SECONDS = 40, 20.0
Handler = Callable[..., Any]


class ApiError(Exception):
    def __init__(self, status: int, msg: str, data: Errors | None = None) -> None:
        super().__init__(msg)
        self.status, self.msg, self.data = status, msg, data


def error_body(msg: str, data: Errors | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"msg": msg}
    if data:
        error["data"] = data
    return {"error": error}


def not_found() -> ApiError:
    return ApiError(404, "Resource not found.")


def invalid(msg: str, data: Errors) -> ApiError:
    return ApiError(400, msg, data)


def json_body(request: HttpRequest, msg: str) -> Any:
    if not request.body:
        raise invalid(msg, {"_schema": ["Invalid input type."]})
    try:
        return json.loads(request.body)
    except ValueError as exc:
        raise ApiError(400, "Invalid JSON body.") from exc


def api_user(account: GorgiasAccount, request: HttpRequest) -> dict[str, Any] | None:
    """The user whose email and API key the Basic credentials are, if they are."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        email, _, key = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    found = account.records.find("api-keys", key) if key else None
    if found is None or found.data.get("email", "").lower() != email.lower():
        return None
    return account.user(pk=found.data["user_id"])


def calls_used(key: str) -> int:
    bucket = SandboxHelpdeskBucket.objects.filter(key=key).first()
    tokens = bucket.tokens if bucket else float(LIMIT_REQUESTS)
    return max(0, min(LIMIT_REQUESTS, math.ceil(LIMIT_REQUESTS - tokens)))


def answer(status: int, body: Any, used: int | None = None) -> HttpResponse:
    response = (
        JsonResponse(body, status=status, safe=False) if body is not None else HttpResponse(status=status)
    )
    if used is not None:
        response["X-Gorgias-Account-Api-Call-Limit"] = f"{used}/{LIMIT_REQUESTS}"
    return response


def endpoint(**methods: Handler) -> Callable[..., HttpResponse]:
    """One API path: `methods` maps GET/POST/PUT to `handler(request, account, user, **path)`, which
    returns (status, body) or raises ApiError."""

    @csrf_exempt
    def view(request: HttpRequest, domain: str, **raw: str) -> HttpResponse:
        path = {name: int(value) for name, value in raw.items()}  # the URL patterns take digits only
        account = GorgiasAccount(domain)
        if not account.exists():
            return answer(404, error_body("Resource not found."))
        user = api_user(account, request)
        if user is None or not user.get("active", True):
            return answer(401, error_body("Unauthorized. Check the username (email) and the API key."))
        bucket = f"gorgias:{domain}:api-key:{user['id']}"
        wait = take_token(bucket, LIMIT_REQUESTS, LIMIT_SECONDS)
        if wait > 0:
            response = answer(429, error_body("Too many requests."), LIMIT_REQUESTS)
            response["Retry-after"] = str(max(1, math.ceil(wait)))
            return response
        handler = methods.get(request.method or "")
        try:
            if handler is None:
                raise ApiError(405, "Method not allowed.")
            with account.atomic():
                status, body = handler(request, account, user, **path)
        except ApiError as exc:
            return answer(exc.status, error_body(exc.msg, exc.data), calls_used(bucket))
        return answer(status, body, calls_used(bucket))

    return view


def admin_only(user: dict[str, Any]) -> None:
    """Settings (integrations, custom fields) need an admin: 403, as for a role without permission."""
    if (user.get("role") or {}).get("name") != "admin":
        raise ApiError(403, "You don't have the permission to perform this action.")


# -- listings ------------------------------------------------------------------------------------
def _cursor(direction: str, pk: int) -> str:
    return base64.b64encode(json.dumps([direction, pk]).encode()).decode()


def _read_cursor(value: str) -> tuple[str, int]:
    try:
        direction, pk = json.loads(base64.b64decode(value, validate=True))
        if direction in ("next", "prev") and isinstance(pk, int):
            return direction, pk
    except (ValueError, TypeError, binascii.Error):
        pass
    raise invalid("Invalid parameters", {"cursor": ["Invalid cursor."]})


def query(request: HttpRequest, allowed: set[str], required: set[str] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    """The query parameters, refusing unknown and missing ones as the API does."""
    params = {k: request.GET.get(k, "") for k in request.GET}
    errors: Errors = {
        k: ["Unknown field."] for k in params if k not in allowed | {"cursor", "limit", "order_by"}
    }
    errors.update({k: ["Missing data for required field."] for k in required if k not in params})
    limit = params.get("limit", "30")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        errors["limit"] = ["Must be greater than or equal to 1 and less than or equal to 100."]
    if errors:
        raise invalid("Invalid parameters", errors)
    return params


def page(
    request: HttpRequest,
    records: list[SandboxHelpdeskRecord],
    render: Callable[[Any], Any],
    params: dict[str, str],
    orders: tuple[str, ...] = ("created_datetime",),
) -> tuple[int, dict[str, Any]]:
    """One page of `records` (oldest first by id) as the documented list envelope."""
    order = params.get("order_by") or f"{orders[0]}:desc"
    field, _, direction = order.partition(":")
    if field not in orders or direction not in ("asc", "desc"):
        raise invalid(
            "Invalid parameters",
            {"order_by": [f"Must be one of: {', '.join(f'{o}:asc, {o}:desc' for o in orders)}."]},
        )
    ordered = sorted(records, key=lambda r: r.pk, reverse=direction == "desc")
    limit = int(params.get("limit") or 30)
    start = 0
    if params.get("cursor"):
        way, pk = _read_cursor(params["cursor"])
        positions = {r.pk: i for i, r in enumerate(ordered)}
        if pk not in positions:
            raise invalid("Invalid parameters", {"cursor": ["Invalid cursor."]})
        start = positions[pk] + 1 if way == "next" else max(0, positions[pk] - limit)
    chunk = ordered[start : start + limit]
    meta = {
        "prev_cursor": _cursor("prev", chunk[0].pk) if chunk and start > 0 else None,
        "next_cursor": _cursor("next", chunk[-1].pk) if chunk and start + limit < len(ordered) else None,
    }
    full = request.get_full_path()
    uri = full[full.find("/api/") :]
    return 200, {"data": [render(r) for r in chunk], "object": "list", "uri": uri, "meta": meta}
