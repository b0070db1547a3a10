"""The emulated Help Scout OAuth 2.0: the token endpoint and the consent page.

Both grants Help Scout offers: client credentials (an account's own app, App ID + App Secret:
what `seed.create_account` returns) and authorization code (a partner app such as deskbridge's,
registered here with the constants in seed.py). The consent page stands in for
secure.helpscout.net/authentication/authorizeClientApplication: a signed-in-looking user picks the
emulated account and presses Authorize, and is sent back with `?code=…&state=…`. Help Scout sends
the user to the redirection URL registered with the app; the sandbox's partner app has none
registered, so it uses the `redirect_uri` the authorize link carries.

The token endpoint takes JSON, form or query parameters (as Help Scout does) and answers
`{token_type, access_token, expires_in}` (+ `refresh_token` for the code grant). Refresh tokens
are single-use: a refresh answers with a new one.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from deskbridge.sandbox.helpdesks.helpscout import store
from deskbridge.sandbox.helpdesks.helpscout.seed import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

PARTNER_APPS = {SANDBOX_CLIENT_ID: {"secret": SANDBOX_CLIENT_SECRET, "name": "deskbridge"}}
CODE_LIFETIME = 600


def oauth_error(status: int, code: str, description: str) -> JsonResponse:
    return JsonResponse({"error": code, "error_description": description}, status=status)


def _params(request: HttpRequest) -> dict[str, str] | None:
    values = {k: str(request.GET.get(k, "")) for k in request.GET}
    if (request.content_type or "").startswith("application/json"):
        try:
            body: Any = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(body, dict):
            return None
        values.update({k: str(v) for k, v in body.items()})
    else:
        values.update({k: str(request.POST.get(k, "")) for k in request.POST})
    return values


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return oauth_error(405, "invalid_request", "POST the token request")
    params = _params(request)
    if params is None:
        return oauth_error(400, "invalid_request", "malformed JSON body")
    grant = params.get("grant_type", "")
    client_id, client_secret = params.get("client_id", ""), params.get("client_secret", "")
    if not grant or not client_id or not client_secret:
        return oauth_error(400, "invalid_request", "grant_type, client_id and client_secret are required")
    with transaction.atomic():
        if grant == "client_credentials":
            app = store.find_anywhere("apps", client_id)
            if app is None or not secrets.compare_digest(app.data["clientSecret"], client_secret):
                return oauth_error(401, "invalid_client", "unknown App ID or wrong App Secret")
            return JsonResponse(
                store.issue_token(app.account, client_id, app.data["userId"], with_refresh=False)
            )
        partner = PARTNER_APPS.get(client_id)
        if partner is None or not secrets.compare_digest(partner["secret"], client_secret):
            return oauth_error(401, "invalid_client", "unknown App ID or wrong App Secret")
        if grant == "authorization_code":
            code = store.find_anywhere("codes", params.get("code", ""))
            if code is None or code.data["clientId"] != client_id or code.data["expiresAt"] < time.time():
                return oauth_error(400, "invalid_grant", "the authorization code is invalid or expired")
            account, user_id = code.account, code.data["userId"]
            code.delete()  # single use
            return JsonResponse(store.issue_token(account, client_id, user_id, with_refresh=True))
        if grant == "refresh_token":
            refresh = store.find_anywhere("refresh_tokens", params.get("refresh_token", ""))
            if refresh is None or refresh.data["clientId"] != client_id:
                return oauth_error(400, "invalid_grant", "the refresh token is invalid")
            account, user_id = refresh.account, refresh.data["userId"]
            refresh.delete()
            return JsonResponse(store.issue_token(account, client_id, user_id, with_refresh=True))
    return oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")


def consent(request: HttpRequest) -> HttpResponse:
    """secure.helpscout.net/authentication/authorizeClientApplication, for the sandbox's accounts."""
    source = request.POST if request.method == "POST" else request.GET
    client_id, state = str(source.get("client_id") or ""), str(source.get("state") or "")
    redirect_uri = str(source.get("redirect_uri") or "")
    app = PARTNER_APPS.get(client_id)
    if app is None or not redirect_uri.startswith(("http://", "https://")):
        reason = "Unknown application." if app is None else "The application has no redirection URL."
        return render(request, "sandbox/helpscout/consent_error.html", {"reason": reason}, status=400)
    accounts = store.records("").accounts()
    if request.method == "POST":
        if "deny" in request.POST:
            return redirect(f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': state})}")
        account = request.POST.get("account", "").strip()
        if not account or len(account) > 100 or not account.replace("-", "").replace("_", "").isalnum():
            messages.error(request, "Name a Help Scout account (letters, digits, - and _).")
        else:
            with transaction.atomic():
                parts = store.ensure_account(account)
                code = secrets.token_hex(16)
                store.records(account).create(
                    "codes",
                    {
                        "clientId": client_id,
                        "userId": parts["user"].pk,
                        "expiresAt": time.time() + CODE_LIFETIME,
                    },
                    key=code,
                )
            return redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")
    context = {
        "app": app,
        "accounts": accounts,
        "hidden": {"client_id": client_id, "state": state, "redirect_uri": redirect_uri},
        "suggested": accounts[0] if accounts else "demo",
    }
    return render(request, "sandbox/helpscout/consent.html", context)
