"""The Tokens API 2021-03-01 (models/tokens-api-model/tokens_2021-03-01.json): createRestrictedDataToken.

The body is checked against the model (restrictedResources required, at most 50; method and path
required, method one of the enum; dataElements where the operation takes them) and against the
resources the sandbox serves (rdt.py). A resource whose data needs a role the application lacks is
refused as Amazon has been seen to refuse it: 400 InvalidInput "Application do not have access to
some or all requested resource" (public report, jlevers/selling-partner-api#550). The sandbox
application is not a delegator, so targetApplication is refused.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse

from deskbridge.sandbox.amazon.ratelimit import UsagePlan
from deskbridge.sandbox.amazon.rdt import (
    MAX_RESOURCES,
    RDT_SECONDS,
    ResourceError,
    RoleError,
    check_resource,
    issue_restricted_data_token,
)
from deskbridge.sandbox.amazon.spapi import Caller, endpoint, sp_error, sp_response

API = "tokens_2021-03-01"
# The "Usage Plan" table in the operation's description (a contract test compares it).
USAGE_PLANS = {"createRestrictedDataToken": UsagePlan(rate=1, burst=10)}
PLAN = USAGE_PLANS["createRestrictedDataToken"]


def invalid_request(details: str) -> JsonResponse:
    """400 as the model's own example writes it."""
    return sp_error(
        400, "InvalidRequest", "Request is missing or has invalid parameters", details, rate_limit=PLAN.header
    )


def _resources(body: Any, caller: Caller) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise ResourceError("The body must be a JSON object with restrictedResources.")
    unknown = sorted(set(body) - {"restrictedResources", "targetApplication"})
    if unknown:
        raise ResourceError(f"The body has properties the model does not define: {', '.join(unknown)}.")
    if "targetApplication" in body:
        raise ResourceError(
            "targetApplication delegates access to another application; this application is not a delegator."
        )
    resources = body.get("restrictedResources")
    if resources is None:
        raise ResourceError("restrictedResources is required.")
    if not isinstance(resources, list) or not resources:
        raise ResourceError("restrictedResources must be a non-empty list.")
    if len(resources) > MAX_RESOURCES:
        raise ResourceError(
            f"restrictedResources takes at most {MAX_RESOURCES} resources, not {len(resources)}."
        )
    return [
        check_resource(resource, index, caller.application_id) for index, resource in enumerate(resources)
    ]


@endpoint("createRestrictedDataToken", PLAN, method="POST", api=API)
def create_restricted_data_token(request: HttpRequest, caller: Caller) -> JsonResponse:
    if request.GET:
        return invalid_request(
            f"createRestrictedDataToken takes no query parameters; unexpected: {', '.join(sorted(request.GET))}."
        )
    if not request.body:
        return invalid_request('The body is required: {"restrictedResources": [...]}.')
    if request.content_type != "application/json":
        return sp_error(
            415,
            "UnsupportedMediaType",
            "The request payload is in an unsupported format.",
            f"Send the body as application/json, not {request.content_type or 'without a Content-Type'}.",
        )
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return invalid_request("The body is not valid JSON.")
    try:
        resources = _resources(body, caller)
    except ResourceError as problem:
        return invalid_request(str(problem))
    except RoleError as problem:
        return sp_error(
            400,
            "InvalidInput",
            "Application do not have access to some or all requested resource",
            str(problem),
            rate_limit=PLAN.header,
        )
    assert caller.access_token is not None  # the endpoint takes no RDT
    token = issue_restricted_data_token(caller.access_token, resources)
    return sp_response({"restrictedDataToken": token, "expiresIn": RDT_SECONDS}, rate_limit=PLAN.header)
