"""Re-authorization started in the sandbox Seller Central's Manage Your Apps (amazon.md §1.4)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskbridge.sandbox.amazon import app
from tests.sandbox.conftest import (
    ADMINS,
    CALLBACK,
    EU,
    OWNERS,
    PUBLIC_URL,
    code_for,
    exchange,
    meta_refresh_target,
    query_of,
    sign_in,
)

pytestmark = pytest.mark.usefixtures("sellers")
MANAGE = reverse("sandbox_amazon:manage_apps")
REAUTHORIZE = reverse("sandbox_amazon:reauthorize") + "?application_id=" + app.SANDBOX_APP_ID
CONFIRM = reverse("sandbox_amazon:reauthorize_confirm")


@pytest.fixture
def authorized(client: Client, sellers) -> None:
    assert exchange(client, code_for(sellers[EU])).status_code == 200


def start(client: Client) -> dict[str, list[str]]:
    """Manage Your Apps → Re-authorize → accept: where Amazon sends the browser (the Login URI)."""
    assert "Re-authorize" in client.get(MANAGE).text
    page = client.get(REAUTHORIZE)
    assert page.status_code == 200 and "Login to deskbridge (sandbox) now" in page.text
    refused = client.post(REAUTHORIZE, {"application_id": app.SANDBOX_APP_ID})
    assert 'id="id_confirm-error"' in refused.text
    done = client.post(REAUTHORIZE, {"application_id": app.SANDBOX_APP_ID, "confirm": "on"})
    target = meta_refresh_target(done.text)
    assert target.startswith(PUBLIC_URL + "/amazon/login/?")
    return query_of(target)


@pytest.mark.usefixtures("authorized")
def test_reauthorization_goes_through_the_login_uri_and_ends_with_a_code(client: Client):
    sign_in(client, OWNERS[EU], return_to=MANAGE)
    login = start(client)
    assert list(login) == ["amazon_callback_uri", "amazon_state", "selling_partner_id"]
    assert login["selling_partner_id"] == [EU]
    callback = login["amazon_callback_uri"][0]
    assert callback == PUBLIC_URL + CONFIRM
    # deskbridge's Login URI signs its user in and sends the browser back to amazon_callback_uri:
    back = {
        "redirect_uri": CALLBACK,
        "amazon_state": login["amazon_state"][0],
        "state": "ours",
        "version": "beta",
    }
    done = client.get(CONFIRM, back)
    assert done.status_code == 200
    target = meta_refresh_target(done.text)
    assert target.startswith(CALLBACK + "?")
    params = query_of(target)
    assert list(params) == ["state", "selling_partner_id", "spapi_oauth_code"]
    assert params["state"] == ["ours"] and params["selling_partner_id"] == [EU]
    tokens = exchange(client, params["spapi_oauth_code"][0])
    assert tokens.status_code == 200
    # amazon_state is single use.
    assert client.get(CONFIRM, back).status_code == 400


@pytest.mark.usefixtures("authorized")
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amazon_state": "forged"}, "SBX1004"),
        ({"version": None}, "MD1000"),
        ({"redirect_uri": "https://evil.example/cb"}, "MD5101"),
        ({"redirect_uri": None}, "MD5101"),
        ({"state": None}, "SBX1002"),
    ],
)
def test_the_callback_checks_what_the_application_sends_back(client: Client, change, code):
    sign_in(client, OWNERS[EU], return_to=MANAGE)
    login = start(client)
    back = {
        "redirect_uri": CALLBACK,
        "amazon_state": login["amazon_state"][0],
        "state": "ours",
        "version": "beta",
    }
    back = {k: v for k, v in {**back, **change}.items() if v is not None}
    page = client.get(CONFIRM, back)
    assert page.status_code == 400
    assert f'<code id="error-code">{code}</code>' in page.text


@pytest.mark.usefixtures("authorized")
def test_only_the_owner_may_reauthorize(client: Client):
    sign_in(client, ADMINS[EU], return_to=MANAGE)
    page = client.get(REAUTHORIZE)
    assert page.status_code == 403 and "Only the primary account owner" in page.text


def test_an_application_that_is_not_authorized_cannot_be_reauthorized(client: Client):
    sign_in(client, OWNERS[EU], return_to=MANAGE)
    assert client.get(REAUTHORIZE).status_code == 404
