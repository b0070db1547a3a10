"""The sandbox sellers' seeded orders: stable ids in Amazon's form, one of every kind per seller,
buyer aliases that agree with the sandbox's buyer messages, and seeding that can run again."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

import pytest

from deskbridge.amazon import marketplaces
from deskbridge.sandbox.amazon import mail
from deskbridge.sandbox.amazon.models import SandboxOrder
from deskbridge.sandbox.amazon.orders_seed import (
    KINDS,
    ORDER_PREFIXES,
    order_id_for,
    sandbox_order_ids,
    seed_sandbox_orders,
    seeded_order_kinds,
)
from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon
from tests.sandbox.conftest import EU, FE, NA

pytestmark = pytest.mark.usefixtures("orders")


def test_every_seller_has_one_order_of_every_kind(orders):
    assert SandboxOrder.objects.count() == 27
    for seller_id in (EU, NA, FE):
        ids = sandbox_order_ids(seller_id)
        assert ids == [orders[seller_id][kind] for kind in KINDS]
        assert ids[0] == order_id_for(seller_id, "shipped")
        covers = seeded_order_kinds(seller_id)
        assert set(covers) == set(ids)
        everything = {label for labels in covers.values() for label in labels}
        assert {
            "pending",
            "unshipped",
            "shipped",
            "tracking",
            "partially-shipped",
            "cancelled",
            "fba",
            "fbm",
            "prime",
            "business",
            "multi-item",
            "replacement",
        } <= everything
    assert sandbox_order_ids("A0UNKNOWN") == []


def test_order_ids_have_amazons_form_and_the_marketplaces_prefix(orders):
    for order in SandboxOrder.objects.all():
        assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", order.order_id)
        marketplace = marketplaces.by_id(order.marketplace_id)
        assert marketplace is not None and marketplace.region == order.seller.region
        assert order.order_id[:3] in ORDER_PREFIXES[marketplace.country_code]
        assert order.seller.participations.filter(marketplace_id=order.marketplace_id).exists()
    assert (
        SandboxOrder.objects.values("marketplace_id").distinct().count() == 10
    )  # US CA MX DE UK FR ES IT JP AU


def test_buyer_aliases_are_the_ones_the_sandbox_buyer_messages_come_from(orders):
    for order in SandboxOrder.objects.select_related("seller"):
        marketplace = marketplaces.by_id(order.marketplace_id)
        seller_id = order.seller.selling_partner_id
        assert order.buyer_email.endswith("@" + marketplace.relay_domain)
        owner = (
            orders[seller_id]["shipped"]
            if order.order_id == orders[seller_id]["replacement"]
            else order.order_id
        )
        assert order.buyer_email == mail.buyer_alias(seller_id, owner, marketplace)
        message = mail.compose_buyer_message(
            to="shop@deskbridge.localhost",
            marketplace=marketplace,
            seller_id=seller_id,
            order_id=order.order_id,
            text="Where is my parcel?",
        )
        parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
        body = parsed.get_body(("plain",)).get_content()
        first = order.details["orderItems"][0]["product"]
        if order.order_id != orders[seller_id]["replacement"]:
            assert parseaddr(str(parsed["From"]))[1] == order.buyer_email
            assert f"[ASIN: {first['asin']}]" in body and first["title"] in body
        assert (
            mail.buyer_name(seller_id, owner, mail.default_language(marketplace))
            in order.details["buyer"]["buyerName"]
        )


def test_seeding_again_changes_nothing(orders):
    before = {
        o.order_id: (o.created_time, o.last_updated_time, o.details, o.buyer_email)
        for o in SandboxOrder.objects.all()
    }
    assert sorted(seed_sandbox_amazon()) == sorted(before)
    seed_sandbox_orders()
    after = {
        o.order_id: (o.created_time, o.last_updated_time, o.details, o.buyer_email)
        for o in SandboxOrder.objects.all()
    }
    assert after == before


def test_a_changed_order_is_put_back_by_seeding(orders):
    order = SandboxOrder.objects.get(order_id=orders[EU]["shipped"])
    created = order.created_time
    order.fulfillment_status = "CANCELLED"
    order.details = {}
    order.save()
    seed_sandbox_orders()
    order.refresh_from_db()
    assert order.fulfillment_status == "SHIPPED" and order.details["packages"]
    assert order.created_time == created


def test_the_demo_lists_its_sellers_orders(settings, tmp_path):
    from deskbridge.sandbox import demo

    settings.DATA_DIR = tmp_path
    login = demo.seed()
    assert login["seller_id"] == NA
    assert login["orders"] == sandbox_order_ids(NA) and len(login["orders"]) == 9
    path = demo.write_demo_json(login, "http://127.0.0.1:8000")
    import json

    assert json.loads(path.read_text())["orders"] == login["orders"]
