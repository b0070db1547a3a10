"""The sandbox Seller Central's consent walk: sign-in, 2-step verification, owner-only consent, redirect."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxAuthorizationCode, token_digest
from deskbridge.sandbox.amazon.seed import SANDBOX_PASSWORD
from tests.sandbox.conftest import (
    ADMINS,
    CALLBACK,
    EU,
    FE,
    OWNERS,
    consent_url,
    meta_refresh_target,
    query_of,
    sign_in,
    sms_code,
)

pytestmark = pytest.mark.usefixtures("sellers")


def test_the_whole_consent_walk_ends_at_the_callback_with_state_seller_and_code(client: Client):
    url = consent_url(state="abc/+= 1")
    response = client.get(url)
    assert response.status_code == 302
    signin = response["Location"]
    assert signin.startswith(reverse("sandbox_amazon:signin"))

    page = client.get(signin)
    assert page.status_code == 200
    for email in [*OWNERS.values(), *ADMINS.values()]:
        assert email in page.text  # the sandbox lists its test logins
    assert SANDBOX_PASSWORD in page.text

    wrong = client.post(signin, {"email": OWNERS[EU], "password": "nope", "return_to": url})
    assert wrong.status_code == 200
    assert "Your password is incorrect." in wrong.text
    unknown = client.post(signin, {"email": "nobody@example.com", "password": "x", "return_to": url})
    assert "We cannot find an account with that email address." in unknown.text

    response = client.post(signin, {"email": OWNERS[EU], "password": SANDBOX_PASSWORD, "return_to": url})
    assert response.status_code == 302
    verify = response["Location"]
    assert verify.startswith(reverse("sandbox_amazon:verify"))
    # Not signed in yet: the consent page still sends to sign-in.
    assert client.get(url)["Location"].startswith(reverse("sandbox_amazon:signin"))

    page = client.get(verify)
    code = sms_code(client)
    assert code in page.text and "ending in 42" in page.text
    wrong_code = "000000" if code != "000000" else "111111"
    refused = client.post(verify, {"otp": wrong_code, "return_to": url})
    assert refused.status_code == 200
    assert 'class="field invalid"' in refused.text
    assert 'id="id_otp-error"' in refused.text and "not valid" in refused.text
    response = client.post(verify, {"otp": code, "return_to": url})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sandbox_amazon:consent") + "?")
    assert query_of(response["Location"]) == query_of(url)

    page = client.get(url)
    assert page.status_code == 200
    assert "deskbridge (sandbox)" in page.text
    assert 'type="checkbox" name="confirm"' in page.text
    assert "Confirm" in page.text and "Cancel" in page.text

    hidden = {"application_id": app.SANDBOX_APP_ID, "state": "abc/+= 1", "version": "beta"}
    unticked = client.post(reverse("sandbox_amazon:consent"), {**hidden, "confirm_button": "1"})
    assert unticked.status_code == 200
    assert 'id="id_confirm-error"' in unticked.text
    assert not SandboxAuthorizationCode.objects.exists()

    done = client.post(reverse("sandbox_amazon:consent"), {**hidden, "confirm": "on", "confirm_button": "1"})
    assert done.status_code == 200
    assert "<script" not in done.text  # CSP: script-src 'self'; the page forwards by meta refresh
    target = meta_refresh_target(done.text)
    assert target.startswith(CALLBACK + "?")
    params = query_of(target)
    assert list(params) == ["state", "selling_partner_id", "spapi_oauth_code"]
    assert params["state"] == ["abc/+= 1"]
    assert params["selling_partner_id"] == [EU]
    oauth_code = params["spapi_oauth_code"][0]
    row = SandboxAuthorizationCode.objects.get(code_digest=token_digest(oauth_code))
    assert row.seller.selling_partner_id == EU and row.redirect_uri == CALLBACK and row.used_at is None


def test_a_registered_redirect_uri_is_used_when_given(client: Client):
    url = consent_url(redirect_uri=CALLBACK)
    sign_in(client, OWNERS[FE], return_to=url)
    done = client.post(
        reverse("sandbox_amazon:consent"),
        {
            "application_id": app.SANDBOX_APP_ID,
            "state": "s",
            "version": "beta",
            "redirect_uri": CALLBACK,
            "confirm": "on",
        },
    )
    target = meta_refresh_target(done.text)
    assert target.startswith(CALLBACK + "?state=s&selling_partner_id=" + FE + "&spapi_oauth_code=")


def test_cancel_forwards_access_denied_without_a_code(client: Client):
    sign_in(client, OWNERS[EU], return_to=consent_url())
    done = client.post(
        reverse("sandbox_amazon:consent"),
        {"application_id": app.SANDBOX_APP_ID, "state": "st-9", "version": "beta", "cancel": "1"},
    )
    params = query_of(meta_refresh_target(done.text))
    assert params["state"] == ["st-9"]
    assert params["error"] == ["access_denied"]
    assert params["error_description"][0]
    assert "spapi_oauth_code" not in params and "selling_partner_id" not in params
    assert not SandboxAuthorizationCode.objects.exists()


def test_an_admin_user_is_refused_only_the_owner_can_authorize(client: Client):
    url = consent_url()
    sign_in(client, ADMINS[EU], return_to=url)
    page = client.get(url)
    assert page.status_code == 403
    assert "Only the primary account owner" in page.text
    assert 'name="confirm"' not in page.text
    posted = client.post(
        reverse("sandbox_amazon:consent"),
        {"application_id": app.SANDBOX_APP_ID, "state": "s", "version": "beta", "confirm": "on"},
    )
    assert posted.status_code == 403
    assert not SandboxAuthorizationCode.objects.exists()
    # "Sign in as a different user" signs out and comes back to the same consent request.
    response = client.post(reverse("sandbox_amazon:signout"), {"return_to": url})
    assert response["Location"].startswith(reverse("sandbox_amazon:signin"))
    assert client.get(url)["Location"].startswith(reverse("sandbox_amazon:signin"))


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"version": None}, "MD1000"),
        ({"version": "gamma"}, "MD1000"),
        ({"redirect_uri": "https://evil.example/amazon/callback/"}, "MD5101"),
        ({"redirect_uri": CALLBACK.rstrip("/")}, "MD5101"),
        ({"redirect_uri": CALLBACK + "#x"}, "MD5110"),
        ({"application_id": "amzn1.sellerapps.app.unknown"}, "SBX1001"),
        ({"application_id": None}, "SBX1001"),
        ({"state": None}, "SBX1002"),
        ({"state": ""}, "SBX1002"),
    ],
)
def test_a_bad_consent_request_gets_an_error_page_with_its_code(client: Client, params, code):
    page = client.get(consent_url(**params))
    assert page.status_code == 400
    assert f'<code id="error-code">{code}</code>' in page.text


def test_md1000_explains_version_beta(client: Client):
    page = client.get(consent_url(version=None))
    assert "Draft" in page.text and "version=beta" in page.text


def test_registered_redirect_uris_follow_the_public_url_at_request_time(client: Client):
    with override_settings(PUBLIC_URL="https://other.example"):
        page = client.get(consent_url(redirect_uri=CALLBACK))
        assert page.status_code == 400 and "MD5101" in page.text
        ok = client.get(consent_url(redirect_uri="https://other.example/amazon/callback/"))
        assert ok.status_code == 302


def test_a_repeated_parameter_is_refused(client: Client):
    page = client.get(consent_url() + "&state=second")
    assert page.status_code == 400 and "SBX1003" in page.text


def test_sign_in_never_returns_to_another_site(client: Client):
    response = client.post(
        reverse("sandbox_amazon:signin"),
        {"email": OWNERS[EU], "password": SANDBOX_PASSWORD, "return_to": "https://evil.example/"},
    )
    verify = response["Location"]
    response = client.post(verify, {"otp": sms_code(client), "return_to": "//evil.example/"})
    assert response["Location"] == reverse("sandbox_amazon:home")


def test_too_many_wrong_codes_start_the_sign_in_again(client: Client):
    response = client.post(
        reverse("sandbox_amazon:signin"), {"email": OWNERS[EU], "password": SANDBOX_PASSWORD}
    )
    verify = response["Location"]
    wrong = "000000" if sms_code(client) != "000000" else "111111"
    for _ in range(4):
        assert client.post(verify, {"otp": wrong}).status_code == 200
    response = client.post(verify, {"otp": wrong})
    assert response["Location"].startswith(reverse("sandbox_amazon:signin"))
    assert "sandbox_amazon_2sv" not in client.session


def test_the_sandbox_sign_in_is_separate_from_the_deskbridge_login(client: Client, tenant):
    client.force_login(tenant.owner)
    url = consent_url()
    assert client.get(url)["Location"].startswith(reverse("sandbox_amazon:signin"))
    sign_in(client, OWNERS[EU], return_to=url)
    assert client.get(url).status_code == 200
    assert client.session["_auth_user_id"] == str(tenant.owner.pk)  # still the deskbridge user too


def test_consent_pages_use_the_project_look_and_no_inline_script(client: Client):
    url = consent_url()
    sign_in(client, OWNERS[EU], return_to=url)
    page = client.get(url)
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page.text
    assert "deskbridge/app.css" in page.text
    assert "<script" not in page.text and "style=" not in page.text
    assert "script-src 'self'" in page["Content-Security-Policy"]
