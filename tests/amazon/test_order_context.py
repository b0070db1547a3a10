"""What the agent sees: OrderContext's note and ticket fields for every kind of sandbox order."""

from __future__ import annotations

from deskbridge.amazon.orders import OrderContext
from deskbridge.amazon.spapi import SpApi
from deskbridge.helpdesks.base import order_fields
from deskbridge.sandbox.amazon.roles import Role, granted_roles
from tests.amazon.orders_support import EU


def context(account, order_id: str) -> OrderContext:
    return OrderContext.of(SpApi(account).get_order(order_id))


def test_a_shipped_order_names_its_items_total_dates_and_tracking(eu_account, sandbox_orders, settings):
    order_id = sandbox_orders[EU]["shipped"]
    shipped = context(eu_account, order_id)
    note = shipped.as_note()
    lines = note.splitlines()
    assert lines[0] == f"Amazon order {order_id}"
    assert lines[1] == f"{settings.PUBLIC_URL}/sandbox/amazon/sellercentral/orders-v3/order/{order_id}"
    assert "Status: Shipped (FBM)" in note and "Ordered: " in note and "on amazon.de" in note
    assert "Ship by: " in note and "Deliver by: " in note
    (item,) = shipped.items
    assert f"1 × {item.title} (ASIN {item.asin}, SKU {item.sku}) @ {item.unit_price}" in note
    assert f"Order total: {shipped.total}" in note
    (package,) = shipped.shipments
    assert f"Shipment 1: DHL {package.tracking_number} (delivered)" in note
    fields = order_fields(shipped)  # what a ticket carries as fields
    assert fields["amazon_fulfillment"] == "FBM" and fields["amazon_order_status"] == "SHIPPED"
    assert fields["amazon_order_total"] == str(shipped.total) and str(shipped.total).endswith(" EUR")
    assert package.tracking_number in fields["amazon_tracking"]
    assert fields["amazon_items"] == f"{item.asin} × 1" and fields["amazon_marketplace"] == "amazon.de"
    # Without the restricted role: where it goes, not to whom or which street.
    assert not shipped.buyer_name and shipped.ship_to.city and not shipped.ship_to.is_full
    assert "Buyer:" not in note and f"Ship to: {shipped.ship_to.city}" in note


def test_flags_prime_business_fba_replacement_and_cancellation(eu_account, sandbox_orders):
    orders = sandbox_orders[EU]
    unshipped = context(eu_account, orders["unshipped"])
    assert unshipped.is_prime and "Prime" in unshipped.as_note()
    fba = context(eu_account, orders["fba"])
    assert fba.fulfillment_channel == "FBA" and order_fields(fba)["amazon_fulfillment"] == "FBA"
    business = context(eu_account, orders["business"])
    assert business.is_business and business.buyer_company and "Business" in business.as_note()
    replacement = context(eu_account, orders["replacement"])
    assert replacement.is_replacement and replacement.replaces_order_id == orders["shipped"]
    assert f"replacement for {orders['shipped']}" in replacement.as_note()
    cancelled = context(eu_account, orders["cancelled"])
    assert cancelled.is_cancelled and cancelled.buyer_requested_cancellation
    assert "Cancellation: the buyer asked to cancel: Ordered by mistake" in cancelled.as_note()
    assert cancelled.total is None and "Order total" not in cancelled.as_note()  # no prices
    pending = context(eu_account, orders["pending"])
    assert "Pending" in pending.as_note() and not pending.shipments


def test_the_full_address_and_name_only_with_the_role(eu_account, sandbox_orders):
    with granted_roles(Role.DIRECT_TO_CONSUMER_DELIVERY):
        shipped = context(eu_account, sandbox_orders[EU]["shipped"])
    assert shipped.buyer_name and shipped.ship_to.is_full
    assert f"Ship to: {shipped.ship_to.name}" in shipped.as_note()
    assert f"Buyer: {shipped.buyer_name}" in shipped.as_note()


def test_without_details_the_link_and_the_reason_remain():
    unavailable = OrderContext.without_details(
        "302-1234567-1234567", "A1PA6795UKMFR9", "Amazon did not answer"
    )
    assert unavailable.as_note().splitlines()[2] == "Order details unavailable: Amazon did not answer"
    fields = order_fields(unavailable)
    assert fields["amazon_order_id"] == "302-1234567-1234567"
    assert fields["amazon_order_url"] == unavailable.order_url
    assert fields["amazon_order_status"] == "unavailable" and fields["amazon_items"] == ""
