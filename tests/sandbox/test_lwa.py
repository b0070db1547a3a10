"""The sandbox LWA token endpoint: code exchange, refresh, and every OAuth error it must give."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxAuthorizationCode, SandboxRefreshToken
from tests.sandbox.conftest import CALLBACK, EU, NA, OWNERS, code_for, exchange, lwa_post, sign_in

pytestmark = pytest.mark.usefixtures("sellers")


def refresh(client: Client, refresh_token: str, **overrides: str):
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": app.SANDBOX_LWA_CLIENT_ID,
        "client_secret": app.SANDBOX_LWA_CLIENT_SECRET,
        **overrides,
    }
    return lwa_post(client, **form)


def assert_oauth_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert body["error_description"]
    assert response["Cache-Control"] == "no-store"


def test_the_code_is_exchanged_for_tokens_once(client: Client, sellers):
    code = code_for(sellers[EU])
    response = exchange(client, code)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["access_token"].startswith("Atza|") and body["refresh_token"].startswith("Atzr|")
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) <= 2048 and len(body["refresh_token"]) <= 2048

    again = exchange(client, code)
    assert_oauth_error(again, 400, "invalid_grant")
    assert SandboxRefreshToken.objects.count() == 1


def test_a_code_older_than_five_minutes_is_refused(client: Client, sellers):
    code = code_for(sellers[EU])
    SandboxAuthorizationCode.objects.update(issued_at=timezone.now() - timedelta(minutes=5, seconds=1))
    assert_oauth_error(exchange(client, code), 400, "invalid_grant")


def test_a_code_four_minutes_old_still_works(client: Client, sellers):
    code = code_for(sellers[EU])
    SandboxAuthorizationCode.objects.update(issued_at=timezone.now() - timedelta(minutes=4))
    assert exchange(client, code).status_code == 200


def test_the_redirect_uri_must_be_the_one_the_code_was_issued_for(client: Client, sellers):
    code = code_for(sellers[EU])
    assert_oauth_error(exchange(client, code, redirect_uri=CALLBACK + "x"), 400, "invalid_grant")
    assert exchange(client, code).status_code == 200  # a mismatch does not burn the code


def test_an_unknown_code_is_an_invalid_grant(client: Client):
    assert_oauth_error(exchange(client, "ANnotacodeatall"), 400, "invalid_grant")


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_secret": "amzn1.oa2-cs.v1.wrong"},
        {"client_id": "amzn1.application-oa2-client.other"},
    ],
)
def test_wrong_client_credentials_are_invalid_client(client: Client, sellers, overrides):
    code = code_for(sellers[EU])
    assert_oauth_error(exchange(client, code, **overrides), 401, "invalid_client")
    assert exchange(client, code).status_code == 200  # the code was not spent


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x"]
)
def test_only_a_form_encoded_body_is_accepted(client: Client, sellers, content_type):
    code = code_for(sellers[EU])
    body = (
        f"grant_type=authorization_code&code={code}&redirect_uri={CALLBACK}"
        f"&client_id={app.SANDBOX_LWA_CLIENT_ID}&client_secret={app.SANDBOX_LWA_CLIENT_SECRET}"
    )
    response = client.post(app.LWA_TOKEN_PATH, body, content_type=content_type)
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("missing", ["grant_type", "code", "redirect_uri", "client_id", "client_secret"])
def test_a_missing_parameter_is_an_invalid_request(client: Client, sellers, missing):
    form = {
        "grant_type": "authorization_code",
        "code": code_for(sellers[EU]),
        "redirect_uri": CALLBACK,
        "client_id": app.SANDBOX_LWA_CLIENT_ID,
        "client_secret": app.SANDBOX_LWA_CLIENT_SECRET,
    }
    del form[missing]
    response = lwa_post(client, **form)
    assert_oauth_error(response, 400, "invalid_request")
    assert missing in response.json()["error_description"]


def test_a_duplicated_parameter_is_an_invalid_request(client: Client, sellers):
    code = code_for(sellers[EU])
    body = (
        f"grant_type=authorization_code&code={code}&code={code}&redirect_uri={CALLBACK}"
        f"&client_id={app.SANDBOX_LWA_CLIENT_ID}&client_secret={app.SANDBOX_LWA_CLIENT_SECRET}"
    )
    response = client.post(app.LWA_TOKEN_PATH, body, content_type="application/x-www-form-urlencoded")
    assert_oauth_error(response, 400, "invalid_request")


def test_an_unknown_grant_type_is_unsupported(client: Client):
    response = lwa_post(
        client,
        grant_type="password",
        client_id=app.SANDBOX_LWA_CLIENT_ID,
        client_secret=app.SANDBOX_LWA_CLIENT_SECRET,
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_get_is_not_allowed(client: Client):
    response = client.get(app.LWA_TOKEN_PATH)
    assert_oauth_error(response, 405, "invalid_request")


def test_the_refresh_grant_gives_a_new_access_token_and_echoes_the_refresh_token(client: Client, sellers):
    first = exchange(client, code_for(sellers[NA])).json()
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["refresh_token"] == first["refresh_token"]
    assert body["access_token"].startswith("Atza|") and body["access_token"] != first["access_token"]
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600


def test_refresh_needs_the_right_client_and_a_known_token(client: Client, sellers):
    tokens = exchange(client, code_for(sellers[NA])).json()
    assert_oauth_error(refresh(client, tokens["refresh_token"], client_secret="x"), 401, "invalid_client")
    assert_oauth_error(refresh(client, "Atzr|unknown"), 400, "invalid_grant")
    assert_oauth_error(refresh(client, tokens["access_token"]), 400, "invalid_grant")


def test_a_revoked_refresh_token_is_an_invalid_grant(client: Client, sellers):
    tokens = exchange(client, code_for(sellers[EU])).json()
    assert refresh(client, tokens["refresh_token"]).status_code == 200
    assert sellers[EU].revoke_app_authorization() == 1
    assert_oauth_error(refresh(client, tokens["refresh_token"]), 400, "invalid_grant")
    # A new consent gives a new, working refresh token.
    again = exchange(client, code_for(sellers[EU])).json()
    assert refresh(client, again["refresh_token"]).status_code == 200


def test_manage_your_apps_revokes_the_authorization(client: Client, sellers):
    tokens = exchange(client, code_for(sellers[EU])).json()
    page_url = reverse("sandbox_amazon:manage_apps")
    assert client.get(page_url)["Location"].startswith(reverse("sandbox_amazon:signin"))
    sign_in(client, OWNERS[EU], return_to=page_url)
    page = client.get(page_url)
    assert "deskbridge (sandbox)" in page.text and "Revoke app authorization" in page.text
    response = client.post(page_url, {"application_id": app.SANDBOX_APP_ID})
    assert response.status_code == 302
    assert_oauth_error(refresh(client, tokens["refresh_token"]), 400, "invalid_grant")
    assert "No application is authorized" in client.get(page_url).text
    assert client.post(page_url, {"application_id": app.SANDBOX_APP_ID}).status_code == 404
