"""Connecting Help Scout in a real browser: the helpdesk page → "Connect with Help Scout" → the
sandbox Help Scout's consent page → back to deskbridge with a healthy connection; at desktop width
and on a phone (375 px), in English and Simplified Chinese; then Check now and Disconnect."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from deskbridge.helpdesks.models import Health, HelpdeskConnection
from deskbridge.sandbox.helpdesks.helpscout import store
from tests.conftest import Tenant
from tests.e2e.conftest import DESKTOP, PHONE, log_in_as, use_language
from tests.e2e.test_amazon_wizard import assert_controls_inside_cards
from tests.e2e.test_phone import SCREENSHOTS, assert_fits, assert_on_screen

CONSENT = "/sandbox/helpscout/authentication/authorizeClientApplication"
# (English, zh_Hans) of what the person reads and clicks.
WORDS = {
    "en": {
        "connect": "Connect Help Scout",
        "with": "Connect with Help Scout",
        "connected": "Help Scout is connected.",
        "working": "Working",
        "check": "Check now",
        "checked": "Help Scout is working.",
        "disconnect": "Disconnect",
        "disconnected": "Help Scout is disconnected. Its credentials are deleted.",
    },
    "zh-hans": {
        "connect": "连接 Help Scout",
        "with": "通过 Help Scout 授权连接",
        "connected": "Help Scout 已连接。",
        "working": "运行正常",
        "check": "立即检查",
        "checked": "Help Scout 运行正常。",
        "disconnect": "断开连接",
        "disconnected": "Help Scout 已断开连接，其凭据已删除。",
    },
}


@pytest.fixture
def sandbox(server_url: str, settings) -> str:
    """The emulators answer at the browser's server (the consent page, the token endpoint, the API)."""
    settings.PUBLIC_URL = server_url
    return server_url


def fits(page: Page, name: str, phone: bool) -> None:
    if phone:
        assert_fits(page)
        assert_controls_inside_cards(page)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize(
    ("width", "language"),
    [("desktop", "en"), ("phone", "en"), ("phone", "zh-hans")],
)
def test_connect_help_scout_through_its_consent_page(
    page: Page, sandbox: str, tenant: Tenant, width: str, language: str
) -> None:
    phone = width == "phone"
    words = WORDS[language]
    page.set_viewport_size(PHONE if phone else DESKTOP)
    use_language(page, sandbox, language)
    log_in_as(page, sandbox, tenant.owner)
    account = f"scout{tenant.organisation.pk}{width}"

    page.goto("/helpdesk/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    fits(page, f"helpdesk-settings-empty-375-{language}", phone)
    page.locator("#connect").get_by_role("link", name=words["connect"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/helpdesk/helpscout/connect/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(words["connect"])
    button = page.get_by_role("button", name=words["with"])
    if phone:
        assert_on_screen(button)
        assert_on_screen(page.locator("#credentials button.primary"))
    fits(page, f"helpdesk-connect-375-{language}", phone)

    # Help Scout's consent page (the sandbox's): name the account, Authorize.
    button.click()
    expect(page).to_have_url(re.compile(rf"{CONSENT}\?client_id=.+&state=.+&redirect_uri="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Authorize deskbridge")
    page.get_by_label("Help Scout account").fill(account)
    page.get_by_role("button", name="Authorize").click()

    # Back at deskbridge: connected, healthy, the webhook made in Help Scout.
    expect(page).to_have_url(re.compile(r"/helpdesk/$"))
    expect(page.locator(".messages li.success")).to_have_text(words["connected"])
    card = page.locator("#helpdesk-helpscout")
    expect(card.locator(".status")).to_have_text(words["working"])
    expect(card).to_contain_text(f"{account} support")
    connection = HelpdeskConnection.objects.get(organisation=tenant.organisation)
    assert connection.kind == "helpscout" and connection.health == Health.HEALTHY
    assert connection.secret_values()["refresh_token"]
    (hook,) = store.records(account).all("webhooks")
    assert hook.data["url"] == connection.webhook_url
    if phone:
        for name in ("check", "disconnect"):
            assert_on_screen(card.get_by_role("button", name=words[name]))
    fits(page, f"helpdesk-settings-375-{language}", phone)

    # Check now: still working (the access token is used, or renewed with the refresh token).
    card.get_by_role("button", name=words["check"]).click()
    expect(page.locator(".messages li.success")).to_have_text(words["checked"])
    expect(page.locator("#helpdesk-helpscout .status")).to_have_text(words["working"])

    page.locator("#helpdesk-helpscout").get_by_role("button", name=words["disconnect"]).click()
    expect(page.locator(".messages li.success")).to_have_text(words["disconnected"])
    expect(page.locator("#helpdesk-helpscout")).to_have_count(0)
    assert not HelpdeskConnection.objects.exists()


@pytest.mark.browser
def test_denied_at_help_scout_comes_back_with_the_reason(page: Page, sandbox: str, tenant: Tenant) -> None:
    log_in_as(page, sandbox, tenant.owner)
    page.goto("/helpdesk/helpscout/connect/")
    page.get_by_role("button", name="Connect with Help Scout").click()
    expect(page).to_have_url(re.compile(rf"{CONSENT}\?"))
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_url(re.compile(r"/helpdesk/helpscout/connect/$"))
    expect(page.locator(".messages li.error")).to_have_text("Help Scout did not grant access.")
    assert not HelpdeskConnection.objects.exists()
