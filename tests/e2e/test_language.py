"""English and Simplified Chinese: the header's switcher, and a Chinese browser's first visit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import Tenant
from tests.e2e.conftest import log_in_as

# What the dashboard says in each language (the zh-hans strings come from our django.po).
ENGLISH = [
    "Dashboard",
    "Members",
    "Log out",
    "No Amazon account connected yet.",
    "No helpdesk connected yet.",
    "Manage members",
    "Processing",
]
CHINESE = [
    "控制台",
    "成员",
    "退出登录",
    "尚未连接亚马逊账户。",
    "尚未连接客服系统。",
    "管理成员",
    "处理状态",
    "3 名成员",
]


def assert_dashboard_in_chinese(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_title("控制台 · deskbridge")
    expect(page.get_by_role("heading", level=1)).to_have_text("控制台")
    text = page.locator("body").inner_text()
    for chinese in CHINESE:
        assert chinese in text, chinese
    for english in ENGLISH:
        assert english not in text, english
    assert "3 members" not in text
    expect(page.get_by_role("button", name="切换")).to_be_visible()


@pytest.mark.browser
def test_switching_to_chinese_in_the_header_translates_the_dashboard(
    page: Page, server_url: str, tenant: Tenant
) -> None:
    log_in_as(page, server_url, tenant.owner)
    page.goto("/dashboard/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    text = page.locator("body").inner_text()
    for english in ENGLISH:
        assert english in text, english
    assert "3 members" in text

    switcher = page.get_by_label("Language")
    expect(switcher).to_have_value("en")
    # Choosing is enough: app.js submits the form (the button is the no-JS fallback).
    with page.expect_navigation():
        switcher.select_option(label="简体中文")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    assert_dashboard_in_chinese(page)
    expect(page.get_by_label("语言")).to_have_value("zh-hans")

    # The choice sticks on the next page, and switching back works with the button too.
    page.get_by_role("link", name="成员", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("成员")
    expect(page.get_by_role("cell", name="所有者")).to_be_visible()
    page.evaluate("document.querySelector('select[data-autosubmit]').removeAttribute('data-autosubmit')")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")


@pytest.mark.browser
def test_a_chinese_browser_gets_chinese_without_choosing(
    browser: Browser, server_url: str, tenant: Tenant
) -> None:
    context = browser.new_context(base_url=server_url, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto("/login/")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.get_by_role("heading", level=1)).to_have_text("登录")
        expect(page.get_by_text("忘记密码？")).to_be_visible()
        log_in_as(page, server_url, tenant.owner)
        page.goto("/dashboard/")
        assert_dashboard_in_chinese(page)
    finally:
        context.close()
