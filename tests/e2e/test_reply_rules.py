"""The reply-rules page in Chromium at phone width (375 px), in English and Chinese: an owner reaches it
from the helpdesk page, chooses Warn for phone numbers and saves; an agent sees the same choices,
disabled, with nothing to save; and a conversation's refused and blocked replies, with their reasons,
fit the same width."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from deskbridge.amazon import relay
from deskbridge.amazon.models import ReplyPolicy, SellerAccount
from deskbridge.pipeline.models import ReplyOutcome
from tests.conftest import Tenant
from tests.e2e.conftest import log_in_as, use_language
from tests.e2e.test_phone import SCREENSHOTS, assert_fits, assert_on_screen, phone
from tests.web.test_conversations import PHONE_FINDING, agent_reply, conversation

__all__ = ["phone"]  # the 375 px page fixture


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_owner_changes_a_reply_rule_on_a_phone(
    phone: Page, server_url: str, tenant: Tenant, language: str
) -> None:
    zh = language == "zh-hans"
    use_language(phone, server_url, language)
    log_in_as(phone, server_url, tenant.owner)

    phone.goto("/helpdesk/")
    phone.get_by_role("link", name="回复规则" if zh else "Reply rules").click()
    expect(phone).to_have_url(f"{server_url}/helpdesk/reply-rules/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("回复规则" if zh else "Reply rules")
    assert_fits(phone)

    for rule in relay.DEFAULT_POLICY:
        rule_box = phone.locator(f"#rule-{rule}")
        assert_on_screen(rule_box)
        for radio in rule_box.locator("label.choice").all():
            assert_on_screen(radio)
    phones = phone.locator("#rule-phone_number")
    block = "阻止（亚马逊默认）" if zh else "Block (Amazon's default)"
    expect(phones.get_by_label(block)).to_be_checked()

    phones.get_by_label("警告" if zh else "Warn", exact=True).check()
    save = phone.get_by_role("button", name="保存规则" if zh else "Save the rules")
    save.scroll_into_view_if_needed()
    assert_on_screen(save)
    save.click()

    expect(phone.locator(".messages")).to_contain_text(
        "回复规则已保存。" if zh else "The reply rules are saved."
    )
    expect(
        phone.locator("#rule-phone_number").get_by_label("警告" if zh else "Warn", exact=True)
    ).to_be_checked()
    assert_fits(phone)
    assert ReplyPolicy.rules_for(tenant.organisation)["phone_number"] == "warn"
    SCREENSHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=SCREENSHOTS / f"reply-rules-375-{language}.png", full_page=True)


@pytest.mark.browser
def test_an_agent_sees_the_rules_without_changing_them(phone: Page, server_url: str, tenant: Tenant) -> None:
    ReplyPolicy.objects.create(
        organisation=tenant.organisation, rules={**relay.DEFAULT_POLICY, "emoji": "block"}
    )
    log_in_as(phone, server_url, tenant.agent)

    phone.goto("/helpdesk/reply-rules/")

    assert_fits(phone)
    expect(
        phone.get_by_text("Only an owner or admin of the organisation can change the reply rules.")
    ).to_be_visible()
    expect(phone.get_by_role("button", name="Save the rules")).to_have_count(0)
    expect(phone.locator("#rule-emoji").get_by_label("Block", exact=True)).to_be_checked()
    radios = phone.locator("input[type=radio]")
    expect(radios).to_have_count(2 * len(relay.DEFAULT_POLICY))
    for radio in radios.all():
        expect(radio).to_be_disabled()


@pytest.mark.browser
def test_refused_and_blocked_replies_fit_a_phone_with_their_reasons(
    phone: Page, server_url: str, tenant: Tenant
) -> None:
    account = SellerAccount.objects.create(
        organisation=tenant.organisation,
        selling_partner_id="A2SNDBXEU00001",
        region="EU",
        store_name="Harbour Lights DE",
    )
    made = conversation(account, 1)
    agent_reply(
        made,
        1,
        "Your parcel left our warehouse today; tracking follows.",
        ReplyOutcome.REFUSED,
        sent=True,
        refusal="unauthorized_sender: 550 5.7.1 " + "x" * 120,
    )
    agent_reply(
        made,
        2,
        "Call us on +49 30 12345678",
        ReplyOutcome.BLOCKED,
        sent=False,
        findings=[
            {**PHONE_FINDING, "excerpt": "https://www.example-shop-with-a-very-long-name.com/" + "y" * 80}
        ],
    )
    log_in_as(phone, server_url, tenant.agent)

    phone.goto(f"/conversations/{made.pk}/")

    refused = phone.locator('article[data-reply-outcome="refused"]')
    expect(refused.locator(".badge")).to_have_text("Refused by Amazon")
    expect(refused).to_contain_text("approve it in Seller Central under Messaging Permissions")
    blocked = phone.locator('article[data-reply-outcome="blocked"]')
    expect(blocked.locator(".badge")).to_have_text("Not sent: against Amazon's rules")
    expect(blocked).to_contain_text("Phone numbers:")
    for box in (refused, blocked, refused.locator(".reply-reason"), blocked.locator(".reply-reason")):
        assert_on_screen(box)
    assert_fits(phone)
    phone.screenshot(path=SCREENSHOTS / "conversation-replies-375.png", full_page=True)
