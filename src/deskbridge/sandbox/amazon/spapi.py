"""What every sandbox SP-API operation does around its payload (amazon.md §2): the regional endpoint,
the x-amz-access-token check (an LWA access token, or a Restricted Data Token for a restricted
resource), the usage plan, request ids, the configured latency and the SP-API error body."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from deskbridge.amazon.marketplaces import Region
from deskbridge.sandbox.amazon.app import SPAPI_PATH
from deskbridge.sandbox.amazon.models import SandboxAccessToken, SandboxSeller
from deskbridge.sandbox.amazon.ratelimit import UsagePlan, take_token
from deskbridge.sandbox.amazon.rdt import RDT_PREFIX, find_restricted_data_token, granted_elements
from deskbridge.sandbox.amazon.roles import Role, roles_of
from deskbridge.sandbox.amazon.tokens import TokenProblem, find_access_token

REGIONS = {"na": Region.NA, "eu": Region.EU, "fe": Region.FE}
ACCESS_DENIED = "Access to requested resource is denied."
INVALID_INPUT = "Invalid Input"

Payload = Callable[[HttpRequest, SandboxSeller], Any]


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: the seller and application behind its token.

    `access_token` is set for an LWA access token; `data_elements` for a Restricted Data Token,
    holding what the RDT grants for the requested resource (empty for operations without
    dataElements, such as getOrderAddress)."""

    seller: SandboxSeller
    application_id: str
    access_token: SandboxAccessToken | None = None
    data_elements: frozenset[str] | None = None

    @property
    def has_rdt(self) -> bool:
        return self.data_elements is not None

    @property
    def roles(self) -> frozenset[Role]:
        return roles_of(self.application_id)


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


def invalid_input(details: str, plan: UsagePlan) -> JsonResponse:
    """400 as the Orders models' examples write it; the details say what to fix."""
    return sp_error(400, "InvalidInput", INVALID_INPUT, details, rate_limit=plan.header)


def denied(details: str) -> JsonResponse:
    return sp_error(403, "Unauthorized", ACCESS_DENIED, details, error_type="AccessDeniedException")


def refuse_body(request: HttpRequest, plan: UsagePlan) -> JsonResponse | None:
    if request.body:
        return invalid_input("Body or Content-Length included in a GET request.", plan)
    return None


def simulate_latency() -> None:
    """DESKBRIDGE_SANDBOX_SPAPI_LATENCY_MS, read per request: Amazon's round trip, for benchmarks."""
    milliseconds = getattr(settings, "SANDBOX_SPAPI_LATENCY_MS", 0)
    if milliseconds > 0:
        time.sleep(milliseconds / 1000)


def _caller(request: HttpRequest, region: str, method: str, restricted: bool) -> Caller | JsonResponse:
    token = request.headers.get("x-amz-access-token")
    if token and token.startswith(RDT_PREFIX):
        if not restricted:
            return denied(
                "A Restricted Data Token authorizes only the restricted resources it lists; "
                "call this operation with an LWA access token."
            )
        rdt = find_restricted_data_token(token)
        if isinstance(rdt, TokenProblem):
            return denied(rdt.value.replace("access token", "Restricted Data Token"))
        resource = request.path_info.removeprefix(SPAPI_PATH.format(region=region))
        elements = granted_elements(rdt, method, resource)
        if elements is None:
            return denied(f"The Restricted Data Token does not list the resource {method} {resource}.")
        refresh = rdt.refresh_token
        return Caller(refresh.seller, refresh.application_id, data_elements=elements)
    found = find_access_token(token)
    if isinstance(found, TokenProblem):
        return denied(found.value)
    return Caller(found.refresh_token.seller, found.refresh_token.application_id, access_token=found)


def endpoint(
    name: str, plan: UsagePlan, *, method: str = "GET", api: str | None = None, restricted: bool = False
) -> Callable[[Callable[..., JsonResponse]], Callable[..., JsonResponse]]:
    """Turn `handler(request, caller, **path)` into the view of the SP-API operation `name`.

    The handler sees only authorized callers whose quota allows the call; it validates its own
    parameters. `api` (the model's file name) keeps the buckets of same-named operations of two
    APIs apart; `restricted` operations also take a Restricted Data Token that lists the resource."""
    bucket = f"{api}.{name}" if api else name

    def decorate(handler: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, region: str, **path: str) -> JsonResponse:
            simulate_latency()
            if region not in REGIONS:
                return sp_error(
                    404, "NotFound", "The resource specified does not exist.", rate_limit=plan.header
                )
            if request.method != method:
                response = sp_error(
                    405,
                    "MethodNotAllowed",
                    f"{request.method} is not allowed on this resource; use {method}.",
                )
                response["Allow"] = method
                return response
            caller = _caller(request, region, method, restricted)
            if isinstance(caller, JsonResponse):
                return caller
            if caller.seller.region != REGIONS[region]:
                return denied(
                    f"The access token you provided is for a selling partner of region "
                    f"{caller.seller.region}, not of this endpoint's region {REGIONS[region]}."
                )
            if not take_token(caller.seller, caller.application_id, bucket, plan):
                return sp_error(
                    429, "QuotaExceeded", "You exceeded your quota for the requested resource.", ""
                )
            return handler(request, caller, **path)

        return view

    return decorate


def operation(name: str, plan: UsagePlan) -> Callable[[Payload], Callable[..., JsonResponse]]:
    """Turn `payload(request, seller)` into the view of a GET operation without parameters whose
    answer is `{"payload": …}` (the Sellers API)."""

    def decorate(payload: Payload) -> Callable[..., JsonResponse]:
        @endpoint(name, plan)
        @wraps(payload)
        def handler(request: HttpRequest, caller: Caller) -> JsonResponse:
            if request.GET:
                return invalid_input(
                    f"{name} takes no parameters; unexpected: {', '.join(sorted(request.GET))}.", plan
                )
            refused = refuse_body(request, plan)
            if refused is not None:
                return refused
            return sp_response({"payload": payload(request, caller.seller)}, rate_limit=plan.header)

        return handler

    return decorate
