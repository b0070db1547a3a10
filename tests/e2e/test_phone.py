"""At phone width (375x740) nothing scrolls sideways and the main buttons are on screen."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from deskbridge.core.models import Membership, Role, User
from deskbridge.pipeline.workrows import WorkState
from tests.conftest import Tenant
from tests.e2e.conftest import PHONE, admin_shadows_password_reset, log_in_as, use_language
from tests.workapp.models import Chore

# Screenshots for a person to look at: /tmp/deskbridge-e2e/*.png
SCREENSHOTS = Path(tempfile.gettempdir()) / "deskbridge-e2e"
LONG_EMAIL = "customer-service.europe.marketplaces@harbour-lights-trading-company.example.com"
LONG_ERROR = (
    "HTTPError 503 from https://sellingpartnerapi-eu.amazon.com/messaging/v1/orders/"
    "302-1234567-1234567/messages/confirmCustomizationDetails?marketplaceIds=A1PA6795UKMFR9"
    "&requestId=7f3c9e2a-4b1d-4c8e-9a6f-0d2e5b7c1a3f"
)


def assert_fits(page: Page) -> None:
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], f"{page.url} scrolls sideways: {widths}"


def assert_on_screen(control: Locator) -> None:
    """Visible, inside the screen's width, and (for a button) its label on one line."""
    expect(control).to_be_visible()
    box = control.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    lines = control.evaluate(
        """element => {
            if (element.tagName !== "BUTTON") return 1;
            const range = document.createRange();
            range.selectNodeContents(element);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        }"""
    )
    assert lines == 1, f"{control} wraps onto {lines} lines"


@pytest.fixture
def busy_tenant(tenant: Tenant) -> Tenant:
    """An organisation with a long email among its members, and failed work with long errors."""
    user = User.objects.create_user(LONG_EMAIL, None)
    Membership.objects.create(organisation=tenant.organisation, user=user, role=Role.AGENT)
    for _ in range(3):
        Chore.objects.create(
            organisation=tenant.organisation, state=WorkState.FAILED, attempts=8, last_error=LONG_ERROR
        )
    Chore.objects.create(organisation=tenant.organisation, state=WorkState.PENDING)
    return tenant


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size(PHONE)
    return page


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_signed_out_pages_fit_a_phone(phone: Page, server_url: str, language: str) -> None:
    use_language(phone, server_url, language)
    zh = language == "zh-hans"
    pages = {
        "/login/": "登录" if zh else "Log in",
        "/signup/": "注册" if zh else "Sign up",
    }
    for path, button in pages.items():
        assert_signed_out_page_fits(phone, path, language, button)


@pytest.mark.browser
@admin_shadows_password_reset
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_password_reset_page_fits_a_phone(phone: Page, server_url: str, language: str) -> None:
    use_language(phone, server_url, language)
    button = "发送链接" if language == "zh-hans" else "Send the link"
    assert_signed_out_page_fits(phone, "/password-reset/", language, button)


def assert_signed_out_page_fits(phone: Page, path: str, language: str, button: str) -> None:
    zh = language == "zh-hans"
    phone.goto(path)
    assert phone.title().endswith(" · deskbridge"), f"{path} is not our page: {phone.title()!r}"
    expect(phone.locator("html")).to_have_attribute("lang", language)
    assert_fits(phone)
    assert_on_screen(phone.get_by_role("button", name=button, exact=True))
    assert_on_screen(phone.get_by_label("语言" if zh else "Language"))
    assert_on_screen(phone.get_by_role("button", name="切换" if zh else "Switch"))
    for field in phone.locator("main input:visible").all():
        assert_on_screen(field)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_dashboard_fits_a_phone(phone: Page, server_url: str, busy_tenant: Tenant, language: str) -> None:
    use_language(phone, server_url, language)
    log_in_as(phone, server_url, busy_tenant.owner)
    zh = language == "zh-hans"
    phone.goto("/dashboard/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("控制台" if zh else "Dashboard")
    assert_fits(phone)
    assert_on_screen(phone.get_by_role("button", name="退出登录" if zh else "Log out"))
    assert_on_screen(phone.get_by_role("link", name="成员" if zh else "Members", exact=True))
    retry = phone.get_by_role("button", name="重试" if zh else "Retry")
    expect(retry).to_have_count(3)
    for button in retry.all():
        assert_on_screen(button)
    SCREENSHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=SCREENSHOTS / f"dashboard-375-{language}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_members_page_fits_a_phone(phone: Page, server_url: str, busy_tenant: Tenant, language: str) -> None:
    use_language(phone, server_url, language)
    log_in_as(phone, server_url, busy_tenant.owner)
    zh = language == "zh-hans"
    phone.goto("/members/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("成员" if zh else "Members")
    expect(phone.get_by_text(LONG_EMAIL)).to_be_visible()
    assert_fits(phone)
    change = phone.get_by_role("button", name="更改" if zh else "Change")
    expect(change).to_have_count(3)  # admin, agent and the long-email agent; not oneself
    for button in change.all():
        assert_on_screen(button)
    for button in phone.get_by_role("button", name="移除" if zh else "Remove").all():
        assert_on_screen(button)
    assert_on_screen(phone.get_by_role("button", name="退出组织" if zh else "Leave"))
    add = phone.get_by_role("button", name="添加成员" if zh else "Add member")
    add.scroll_into_view_if_needed()
    assert_on_screen(add)
    phone.screenshot(path=SCREENSHOTS / f"members-375-{language}.png", full_page=True)
