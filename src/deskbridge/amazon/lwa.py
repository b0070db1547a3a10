"""Login with Amazon: the consent URI and the token endpoint (reference: amazon.md §1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.utils import timezone

from deskbridge import __version__
from deskbridge.amazon import endpoints
from deskbridge.amazon.marketplaces import Marketplace

if TYPE_CHECKING:
    from deskbridge.amazon.models import SellerAccount

USER_AGENT = f"deskbridge/{__version__} (Language=Python)"
REFRESH_AHEAD = timedelta(minutes=5)
FORM = "application/x-www-form-urlencoded;charset=UTF-8"


class LwaError(Exception):
    """LWA refused or could not be reached. `error` is the OAuth code (invalid_grant, …)."""

    def __init__(self, error: str, description: str = "", status: int = 0) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error, self.description, self.status = error, description, status

    @property
    def needs_reauthorization(self) -> bool:
        return self.error == "invalid_grant"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def consent_url(marketplace: Marketplace, state: str) -> str:
    """{Seller Central}/apps/authorize/consent?application_id=…&state=…[&version=beta]&redirect_uri=…"""
    params = {"application_id": settings.AMAZON_APP_ID, "state": state}
    if settings.AMAZON_APP_DRAFT:
        params["version"] = "beta"
    params["redirect_uri"] = endpoints.redirect_uri()
    return f"{endpoints.seller_central(marketplace)}/apps/authorize/consent?{urlencode(params)}"


def _token_request(form: dict[str, str]) -> Tokens:
    body = {
        **form,
        "client_id": settings.AMAZON_LWA_CLIENT_ID,
        "client_secret": settings.AMAZON_LWA_CLIENT_SECRET,
    }
    try:
        response = httpx.post(
            endpoints.lwa_token_url(),
            content=urlencode(body),
            headers={"Content-Type": FORM, "User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=15,
        )
    except httpx.HTTPError as exc:
        raise LwaError("unreachable", f"Login with Amazon did not answer ({type(exc).__name__})") from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or "access_token" not in data:
        raise LwaError(
            str(data.get("error") or f"http_{response.status_code}"),
            str(data.get("error_description") or ""),
            response.status_code,
        )
    return Tokens(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token") or form.get("refresh_token", ""),
        expires_in=int(data.get("expires_in") or 3600),
    )


def exchange_code(code: str) -> Tokens:
    """Trade the consent's spapi_oauth_code (valid 5 minutes) for a refresh and an access token."""
    return _token_request(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": endpoints.redirect_uri()}
    )


def refresh(refresh_token: str) -> Tokens:
    return _token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})


def access_token(account: SellerAccount) -> str:
    """A live access token for the account: the cached one, or a fresh one a few minutes early.

    A refused refresh token (invalid_grant) marks the account as needing re-authorization.
    """
    if (
        account.access_token
        and account.access_token_expires_at
        and (account.access_token_expires_at - REFRESH_AHEAD > timezone.now())
    ):
        return account.access_token
    if not account.refresh_token:
        raise LwaError("invalid_grant", "the account has no authorization")
    try:
        tokens = refresh(account.refresh_token)
    except LwaError as exc:
        if exc.needs_reauthorization:
            type(account).objects.filter(pk=account.pk).update(authorization_error=exc.error)
            account.authorization_error = exc.error
        raise
    account.access_token = tokens.access_token
    account.access_token_expires_at = timezone.now() + timedelta(seconds=tokens.expires_in)
    account.save(update_fields=["access_token", "access_token_expires_at"])
    return tokens.access_token
