"""Connecting an Amazon account end to end: wizard, consent at the sandbox Seller Central, callback."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskbridge.amazon.models import AuthorizationRequest, SellerAccount
from deskbridge.core.models import Role
from deskbridge.sandbox.amazon.seed import SANDBOX_PASSWORD, seed_sandbox_sellers
from tests.conftest import make_tenant

EU_SELLER = "A2SNDBXEU00001"
EU_OWNER, EU_ADMIN = "owner.eu@sandbox-seller.example", "admin.eu@sandbox-seller.example"
DE, FR, IT, NL = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "A1805IZSGTT6HS"


@pytest.fixture
def amazon(live_url):
    seed_sandbox_sellers()
    return live_url


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def run_wizard(client: Client, region: str = "eu", chosen: tuple[str, ...] = (DE, FR, IT)) -> str:
    """Region → marketplaces → helpdesk → Connect Amazon; returns the consent URL we redirect to."""
    assert client.get(reverse("amazon_add_region")).status_code == 200
    step = client.post(reverse("amazon_add_marketplaces", args=[region]), {"marketplaces": list(chosen)})
    assert step["Location"] == reverse("amazon_add_helpdesk")
    step = client.post(reverse("amazon_add_helpdesk"), {})
    assert step["Location"] == reverse("amazon_add_connect")
    assert client.get(reverse("amazon_add_connect")).status_code == 200
    consent = client.post(reverse("amazon_connect"))
    assert consent.status_code == 302
    return consent["Location"]


def seller_central_consent(
    client: Client, consent_url: str, email: str = EU_OWNER, confirm: bool = True
) -> str:
    """What the seller does at (sandbox) Seller Central; returns where Amazon sends the browser back."""
    here = path_of(consent_url)
    page = client.get(here)
    if page.status_code == 302:  # not signed in at Seller Central yet: password, then the SMS code
        signin = client.post(
            page["Location"], {"email": email, "password": SANDBOX_PASSWORD, "return_to": here}
        )
        assert signin.status_code == 302, signin.content
        code = client.session["sandbox_amazon_2sv"]["code"]
        verified = client.post(signin["Location"], {"otp": code, "return_to": here})
        assert verified.status_code == 302
        page = client.get(verified["Location"])
    if page.status_code == 403:
        return ""
    hidden = {k: v[0] for k, v in parse_qs(urlsplit(consent_url).query).items()}
    answer = {**hidden, "confirm": "on"} if confirm else {**hidden, "cancel": "Cancel"}
    loading = client.post(reverse("sandbox_amazon:consent"), answer)
    assert loading.status_code == 200
    target = loading.content.decode().split("url=", 1)[1].split('"', 1)[0].replace("&amp;", "&")
    return target


def connect(client: Client, **wizard) -> object:
    back = seller_central_consent(client, run_wizard(client, **wizard))
    return client.get(path_of(back), follow=True)


def test_the_whole_wizard_connects_an_account_with_its_marketplaces(amazon, tenant):
    client = tenant.client()
    consent_url = run_wizard(client)
    query = parse_qs(urlsplit(consent_url).query)
    assert consent_url.startswith(amazon + "/sandbox/amazon/sellercentral/apps/authorize/consent?")
    assert query["version"] == ["beta"] and query["redirect_uri"] == [amazon + "/amazon/callback/"]

    back = seller_central_consent(client, consent_url)
    assert set(parse_qs(urlsplit(back).query)) == {"state", "selling_partner_id", "spapi_oauth_code"}
    page = client.get(path_of(back), follow=True)

    account = SellerAccount.objects.get(organisation=tenant.organisation)
    assert page.redirect_chain[-1][0] == reverse("amazon_account", args=[account.pk])
    assert (account.selling_partner_id, account.region, account.store_name) == (
        EU_SELLER,
        "EU",
        "Lindqvist Home",
    )
    assert account.status == "connected" and account.days_left in (364, 365)
    addresses = dict(account.marketplaces.values_list("marketplace_id", "forwarding_address"))
    assert addresses == {
        DE: "amz-de-a1pa6795ukmfr9-a2sndbxeu00001@deskbridge.localhost",
        FR: "amz-fr-a13v1ib3viyzzh-a2sndbxeu00001@deskbridge.localhost",
        IT: "amz-it-apj6jra9ng5v4-a2sndbxeu00001@deskbridge.localhost",
    }
    assert all(account.marketplaces.values_list("participating", flat=True))
    assert "Your Amazon account is connected." in page.content.decode()
    # The refresh token is stored encrypted, never in clear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM amazon_selleraccount WHERE id = %s", [account.pk])
        stored = cursor.fetchone()[0]
    assert account.refresh_token.startswith("Atzr|") and "Atzr|" not in stored

    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "1 account · 3 marketplaces · 3 addresses" in dashboard


def test_a_marketplace_the_seller_does_not_sell_on_is_warned_about(amazon, tenant):
    page = connect(tenant.client(), chosen=(DE, NL))
    assert "does not sell on Netherlands" in page.content.decode()
    account = SellerAccount.objects.get(organisation=tenant.organisation)
    assert dict(account.marketplaces.values_list("marketplace_id", "participating")) == {DE: True, NL: False}


def problem_of(response) -> str:
    assert response.status_code == 400
    return response.context["kind"]


def test_denied_consent_says_so(amazon, tenant):
    client = tenant.client()
    back = seller_central_consent(client, run_wizard(client), confirm=False)
    assert "error=access_denied" in back
    assert problem_of(client.get(path_of(back))) == "denied"
    assert not SellerAccount.objects.exists()


def test_an_admin_user_of_seller_central_cannot_authorize(amazon, tenant):
    client = tenant.client()
    assert seller_central_consent(client, run_wizard(client), email=EU_ADMIN) == ""
    assert not SellerAccount.objects.exists()


def test_states_are_single_use_bound_to_the_session_and_short_lived(amazon, tenant):
    client = tenant.client()
    back = seller_central_consent(client, run_wizard(client))

    # Another session of the same user cannot use it.
    other = tenant.client()
    assert problem_of(other.get(path_of(back))) == "foreign_state"
    # Nor can a forged state.
    forged = path_of(back).replace("state=", "state=x")
    assert problem_of(client.get(forged)) == "unknown_state"
    # The real one works once...
    assert client.get(path_of(back)).status_code == 302
    # ...and never again.
    assert problem_of(client.get(path_of(back))) == "used_state"

    back = seller_central_consent(client, run_wizard(client))
    AuthorizationRequest.objects.filter(used_at__isnull=True).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    assert problem_of(client.get(path_of(back))) == "expired_state"


def test_an_expired_amazon_code_is_explained(amazon, tenant):
    from deskbridge.sandbox.amazon.models import SandboxAuthorizationCode

    client = tenant.client()
    back = seller_central_consent(client, run_wizard(client))
    SandboxAuthorizationCode.objects.update(issued_at=timezone.now() - timedelta(minutes=6))
    assert problem_of(client.get(path_of(back))) == "expired_code"
    assert not SellerAccount.objects.exists()


def test_wrong_lwa_credentials_are_explained(amazon, tenant, settings):
    settings.AMAZON_LWA_CLIENT_SECRET = "not-the-secret"
    client = tenant.client()
    back = seller_central_consent(client, run_wizard(client))
    assert problem_of(client.get(path_of(back))) == "lwa"


def test_the_same_seller_cannot_be_connected_to_two_organisations(amazon, tenant):
    connect(tenant.client())
    other = make_tenant()
    client = other.client()
    back = seller_central_consent(client, run_wizard(client))
    response = client.get(path_of(back))
    assert problem_of(response) == "taken"
    assert "connected to another organisation" in response.content.decode()
    assert SellerAccount.objects.get().organisation == tenant.organisation


def test_disconnect_deletes_the_tokens_and_frees_the_seller(amazon, tenant):
    client = tenant.client()
    connect(client)
    account = SellerAccount.objects.get()
    assert client.post(reverse("amazon_disconnect", args=[account.pk])).status_code == 302
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT refresh_token, access_token FROM amazon_selleraccount WHERE id = %s", [account.pk]
        )
        assert cursor.fetchone() == (None, None)
    account.refresh_from_db()
    assert account.status == "disconnected"
    # Another organisation may connect it now.
    other = make_tenant()
    connect(other.client())
    assert SellerAccount.objects.filter(
        organisation=other.organisation, disconnected_at__isnull=True
    ).exists()


def test_reauthorize_replaces_the_token_and_restarts_the_year(amazon, tenant):
    client = tenant.client()
    connect(client)
    account = SellerAccount.objects.get()
    SellerAccount.objects.filter(pk=account.pk).update(
        authorized_at=timezone.now() - timedelta(days=340), authorization_error=""
    )
    account.refresh_from_db()
    old_token = account.refresh_token
    assert account.status == "expiring"
    assert "days left" in client.get(reverse("amazon_account", args=[account.pk])).content.decode()

    consent = client.post(reverse("amazon_reauthorize", args=[account.pk]))
    back = seller_central_consent(client, consent["Location"])
    assert client.get(path_of(back)).status_code == 302
    account.refresh_from_db()
    assert account.status == "connected" and account.days_left in (364, 365)
    assert account.refresh_token != old_token
    assert SellerAccount.objects.count() == 1 and account.marketplaces.count() == 3


def test_marketplaces_can_be_added_later_without_a_new_authorization(amazon, tenant):
    client = tenant.client()
    connect(client, chosen=(DE,))
    account = SellerAccount.objects.get()
    requests_before = AuthorizationRequest.objects.count()
    response = client.post(
        reverse("amazon_add_more", args=[account.pk]), {"marketplaces": [FR, "A1RKKUPIHCS9HS"]}
    )
    assert response.status_code == 302
    assert set(account.marketplaces.values_list("marketplace_id", flat=True)) == {DE, FR, "A1RKKUPIHCS9HS"}
    assert AuthorizationRequest.objects.count() == requests_before
    # A marketplace of another region is not offered.
    form = client.get(reverse("amazon_add_more", args=[account.pk])).content.decode()
    assert "ATVPDKIKX0DER" not in form and FR not in form and "A1F83G8C2ARO7P" in form


def test_agents_cannot_connect_or_disconnect(amazon, tenant):
    agent = tenant.client(Role.AGENT)
    assert agent.get(reverse("amazon_add_region")).status_code == 403
    assert agent.post(reverse("amazon_connect")).status_code == 403
    connect(tenant.client())
    account = SellerAccount.objects.get()
    assert agent.post(reverse("amazon_disconnect", args=[account.pk])).status_code == 403
    assert agent.get(reverse("amazon_account", args=[account.pk])).status_code == 200  # but may look


def test_error_pages_speak_chinese(amazon, tenant):
    client = tenant.client()
    client.post(reverse("set_language"), {"language": "zh-hans"})
    back = seller_central_consent(client, run_wizard(client), confirm=False)
    page = client.get(path_of(back)).content.decode()
    assert 'lang="zh-hans"' in page
    assert "Amazon access was not granted" not in page


def test_marketplace_step_requires_a_choice(tenant):
    response = tenant.client().post(reverse("amazon_add_marketplaces", args=["eu"]), {})
    assert response.status_code == 200
    assert "Choose at least one marketplace." in response.content.decode()
    assert tenant.client().get(reverse("amazon_add_marketplaces", args=["xx"])).status_code == 404


def forwarded_to(page) -> str:
    """The target of a sandbox "loading" page (its meta refresh)."""
    assert page.status_code == 200, page.status_code
    return page.content.decode().split("url=", 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_reauthorization_started_in_seller_central_goes_through_our_login_uri(amazon, tenant):
    from deskbridge.sandbox.amazon import app

    client = tenant.client()
    connect(client)
    account = SellerAccount.objects.get()
    SellerAccount.objects.filter(pk=account.pk).update(authorization_error="invalid_grant")
    old_token = account.refresh_token

    # Seller Central → Manage Your Apps → Re-authorize: Amazon loads our Login URI.
    start = client.post(
        reverse("sandbox_amazon:reauthorize"), {"application_id": app.SANDBOX_APP_ID, "confirm": "on"}
    )
    login_uri = forwarded_to(start)
    assert login_uri.startswith(amazon + "/amazon/login/?")
    # We send the browser back to amazon_callback_uri with our own state …
    back_to_amazon = client.get(path_of(login_uri))
    assert back_to_amazon.status_code == 302
    sent = parse_qs(urlsplit(back_to_amazon["Location"]).query)
    assert set(sent) == {"redirect_uri", "amazon_state", "state", "version"}
    assert sent["redirect_uri"] == [amazon + "/amazon/callback/"]
    # … Amazon answers at our redirect URI with a code, and the account is authorized again.
    callback = forwarded_to(client.get(path_of(back_to_amazon["Location"])))
    assert client.get(path_of(callback)).status_code == 302
    account.refresh_from_db()
    assert account.status == "connected" and account.refresh_token != old_token


def test_the_login_uri_refuses_a_callback_that_is_not_amazons(amazon, tenant):
    client = tenant.client()
    response = client.get(
        reverse("amazon_login_uri"),
        {
            "amazon_callback_uri": "https://evil.example/steal",
            "amazon_state": "x",
            "selling_partner_id": EU_SELLER,
        },
    )
    assert problem_of(response) == "unknown_state"
