"""The sandbox Seller Central in Chromium at phone width: the consent walk and the settings pages."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxApprovedSender, notification_addresses
from deskbridge.sandbox.amazon.seed import SANDBOX_PASSWORD
from tests.e2e.conftest import PHONE

# Screenshots for a person to look at: /tmp/deskbridge-e2e/sandbox-*.png
SCREENSHOTS = Path(tempfile.gettempdir()) / "deskbridge-e2e"
OWNER = "owner.eu@sandbox-seller.example"
DE = "A1PA6795UKMFR9"


def assert_fits(page: Page, name: str | None = None) -> None:
    if name:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"sandbox-{name}-375.png", full_page=True)
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], f"{page.url} scrolls sideways: {widths}"


def sign_in(page: Page) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_fits(page, "signin")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(SANDBOX_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-Step Verification")).to_be_visible()
    assert_fits(page, "verify")
    code = page.locator("#sandbox-sms strong").inner_text()
    page.get_by_label("Enter OTP").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#id_otp-error")).to_be_visible()
    page.get_by_label("Enter OTP").fill(code)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def phone(page: Page, sandbox_live: str) -> Page:
    page.set_viewport_size(PHONE)
    return page


@pytest.mark.browser
def test_the_consent_walk_works_at_phone_width(phone: Page, sandbox_live: str, console: list[str]) -> None:
    phone.goto(
        f"{app.SELLER_CENTRAL_PATH}/apps/authorize/consent?application_id={app.SANDBOX_APP_ID}"
        "&state=browser-state&version=beta"
    )
    sign_in(phone)
    expect(phone.get_by_role("heading", name="Authorize deskbridge (sandbox)")).to_be_visible()
    assert_fits(phone, "consent")
    phone.get_by_role("button", name="Confirm").click()
    expect(phone.locator("#id_confirm-error")).to_be_visible()
    phone.get_by_role("checkbox").check()
    # The loading page forwards by meta refresh (no script: CSP script-src 'self') to the callback.
    callback = re.compile(
        re.escape(sandbox_live) + r"/amazon/callback/\?state=browser-state"
        r"&selling_partner_id=A2SNDBXEU00001&spapi_oauth_code=AN[A-Za-z]{18}$"
    )
    with phone.expect_request(callback, timeout=10_000):
        phone.get_by_role("button", name="Confirm").click()
    assert not [m for m in console if "Content Security Policy" in m], console


@pytest.mark.browser
def test_the_settings_pages_work_at_phone_width(phone: Page, sandbox_live: str, console: list[str]) -> None:
    phone.goto(f"{app.SELLER_CENTRAL_PATH}/notifications/preferences?marketplace={DE}")
    sign_in(phone)
    expect(phone.get_by_role("heading", name="Notification Preferences")).to_be_visible()
    assert_fits(phone, "notification-preferences")
    buyer = phone.locator("fieldset#buyer_messages")
    buyer.get_by_role("checkbox").check()
    buyer.get_by_label("Email address").fill("de@in.deskbridge.example")
    buyer.get_by_role("button", name="Add another").click()
    buyer = phone.locator("fieldset#buyer_messages")
    expect(buyer.get_by_label("Email address")).to_have_count(2)
    buyer.get_by_label("Email address").nth(1).fill("copy@in.deskbridge.example")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_text("Your notification preferences were saved.")).to_be_visible()
    assert notification_addresses("A2SNDBXEU00001", DE, "buyer_messages") == [
        "de@in.deskbridge.example",
        "copy@in.deskbridge.example",
    ]
    assert_fits(phone)

    phone.goto(f"{app.SELLER_CENTRAL_PATH}/messaging/permissions")
    phone.get_by_label("Email address").fill("replies@out.deskbridge.example")
    phone.get_by_role("button", name="Add").click()
    expect(phone.get_by_role("cell", name="Approved")).to_be_visible()
    assert SandboxApprovedSender.objects.filter(email="replies@out.deskbridge.example").exists()
    assert_fits(phone, "messaging-permissions")

    phone.goto("/sandbox/amazon/")
    expect(phone.get_by_role("heading", name="Sandbox Amazon")).to_be_visible()
    assert_fits(phone, "overview")
    assert not console, console
