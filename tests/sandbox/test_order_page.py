"""The sandbox Seller Central's order page, where OrderContext.order_url (the agent's "open in
Seller Central" link) lands: the signed-in seller's own order, everything Seller Central shows."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from deskbridge.amazon.orders import order_url
from deskbridge.sandbox.amazon.models import SandboxOrder
from deskbridge.sandbox.amazon.orders_seed import order_id_for
from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon
from tests.sandbox.conftest import ADMINS, EU, NA, OWNERS, sign_in

DE = "A1PA6795UKMFR9"


@pytest.fixture
def orders(sellers) -> None:
    seed_sandbox_amazon()


def page_of(order_id: str) -> str:
    return reverse("sandbox_amazon:order", args=[order_id])


def test_the_link_deskbridge_gives_agents_is_this_page(orders):
    order_id = order_id_for(EU, "shipped")
    link = order_url(DE, order_id)
    assert link == settings.PUBLIC_URL + page_of(order_id)


def test_the_page_needs_the_seller_central_sign_in(client: Client, orders):
    path = page_of(order_id_for(EU, "shipped"))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("sandbox_amazon:signin") + "?return_to=" + path.replace("/", "%2F")


@pytest.mark.parametrize("email", [OWNERS[EU], ADMINS[EU]])
def test_the_signed_in_seller_sees_its_order(client: Client, orders, email):
    order = SandboxOrder.objects.get(order_id=order_id_for(EU, "shipped"))
    path = page_of(order.order_id)
    sign_in(client, email, return_to=path)

    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    details = order.details
    (item,) = details["orderItems"]
    (package,) = details["packages"]
    address = details["recipient"]["deliveryAddress"]
    for text in (
        order.order_id,
        "amazon.de",
        "Shipped",
        "Seller (FBM)",
        item["product"]["title"],
        item["product"]["asin"],
        item["product"]["sellerSku"],
        package["carrier"],
        package["trackingNumber"],
        "DELIVERED",
        details["buyer"]["buyerName"],  # Seller Central shows the seller what the API holds back
        order.buyer_email,
        address["addressLine1"],
        address["city"],
        details["proceeds"]["grandTotal"]["amount"],
    ):
        assert str(text) in html, text


def test_another_sellers_order_is_not_found(client: Client, orders):
    theirs = SandboxOrder.objects.get(order_id=order_id_for(NA, "shipped"))
    sign_in(client, OWNERS[EU])

    response = client.get(page_of(theirs.order_id))

    assert response.status_code == 404
    html = response.content.decode()
    assert "Order not found" in html
    assert theirs.details["orderItems"][0]["product"]["title"] not in html
    assert theirs.buyer_email not in html
    assert client.get(page_of("302-0000000-0000000")).status_code == 404


@pytest.mark.parametrize(
    "kind", ["unshipped", "partially-shipped", "pending", "cancelled", "fba", "replacement"]
)
def test_every_kind_of_seeded_order_has_a_page(client: Client, orders, kind):
    order_id = order_id_for(EU, kind)
    sign_in(client, OWNERS[EU])
    response = client.get(page_of(order_id))
    assert response.status_code == 200
    assert order_id in response.content.decode()
