"""Login with Amazon's token endpoint, POST /auth/o2/token (amazon.md §1.5), as strict as the real one.

Form-encoded body only; every parameter exactly once; client authentication by client_id and
client_secret in the body; errors in the OAuth 2.0 shape {"error", "error_description"}.
"""

from __future__ import annotations

import hmac
import uuid
from collections import defaultdict
from urllib.parse import parse_qsl

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from deskbridge.sandbox.amazon import applications
from deskbridge.sandbox.amazon.tokens import (
    GrantError,
    IssuedTokens,
    redeem_authorization_code,
    refresh_access_token,
)

FORM = "application/x-www-form-urlencoded"
GRANT_PARAMETERS = {
    "authorization_code": ("code", "redirect_uri", "client_id", "client_secret"),
    "refresh_token": ("refresh_token", "client_id", "client_secret"),
}


def _answer(body: dict[str, object], status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Content-Type"] = "application/json;charset=UTF-8"
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    return response


def oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    return _answer({"error": error, "error_description": description}, status)


def _tokens(issued: IssuedTokens) -> JsonResponse:
    return _answer(
        {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "refresh_token": issued.refresh_token,
        }
    )


@csrf_exempt
def token(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = oauth_error("invalid_request", "The token endpoint only accepts HTTP POST.", 405)
        response["Allow"] = "POST"
        return response
    if request.content_type != FORM:
        return oauth_error("invalid_request", f"The request Content-Type must be {FORM}.")
    try:
        pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return oauth_error("invalid_request", "The request body is not valid UTF-8.")
    params: dict[str, list[str]] = defaultdict(list)
    for name, value in pairs:
        params[name].append(value)
    for name, values in params.items():
        if len(values) > 1:
            return oauth_error("invalid_request", f"The request has a duplicate parameter : {name}")
    form = {name: values[0] for name, values in params.items()}

    grant_type = form.get("grant_type")
    if not grant_type:
        return oauth_error("invalid_request", "The request is missing a required parameter : grant_type")
    if grant_type not in GRANT_PARAMETERS:
        return oauth_error(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )
    for name in GRANT_PARAMETERS[grant_type]:
        if not form.get(name):
            return oauth_error("invalid_request", f"The request is missing a required parameter : {name}")

    application = applications.by_client_id(form["client_id"])
    if application is None or not hmac.compare_digest(
        form["client_secret"].encode(), application.lwa_client_secret.encode()
    ):
        return oauth_error("invalid_client", "Client authentication failed", 401)

    try:
        if grant_type == "authorization_code":
            issued = redeem_authorization_code(form["code"], application.application_id, form["redirect_uri"])
        else:
            issued = refresh_access_token(form["refresh_token"], application.application_id)
    except GrantError as error:
        return oauth_error("invalid_grant", str(error))
    return _tokens(issued)
