"""Sandbox Amazon fixtures: the sandbox mounted, the sellers seeded, and helpers that walk its flows."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import clear_url_caches, reverse

from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxSeller
from deskbridge.sandbox.amazon.seed import SANDBOX_PASSWORD, seed_sandbox_sellers
from deskbridge.sandbox.amazon.tokens import issue_authorization_code

PUBLIC_URL = "https://deskbridge.example.test"
CALLBACK = PUBLIC_URL + "/amazon/callback/"
EU, NA, FE = "A2SNDBXEU00001", "A2SNDBXNA00001", "A2SNDBXFE00001"
OWNERS = {
    EU: "owner.eu@sandbox-seller.example",
    NA: "owner.na@sandbox-seller.example",
    FE: "owner.fe@sandbox-seller.example",
}
ADMINS = {
    EU: "admin.eu@sandbox-seller.example",
    NA: "admin.na@sandbox-seller.example",
    FE: "admin.fe@sandbox-seller.example",
}
REGION_OF = {EU: "eu", NA: "na", FE: "fe"}


def _reload_urls() -> None:
    clear_url_caches()
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))


@pytest.fixture
def sandbox_urls() -> Iterator[None]:
    """The sandbox mounted at /sandbox/ (tests do not run in demo mode), and a public URL of our own."""
    with override_settings(SANDBOX_ENABLED=True, PUBLIC_URL=PUBLIC_URL):
        _reload_urls()
        yield
    _reload_urls()


@pytest.fixture
def sellers(db, sandbox_urls) -> dict[str, SandboxSeller]:
    seed_sandbox_sellers()
    return {seller.selling_partner_id: seller for seller in SandboxSeller.objects.all()}


def consent_url(**params: str) -> str:
    query = {"application_id": app.SANDBOX_APP_ID, "state": "st-123", "version": "beta", **params}
    query = {k: v for k, v in query.items() if v is not None}
    return reverse("sandbox_amazon:consent") + "?" + "&".join(f"{k}={v}" for k, v in _quoted(query))


def _quoted(query: dict[str, str]) -> list[tuple[str, str]]:
    from urllib.parse import quote

    return [(k, quote(v, safe="")) for k, v in query.items()]


def sms_code(client: Client) -> str:
    return client.session["sandbox_amazon_2sv"]["code"]


def sign_in(client: Client, email: str, return_to: str | None = None) -> None:
    """Password, then the 2-step verification code: the sandbox Seller Central session of `client`."""
    return_to = return_to or reverse("sandbox_amazon:home")
    response = client.post(
        reverse("sandbox_amazon:signin"),
        {"email": email, "password": SANDBOX_PASSWORD, "return_to": return_to},
    )
    assert response.status_code == 302, response.content
    response = client.post(response["Location"], {"otp": sms_code(client), "return_to": return_to})
    assert response.status_code == 302
    assert response["Location"] == return_to


def meta_refresh_target(html: str) -> str:
    match = re.search(r'<meta http-equiv="refresh" content="\d+;url=([^"]+)">', html)
    assert match, html
    return match.group(1).replace("&amp;", "&")


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def lwa_post(client: Client, **form: Any):
    from urllib.parse import urlencode

    return client.post(
        app.LWA_TOKEN_PATH, urlencode(form), content_type="application/x-www-form-urlencoded;charset=UTF-8"
    )


def code_for(seller: SandboxSeller, redirect_uri: str = CALLBACK) -> str:
    return issue_authorization_code(seller, app.SANDBOX_APP_ID, redirect_uri)


def exchange(client: Client, code: str, redirect_uri: str = CALLBACK, **overrides: str):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": app.SANDBOX_LWA_CLIENT_ID,
        "client_secret": app.SANDBOX_LWA_CLIENT_SECRET,
        **overrides,
    }
    return lwa_post(client, **form)


def tokens_for(client: Client, seller: SandboxSeller) -> dict[str, Any]:
    response = exchange(client, code_for(seller))
    assert response.status_code == 200, response.content
    return response.json()


def spapi(client: Client, region: str, operation: str, token: str | None, **extra: Any):
    path = (
        app.SPAPI_PATH.format(region=region)
        + {
            "getMarketplaceParticipations": "/sellers/v1/marketplaceParticipations",
            "getAccount": "/sellers/v1/account",
        }[operation]
    )
    headers = {} if token is None else {"x-amz-access-token": token}
    return client.get(path, headers=headers, **extra)


# The Orders and Tokens APIs ----------------------------------------------------------------------

ORDERS = "/orders/2026-01-01/orders"
ORDERS_V0 = "/orders/v0/orders"
RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"


@pytest.fixture
def orders(sellers) -> dict[str, dict[str, str]]:
    """The sandbox orders seeded: selling partner id -> kind -> order id."""
    from deskbridge.sandbox.amazon.orders_seed import KINDS, order_id_for
    from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon

    seed_sandbox_amazon()
    return {seller_id: {kind: order_id_for(seller_id, kind) for kind in KINDS} for seller_id in sellers}


def spapi_get(client: Client, region: str, path: str, token: str | None, params: Any = None, **extra: Any):
    """GET an SP-API path (as the model writes it, after the regional endpoint)."""
    headers = {} if token is None else {"x-amz-access-token": token}
    return client.get(app.SPAPI_PATH.format(region=region) + path, params or {}, headers=headers, **extra)


def rdt_request(client: Client, region: str, token: str | None, body: Any, **extra: Any):
    import json

    headers = {} if token is None else {"x-amz-access-token": token}
    return client.post(
        app.SPAPI_PATH.format(region=region) + RDT_PATH,
        json.dumps(body) if not isinstance(body, str | bytes) else body,
        content_type=extra.pop("content_type", "application/json"),
        headers=headers,
        **extra,
    )


def rdt_for(client: Client, region: str, token: str, *resources: dict[str, Any]) -> str:
    """A Restricted Data Token for the resources (the application must hold the roles they need)."""
    response = rdt_request(client, region, token, {"restrictedResources": list(resources)})
    assert response.status_code == 200, response.content
    return response.json()["restrictedDataToken"]
