"""What every sandbox SP-API operation does around its payload (amazon.md §2): the regional endpoint,
the x-amz-access-token check, the usage plan, request ids and the SP-API error body."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from deskbridge.amazon.marketplaces import Region
from deskbridge.sandbox.amazon.models import SandboxSeller
from deskbridge.sandbox.amazon.ratelimit import UsagePlan, take_token
from deskbridge.sandbox.amazon.tokens import TokenProblem, find_access_token

REGIONS = {"na": Region.NA, "eu": Region.EU, "fe": Region.FE}
ACCESS_DENIED = "Access to requested resource is denied."

Payload = Callable[[HttpRequest, SandboxSeller], Any]


def sp_response(body: dict[str, Any], status: int = 200, rate_limit: str | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    if rate_limit is not None:
        response["x-amzn-RateLimit-Limit"] = rate_limit
    return response


def sp_error(
    status: int,
    code: str,
    message: str,
    details: str | None = None,
    *,
    error_type: str | None = None,
    rate_limit: str | None = None,
) -> JsonResponse:
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    response = sp_response({"errors": [error]}, status, rate_limit)
    if error_type:
        response["x-amzn-ErrorType"] = error_type
    return response


def _denied(details: str) -> JsonResponse:
    return sp_error(403, "Unauthorized", ACCESS_DENIED, details, error_type="AccessDeniedException")


def operation(name: str, plan: UsagePlan) -> Callable[[Payload], Callable[..., JsonResponse]]:
    """Turn `payload(request, seller)` into the view of the SP-API operation `name`."""

    def decorate(payload: Payload) -> Callable[..., JsonResponse]:
        @csrf_exempt
        @wraps(payload)
        def view(request: HttpRequest, region: str) -> JsonResponse:
            if region not in REGIONS:
                return sp_error(
                    404, "NotFound", "The resource specified does not exist.", rate_limit=plan.header
                )
            if request.method != "GET":
                response = sp_error(
                    405, "MethodNotAllowed", f"{request.method} is not allowed on this resource; use GET."
                )
                response["Allow"] = "GET"
                return response
            found = find_access_token(request.headers.get("x-amz-access-token"))
            if isinstance(found, TokenProblem):
                return _denied(found.value)
            seller = found.refresh_token.seller
            if seller.region != REGIONS[region]:
                return _denied(
                    f"The access token you provided is for a selling partner of region {seller.region}, "
                    f"not of this endpoint's region {REGIONS[region]}."
                )
            if not take_token(seller, found.refresh_token.application_id, name, plan):
                return sp_error(
                    429, "QuotaExceeded", "You exceeded your quota for the requested resource.", ""
                )
            if request.GET:
                return sp_error(
                    400,
                    "InvalidInput",
                    "Invalid Input",
                    f"{name} takes no parameters; unexpected: {', '.join(sorted(request.GET))}.",
                    rate_limit=plan.header,
                )
            if request.body:
                return sp_error(
                    400,
                    "InvalidInput",
                    "Invalid Input",
                    "Body or Content-Length included in a GET request.",
                    rate_limit=plan.header,
                )
            return sp_response({"payload": payload(request, seller)}, rate_limit=plan.header)

        return view

    return decorate
