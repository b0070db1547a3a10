"""The sandbox Seller Central's settings pages: Notification Preferences, Messaging Permissions, overview."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskbridge.sandbox.amazon.models import (
    NotificationKind,
    SandboxApprovedSender,
    approved_senders,
    notification_addresses,
)
from tests.sandbox.conftest import ADMINS, EU, NA, OWNERS, sign_in

pytestmark = pytest.mark.usefixtures("sellers")

DE, FR, NL = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1805IZSGTT6HS"
PREFS = reverse("sandbox_amazon:notification_preferences")
PERMISSIONS = reverse("sandbox_amazon:messaging_permissions")


@pytest.mark.parametrize("path", [PREFS, PERMISSIONS, reverse("sandbox_amazon:manage_apps")])
def test_settings_pages_need_the_seller_central_sign_in(client: Client, path):
    response = client.get(path + "?marketplace=" + DE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sandbox_amazon:signin"))


def test_the_demo_link_lands_on_notification_preferences_after_sign_in(client: Client):
    target = PREFS + "?marketplace=" + DE
    sign_in(client, OWNERS[EU], return_to=target)
    page = client.get(target)
    assert page.status_code == 200
    assert "Buyer Messages" in page.text and "Delivery Failures" in page.text and "Add another" in page.text
    assert f'<option value="{DE}" selected>' in page.text
    assert f'value="{NL}"' not in page.text  # the seller does not sell there


def test_notification_addresses_are_saved_per_marketplace(client: Client):
    sign_in(client, ADMINS[EU])  # an admin user may change settings; only authorizing apps is owner-only
    response = client.post(
        PREFS,
        {
            "marketplace": DE,
            "buyer_messages-enabled": "on",
            "buyer_messages-address": ["de-123@in.deskbridge.example", ""],
            "delivery_failures-enabled": "on",
            "delivery_failures-address": ["de-123@in.deskbridge.example"],
        },
    )
    assert response.status_code == 302 and response["Location"] == PREFS + "?marketplace=" + DE
    assert notification_addresses(EU, DE, NotificationKind.BUYER_MESSAGES) == ["de-123@in.deskbridge.example"]
    assert notification_addresses(EU, DE, NotificationKind.DELIVERY_FAILURES) == [
        "de-123@in.deskbridge.example"
    ]
    assert notification_addresses(EU, FR, NotificationKind.BUYER_MESSAGES) == []
    page = client.get(PREFS + "?marketplace=" + DE)
    assert 'value="de-123@in.deskbridge.example"' in page.text
    assert 'name="buyer_messages-enabled" checked' in page.text
    page = client.get(PREFS + "?marketplace=" + FR)
    assert "de-123@in.deskbridge.example" not in page.text


def test_add_another_gives_one_more_field_and_keeps_what_was_typed(client: Client):
    sign_in(client, OWNERS[EU])
    page = client.post(
        PREFS,
        {
            "marketplace": DE,
            "buyer_messages-enabled": "on",
            "buyer_messages-address": ["a@x.example"],
            "add": "buyer_messages",
        },
    )
    assert page.status_code == 200
    assert 'id="buyer_messages-address-2"' in page.text and 'value="a@x.example"' in page.text
    assert notification_addresses(EU, DE, NotificationKind.BUYER_MESSAGES) == []  # not saved yet


def test_a_bad_address_is_refused_beside_its_field(client: Client):
    sign_in(client, OWNERS[EU])
    page = client.post(
        PREFS,
        {
            "marketplace": DE,
            "buyer_messages-enabled": "on",
            "buyer_messages-address": ["ok@x.example", "not an address"],
        },
    )
    assert page.status_code == 200
    assert 'id="buyer_messages-address-2-error"' in page.text
    assert notification_addresses(EU, DE, NotificationKind.BUYER_MESSAGES) == []
    page = client.post(
        PREFS, {"marketplace": DE, "buyer_messages-enabled": "on", "buyer_messages-address": [""]}
    )
    assert "Enter at least one email address" in page.text


def test_unticking_opts_out(client: Client):
    sign_in(client, OWNERS[EU])
    client.post(
        PREFS, {"marketplace": DE, "buyer_messages-enabled": "on", "buyer_messages-address": ["a@x.example"]}
    )
    client.post(PREFS, {"marketplace": DE, "buyer_messages-address": ["a@x.example"]})
    assert notification_addresses(EU, DE, NotificationKind.BUYER_MESSAGES) == []


def test_a_marketplace_the_seller_does_not_sell_in_is_404(client: Client):
    sign_in(client, OWNERS[EU])
    assert client.get(PREFS + "?marketplace=" + NL).status_code == 404
    assert client.get(PREFS + "?marketplace=ATVPDKIKX0DER").status_code == 404


def test_messaging_permissions_approve_and_remove_senders(client: Client):
    sign_in(client, OWNERS[NA])
    assert "No approved senders yet." in client.get(PERMISSIONS).text
    response = client.post(PERMISSIONS, {"email": "Replies@Out.Deskbridge.example"})
    assert response.status_code == 302
    page = client.get(PERMISSIONS)
    assert "replies@out.deskbridge.example" in page.text and "Approved" in page.text
    assert approved_senders(NA) == {"replies@out.deskbridge.example"}
    assert approved_senders(EU) == set()
    duplicate = client.post(PERMISSIONS, {"email": "replies@out.deskbridge.example"})
    assert duplicate.status_code == 200 and "already approved" in duplicate.text
    bad = client.post(PERMISSIONS, {"email": "nope"})
    assert 'id="id_email-error"' in bad.text
    sender = SandboxApprovedSender.objects.get()
    client.post(PERMISSIONS, {"remove": str(sender.pk)})
    assert approved_senders(NA) == set()


def test_a_seller_cannot_remove_another_sellers_sender(client: Client, sellers):
    theirs = SandboxApprovedSender.objects.create(seller=sellers[EU], email="eu@x.example")
    sign_in(client, OWNERS[NA])
    client.post(PERMISSIONS, {"remove": str(theirs.pk)})
    assert approved_senders(EU) == {"eu@x.example"}


def test_the_overview_lists_endpoints_sellers_and_logins(client: Client):
    page = client.get(reverse("sandbox_amazon:overview"))
    assert page.status_code == 200
    text = page.text.replace("<wbr>", "")  # long URLs may break on a phone
    for expected in (
        "/sandbox/amazon/lwa/auth/o2/token",
        "/sandbox/amazon/spapi/eu",
        EU,
        NA,
        OWNERS[EU],
        ADMINS[NA],
    ):
        assert expected in text


def test_seller_central_home_links_the_settings_pages(client: Client):
    home = reverse("sandbox_amazon:home")
    assert "You are not signed in." in client.get(home).text
    sign_in(client, OWNERS[EU])
    page = client.get(home)
    for path in (PREFS, PERMISSIONS, reverse("sandbox_amazon:manage_apps")):
        assert f'href="{path}"' in page.text
    client.post(reverse("sandbox_amazon:signout"))
    assert "You are not signed in." in client.get(home).text
