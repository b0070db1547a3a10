"""Authorization codes, refresh tokens and access tokens: how the sandbox LWA issues and checks them."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from django.db import transaction
from django.utils import timezone

from deskbridge.sandbox.amazon.models import (
    SandboxAccessToken,
    SandboxAuthorizationCode,
    SandboxRefreshToken,
    SandboxSeller,
    token_digest,
)

CODE_LIFETIME = timedelta(minutes=5)  # amazon.md §1.3
ACCESS_TOKEN_SECONDS = 3600  # amazon.md §1.5


class GrantError(Exception):
    """The code or refresh token cannot be used: LWA answers invalid_grant with this description."""


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int = ACCESS_TOKEN_SECONDS


def _random_letters(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters) for _ in range(length))


def issue_authorization_code(seller: SandboxSeller, application_id: str, redirect_uri: str) -> str:
    """A fresh spapi_oauth_code (Amazon's look: 20 letters starting with AN)."""
    code = "AN" + _random_letters(18)
    SandboxAuthorizationCode.objects.create(
        code_digest=token_digest(code),
        seller=seller,
        application_id=application_id,
        redirect_uri=redirect_uri,
    )
    return code


def _issue_access_token(refresh: SandboxRefreshToken) -> str:
    token = "Atza|" + secrets.token_urlsafe(96)
    now = timezone.now()
    SandboxAccessToken.objects.create(
        token_digest=token_digest(token),
        refresh_token=refresh,
        issued_at=now,
        expires_at=now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
    )
    return token


@transaction.atomic
def redeem_authorization_code(code: str, application_id: str, redirect_uri: str) -> IssuedTokens:
    """authorization_code grant: single use, five minutes, the same redirect_uri as the consent."""
    row = SandboxAuthorizationCode.objects.filter(code_digest=token_digest(code)).first()
    if row is None or row.application_id != application_id:
        raise GrantError("The request has an invalid grant parameter : code")
    now = timezone.now()
    if row.used_at is not None:
        raise GrantError("The authorization code has already been used.")
    if now - row.issued_at > CODE_LIFETIME:
        raise GrantError("The authorization code has expired.")
    if row.redirect_uri != redirect_uri:
        raise GrantError("The redirect_uri does not match the one the authorization code was issued for.")
    # A conditional update, so two concurrent exchanges of one code cannot both win.
    if not SandboxAuthorizationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise GrantError("The authorization code has already been used.")
    refresh_token = "Atzr|" + secrets.token_urlsafe(96)
    refresh = SandboxRefreshToken.objects.create(
        token_digest=token_digest(refresh_token), seller_id=row.seller_id, application_id=application_id
    )
    return IssuedTokens(access_token=_issue_access_token(refresh), refresh_token=refresh_token)


@transaction.atomic
def refresh_access_token(refresh_token: str, application_id: str) -> IssuedTokens:
    """refresh_token grant: a new access token; the refresh token itself stays the same."""
    refresh = SandboxRefreshToken.objects.filter(token_digest=token_digest(refresh_token)).first()
    if refresh is None or refresh.application_id != application_id or refresh.revoked_at is not None:
        raise GrantError("The request has an invalid grant parameter : refresh_token")
    return IssuedTokens(access_token=_issue_access_token(refresh), refresh_token=refresh_token)


class TokenProblem(Enum):
    MISSING = "Access token is missing in the request header."
    INVALID = "The access token you provided is revoked, malformed or invalid."
    EXPIRED = "The access token you provided has expired."


def find_access_token(token: str | None) -> SandboxAccessToken | TokenProblem:
    """The live access token sent in x-amz-access-token, or why it cannot be used."""
    if not token:
        return TokenProblem.MISSING
    row = (
        SandboxAccessToken.objects.select_related("refresh_token__seller")
        .filter(token_digest=token_digest(token))
        .first()
    )
    if row is None or row.revoked_at is not None or row.refresh_token.revoked_at is not None:
        return TokenProblem.INVALID
    if timezone.now() >= row.expires_at:
        return TokenProblem.EXPIRED
    return row
