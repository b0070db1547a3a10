"""A buyer's message goes through the pipeline (the order fetched from the sandbox Orders API over
loopback), then an agent finds it under Conversations, with the order beside it, and follows the
order's link into the sandbox Seller Central: at desktop width and at 375 px, in English and Chinese."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from deskbridge.pipeline.enrich import order_context
from deskbridge.pipeline.models import Conversation, InboundMessage
from deskbridge.pipeline.workrows import run_work_row
from deskbridge.sandbox.amazon.models import SandboxOrder
from deskbridge.sandbox.amazon.seed import SANDBOX_PASSWORD
from tests.amazon.conftest import fresh_buckets
from tests.amazon.orders_support import EU, authorize, connect, seed
from tests.conftest import Tenant
from tests.e2e.conftest import DESKTOP, PHONE, log_in_as, use_language
from tests.e2e.test_phone import SCREENSHOTS, assert_fits
from tests.pipeline.test_enrich import DE, arrive

__all__ = ["fresh_buckets"]

TEXT = "Wo ist mein Paket? Die Sendungsverfolgung zeigt seit Tagen nichts Neues."


@pytest.fixture
def buyer_message(tenant: Tenant, server_url: str, settings, fresh_buckets) -> Conversation:
    """One buyer message about a shipped order, run through the pipeline's steps by hand."""
    settings.PUBLIC_URL = server_url  # where the pipeline finds the sandbox Amazon, and the order links
    order_id = seed()[EU]["shipped"]
    connection = connect(authorize(None, organisation=tenant.organisation, seller_id=EU), DE)
    message = arrive(connection, order_id, text=TEXT)
    run_work_row(InboundMessage.label(), message.pk)
    conversation = Conversation.objects.get()
    assert conversation.order_snapshot is not None and conversation.order_snapshot.data is not None
    return conversation


def seller_central_sign_in(page: Page, email: str = "owner.eu@sandbox-seller.example") -> None:
    """Password, then the code the sandbox shows on the page; Seller Central then goes back."""
    expect(page).to_have_url(re.compile(r"/sandbox/amazon/sellercentral/ap/signin\?return_to="))
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(SANDBOX_PASSWORD)
    page.locator("main form button.primary").click()
    page.locator("input[name=otp]").fill(page.locator("#sandbox-sms strong").inner_text())
    page.locator("main form button.primary").click()


def assert_inside(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], (selector, box)


@pytest.mark.browser
@pytest.mark.parametrize(("width", "language"), [("desktop", "en"), ("phone", "en"), ("phone", "zh-hans")])
def test_an_agent_sees_the_buyer_message_with_its_order(
    page: Page, server_url: str, tenant: Tenant, buyer_message: Conversation, width, language, console
) -> None:
    zh = language == "zh-hans"
    order = order_context(Conversation.objects.select_related("order_snapshot").get(pk=buyer_message.pk))
    assert order is not None and not order.unavailable
    (item,) = order.items
    (package,) = order.shipments
    page.set_viewport_size(PHONE if width == "phone" else DESKTOP)
    use_language(page, server_url, language)
    log_in_as(page, server_url, tenant.agent)

    page.goto("/dashboard/")
    page.get_by_role("link", name="会话" if zh else "Conversations", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("会话" if zh else "Conversations")
    row = page.locator("table.conversations tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(order.order_id)
    expect(row).to_contain_text(buyer_message.buyer_alias)
    expect(row.locator("[data-order-shown]")).to_have_text("已显示" if zh else "Shown")
    assert_fits(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"conversations-{width}-{language}.png", full_page=True)

    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/conversations/{buyer_message.pk}/$"))
    expect(page.locator(".message-text")).to_have_text(TEXT)
    card = page.locator("#order")
    expect(card.get_by_role("heading", level=2)).to_have_text("亚马逊订单" if zh else "Amazon order")
    for text in (item.title, item.asin, item.sku, package.tracking_number, package.carrier, "FBM"):
        expect(card).to_contain_text(text)
    expect(card).to_contain_text("已发货" if zh else "Shipped")
    expect(card).to_contain_text(f"{order.total.amount} {order.total.currency}")
    expect(card).to_contain_text(order.ship_to.city)
    link = card.get_by_role("link", name=order.order_id)
    expect(link).to_have_attribute("href", order.order_url)
    assert_fits(page)
    assert_inside(page, "#order")
    thread, side = page.locator(".thread").bounding_box(), page.locator("aside.side").bounding_box()
    assert thread and side
    if width == "desktop":  # the order beside the messages
        assert side["x"] >= thread["x"] + thread["width"] and abs(side["y"] - thread["y"]) < 5
    else:  # below them
        assert side["y"] >= thread["y"] + thread["height"]
    page.screenshot(path=SCREENSHOTS / f"conversation-{width}-{language}.png", full_page=True)

    # The link opens the order in (the sandbox's) Seller Central, once signed in there.
    page.goto(order.order_url)
    seller_central_sign_in(page)
    expect(page).to_have_url(order.order_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Order details")
    main = page.locator("main")
    expect(main).to_contain_text(order.order_id)
    expect(main).to_contain_text(package.tracking_number)
    buyer_name = SandboxOrder.objects.get(order_id=order.order_id).details["buyer"]["buyerName"]
    expect(main).to_contain_text(buyer_name)  # Seller Central shows the seller what the API does not
    assert_fits(page)
    assert not console, console
