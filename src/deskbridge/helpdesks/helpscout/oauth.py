"""Help Scout's OAuth 2.0, the only way into its Mailbox API: tokens fetched and refreshed as needed.

Two grants (https://developer.helpscout.com/mailbox-api/overview/authentication):
- client credentials: the user's own app (Your Profile › My Apps), App ID + App Secret on the
  connect form; a new access token is simply requested again when one runs out.
- authorization code: deskbridge's registered app (DESKBRIDGE_HELPSCOUT_CLIENT_ID / _SECRET); the
  user grants access on Help Scout's consent page and the code is traded for an access token and
  a refresh token, the refresh token then buys new access tokens.
Access tokens expire (`expires_in`, 172,800 s today: read, never assumed). `TokenAuth` adds the
Bearer header, renews the token a minute before it expires and once more on a 401, and hands every
new token to `save` so that the connection keeps it (encrypted) for the next job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings

from deskbridge.helpdesks.http import (
    AuthenticationFailed,
    RateLimited,
    Rejected,
    Unavailable,
    reason_of,
    retry_after_of,
)

TOKEN_PATH = "/v2/oauth2/token"  # noqa: S105 (a path)
CONSENT_PATH = "/authentication/authorizeClientApplication"
REAL_WEB = "https://secure.helpscout.net"
EARLY_RENEWAL = 60  # seconds before expiry a token is renewed


def app_credentials() -> tuple[str, str]:
    """deskbridge's own Help Scout app, for the authorization-code grant."""
    return (
        settings.HELPSCOUT_CLIENT_ID,
        settings.HELPSCOUT_CLIENT_SECRET,
    )


def consent_url(web_base: str, state: str, redirect_uri: str) -> str:
    client_id, _ = app_credentials()
    if not client_id:
        raise AuthenticationFailed(
            "DESKBRIDGE_HELPSCOUT_CLIENT_ID is not set: no Help Scout app to authorize"
        )
    # Help Scout redirects to the URL registered with the app and ignores redirect_uri ⚠️; the
    # sandbox's consent page, whose app has none registered, uses it.
    query = urlencode({"client_id": client_id, "state": state, "redirect_uri": redirect_uri})
    return f"{web_base}{CONSENT_PATH}?{query}"


def token_error(response: httpx.Response) -> Exception:
    reason = f"Help Scout token request: {response.status_code} {reason_of(response)}"
    status = response.status_code
    if status == 429:
        return RateLimited(reason, status, retry_after_of(response) or 10.0)
    if status >= 500:
        return Unavailable(reason, status, retry_after_of(response))
    if status in (400, 401, 403):
        # A wrong App ID/Secret, a revoked grant or a used refresh token: the owner must reconnect.
        return AuthenticationFailed(reason, status)
    return Rejected(reason, status)


def secrets_of(answer: Any, refresh_token: str = "") -> dict[str, str]:
    """The secrets to keep from a token answer: access token, its expiry (epoch seconds) and the
    refresh token (a new one when Help Scout sends one, else the one we had)."""
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise Unavailable("Help Scout token answer has no access_token")
    expires_in = int(answer.get("expires_in") or 0)
    kept = {"access_token": str(answer["access_token"]), "expires_at": str(int(time.time()) + expires_in)}
    refresh = str(answer.get("refresh_token") or refresh_token)
    if refresh:
        kept["refresh_token"] = refresh
    return kept


class TokenAuth(httpx.Auth):
    """Bearer auth with a token it renews itself (client credentials or refresh token)."""

    requires_response_body = True

    def __init__(self, token_url: str, config: Mapping[str, str], save: Callable[[Mapping[str, str]], None]):
        self.token_url = token_url
        self.config = dict(config)
        self.save = save

    @property
    def uses_refresh_token(self) -> bool:
        return bool(self.config.get("refresh_token"))

    def _fresh(self) -> bool:
        try:
            expires_at = float(self.config.get("expires_at") or 0)
        except ValueError:
            expires_at = 0
        return bool(self.config.get("access_token")) and expires_at - EARLY_RENEWAL > time.time()

    def _token_request(self) -> httpx.Request:
        if self.uses_refresh_token:
            client_id, client_secret = app_credentials()
            payload = {
                "grant_type": "refresh_token",
                "refresh_token": self.config["refresh_token"],
                "client_id": client_id,
                "client_secret": client_secret,
            }
        else:
            if not self.config.get("client_id") or not self.config.get("client_secret"):
                raise AuthenticationFailed(
                    "Help Scout needs an App ID and App Secret (or a connection by OAuth)"
                )
            payload = {
                "grant_type": "client_credentials",
                "client_id": self.config["client_id"],
                "client_secret": self.config["client_secret"],
            }
        return httpx.Request("POST", self.token_url, json=payload, headers={"Accept": "application/json"})

    def _renew(self) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield self._token_request()
        if response.status_code != 200:
            raise token_error(response)
        try:
            answer = response.json()
        except ValueError as exc:
            raise Unavailable("Help Scout token answer is not JSON") from exc
        kept = secrets_of(answer, self.config.get("refresh_token", ""))
        self.config.update(kept)
        self.save(kept)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        renewed = False
        if not self._fresh():
            yield from self._renew()
            renewed = True
        request.headers["Authorization"] = f"Bearer {self.config['access_token']}"
        response = yield request
        if response.status_code == 401 and not renewed:
            # Revoked or expired early: one new token, one more try.
            yield from self._renew()
            request.headers["Authorization"] = f"Bearer {self.config['access_token']}"
            yield request
