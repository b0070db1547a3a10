"""Access tokens: cached, refreshed a little before they expire, and a refused refresh token is noticed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deskbridge.amazon import lwa
from deskbridge.amazon.models import AccountStatus, MarketplaceConnection, SellerAccount
from deskbridge.amazon.spapi import SpApi
from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxAccessToken, SandboxSeller
from deskbridge.sandbox.amazon.seed import seed_sandbox_sellers
from deskbridge.sandbox.amazon.tokens import issue_authorization_code, redeem_authorization_code

EU = "A2SNDBXEU00001"


@pytest.fixture
def account(live_url, tenant) -> SellerAccount:
    """An account authorized at the sandbox exactly as the consent round-trip would leave it."""
    seed_sandbox_sellers()
    seller = SandboxSeller.objects.get(selling_partner_id=EU)
    redirect = f"{live_url}/amazon/callback/"
    tokens = redeem_authorization_code(
        issue_authorization_code(seller, app.SANDBOX_APP_ID, redirect), app.SANDBOX_APP_ID, redirect
    )
    account = SellerAccount(organisation=tenant.organisation, selling_partner_id=EU, region="EU")
    account.store_authorization(tokens.refresh_token, tokens.access_token, tokens.expires_in)
    account.save()
    return account


def test_a_live_access_token_is_reused(account):
    issued = SandboxAccessToken.objects.count()
    first = lwa.access_token(account)
    assert first == account.access_token
    assert SpApi(account).marketplace_participations()  # the token works
    assert lwa.access_token(account) == first
    assert SandboxAccessToken.objects.count() == issued  # no refresh happened


def test_a_token_about_to_expire_is_refreshed_and_stored(account):
    old = account.access_token
    SellerAccount.objects.filter(pk=account.pk).update(
        access_token_expires_at=timezone.now() + timedelta(minutes=4)
    )
    account.refresh_from_db()
    new = lwa.access_token(account)
    assert new != old and new.startswith("Atza|")
    account.refresh_from_db()
    assert account.access_token == new
    assert account.access_token_expires_at > timezone.now() + timedelta(minutes=55)
    assert {p.marketplace_id for p in SpApi(account).marketplace_participations()} >= {"A1PA6795UKMFR9"}


def test_a_revoked_authorization_marks_the_account_for_reauthorization(account, tenant):
    SandboxSeller.objects.get(selling_partner_id=EU).revoke_app_authorization()
    SellerAccount.objects.filter(pk=account.pk).update(access_token_expires_at=timezone.now())
    account.refresh_from_db()
    with pytest.raises(lwa.LwaError) as raised:
        SpApi(account).marketplace_participations()
    assert raised.value.error == "invalid_grant"
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_REAUTHORIZATION
    page = tenant.client().get(reverse("amazon_account", args=[account.pk])).content.decode()
    assert "Amazon no longer accepts this account" in page and "Needs re-authorization" in page


def test_an_address_says_whether_mail_arrives(account):
    connection = MarketplaceConnection.objects.create(
        organisation=account.organisation,
        account=account,
        marketplace_id="A1PA6795UKMFR9",
        forwarding_address="status-test@deskbridge.localhost",
    )
    assert connection.address_status == "waiting"
    connection.last_message_at = timezone.now() - timedelta(days=2)
    assert connection.address_status == "receiving"
    connection.last_message_at = timezone.now() - timedelta(days=8)
    assert connection.address_status == "silent"


def test_a_misconfigured_draft_app_meets_md1000_and_our_help_explains_it(live_url, tenant, settings, client):
    from tests.amazon.test_onboarding import path_of, run_wizard

    seed_sandbox_sellers()
    settings.AMAZON_APP_DRAFT = False  # the sandbox app is a draft: Amazon wants version=beta
    consent = run_wizard(tenant.client())
    assert "version=" not in consent
    amazon_page = client.get(path_of(consent))
    assert amazon_page.status_code == 400 and "MD1000" in amazon_page.content.decode()
    help_page = tenant.client().get(reverse("amazon_authorization_help")).content.decode()
    assert "MD1000" in help_page and "DESKBRIDGE_AMAZON_APP_DRAFT=1" in help_page
