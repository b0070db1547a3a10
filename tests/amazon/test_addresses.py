"""Forwarding addresses: validation beside the field, saving on blur (htmx), uniqueness under a race."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
from deskbridge.web.forms import ForwardingAddressForm
from tests.conftest import Tenant, make_tenant

DE, FR = "A1PA6795UKMFR9", "A13V1IB3VIYZZH"


def connected(tenant: Tenant, seller: str = "A2SNDBXEU00001") -> SellerAccount:
    account = SellerAccount.objects.create(
        organisation=tenant.organisation,
        selling_partner_id=seller,
        region="EU",
        refresh_token="Atzr|x",
        authorized_at=timezone.now(),
    )
    for marketplace_id in (DE, FR):
        MarketplaceConnection.objects.create(
            organisation=tenant.organisation,
            account=account,
            marketplace_id=marketplace_id,
            forwarding_address=f"amz-{marketplace_id.lower()}-{seller.lower()}@deskbridge.localhost",
        )
    return account


def save(client, account: SellerAccount, marketplace_id: str, address: str, htmx: bool = True):
    connection = account.marketplaces.get(marketplace_id=marketplace_id)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("amazon_save_address", args=[account.pk, connection.pk]),
        {"address-forwarding_address": address},
        headers=headers,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("shop@example.com", "must end with @deskbridge.localhost"),
        ("@deskbridge.localhost", "Enter the part before @deskbridge.localhost"),
        (f"{'x' * 65}@deskbridge.localhost", "at most 64 characters"),
        ("two..dots@deskbridge.localhost", "no two dots in a row"),
        ("-dash@deskbridge.localhost", "not at its start or end"),
        ("spa ce@deskbridge.localhost", "Use only letters"),
        ("postmaster@deskbridge.localhost", "reserved for the mail system"),
        ("Abuse@DESKBRIDGE.localhost", "reserved for the mail system"),
    ],
)
def test_a_bad_address_is_refused_beside_the_field(tenant, address, message):
    account = connected(tenant)
    before = account.marketplaces.get(marketplace_id=FR).forwarding_address
    response = save(tenant.client(), account, FR, address)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="address-error"' in html and message in html
    assert account.marketplaces.get(marketplace_id=FR).forwarding_address == before


@pytest.mark.django_db
def test_a_good_address_is_saved_lower_case_and_the_fragment_says_so(tenant):
    account = connected(tenant)
    response = save(tenant.client(), account, FR, "  Lindqvist.FR+amazon@Deskbridge.Localhost ")
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    assert "<html" not in response.content.decode()  # a fragment for htmx to swap in
    assert (
        account.marketplaces.get(marketplace_id=FR).forwarding_address
        == "lindqvist.fr+amazon@deskbridge.localhost"
    )


@pytest.mark.django_db
def test_without_htmx_the_form_posts_and_redirects_back(tenant):
    account = connected(tenant)
    response = save(tenant.client(), account, FR, "shop-fr@deskbridge.localhost", htmx=False)
    assert response.status_code == 302
    assert response["Location"].endswith(f"?m={FR}")
    bad = save(tenant.client(), account, FR, "x@elsewhere.example", htmx=False)
    assert bad.status_code == 422 and "must end with" in bad.content.decode()


@pytest.mark.django_db
def test_addresses_are_unique_across_organisations_whatever_the_case(tenant):
    mine = connected(tenant)
    theirs = connected(make_tenant(), seller="A2SNDBXOTHER01")
    taken = theirs.marketplaces.get(marketplace_id=DE).forwarding_address
    response = save(tenant.client(), mine, FR, taken.upper())
    assert response.status_code == 422
    assert "already in use" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_organisations_racing_for_one_address_exactly_one_wins():
    first, second = make_tenant(), make_tenant()
    accounts = [connected(first), connected(second, seller="A2SNDBXOTHER01")]
    wanted = "the-one@deskbridge.localhost"
    barrier = threading.Barrier(2)
    results: list[tuple[bool, str]] = []

    def claim(account: SellerAccount) -> None:
        try:
            connection = account.marketplaces.get(marketplace_id=FR)
            form = ForwardingAddressForm(
                {"address-forwarding_address": wanted}, instance=connection, prefix="address"
            )
            valid = form.is_valid()  # both pass: neither has saved yet
            barrier.wait(timeout=10)
            saved = valid and form.save_or_report()
            results.append((saved, " ".join(form.errors.get("forwarding_address", []))))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(a,)) for a in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(saved for saved, _ in results) == [False, True]
    assert (
        next(error for saved, error in results if not saved)
        == "This address is already in use. Choose another one."
    )
    assert MarketplaceConnection.objects.filter(forwarding_address=wanted).count() == 1


@pytest.mark.django_db
def test_the_account_page_shows_the_selected_marketplace_and_instructions(tenant):
    account = connected(tenant)
    page = tenant.client().get(reverse("amazon_account", args=[account.pk]) + f"?m={FR}").content.decode()
    fr_address = account.marketplaces.get(marketplace_id=FR).forwarding_address
    assert f'value="{fr_address}"' in page
    assert "Notification Preferences" in page and "Buyer Messages" in page and "Delivery Failures" in page
    assert "Messaging Permissions" in page
    assert 'target="_blank"' in page and "/sandbox/amazon/sellercentral/notifications/preferences" in page
    assert "Waiting for the first message" in page
