"""The Content-Security-Policy (script-src 'self', no inline script) breaks none of the pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from deskbridge.pipeline.workrows import WorkState
from tests.conftest import Tenant
from tests.e2e.conftest import admin_shadows_password_reset, log_in_as
from tests.workapp.models import Chore


def csp_violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line]


def other_errors(console: list[str]) -> list[str]:
    # deskbridge has no favicon yet, so Chromium's own request for one gets a 404.
    return [line for line in console if not line.endswith("/favicon.ico)")]


def visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    assert page.title().endswith(" · deskbridge"), f"{path} is not our page: {page.title()!r}"
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, policy
    assert "unsafe-inline" not in policy, policy
    # Both scripts ran: htmx defined its global, and app.js is loaded from our origin.
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.htmx") == "object", path


@pytest.mark.browser
def test_signed_out_pages_run_without_csp_violations(page: Page, console: list[str]) -> None:
    for path in ("/login/", "/signup/"):
        visit(page, path)
    assert csp_violations(console) == []
    assert other_errors(console) == []


@pytest.mark.browser
@admin_shadows_password_reset
def test_password_reset_page_is_ours_and_runs_without_csp_violations(page: Page, console: list[str]) -> None:
    visit(page, "/password-reset/")
    expect(page.get_by_role("button", name="Send the link")).to_be_visible()
    assert csp_violations(console) == []
    assert other_errors(console) == []


@pytest.mark.browser
def test_signed_in_pages_run_without_csp_violations(
    page: Page, console: list[str], server_url: str, tenant: Tenant
) -> None:
    Chore.objects.create(organisation=tenant.organisation, state=WorkState.FAILED, last_error="boom")
    log_in_as(page, server_url, tenant.owner)
    for path in ("/dashboard/", "/members/"):
        visit(page, path)
    # The language switcher's auto-submit is app.js at work, under the policy.
    with page.expect_navigation():
        page.get_by_label("Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    visit(page, "/dashboard/")
    expect(page.get_by_role("button", name="重试")).to_be_visible()
    assert csp_violations(console) == []
    assert other_errors(console) == []


@pytest.mark.browser
def test_the_console_check_catches_an_inline_script(page: Page, console: list[str]) -> None:
    """The check above is not vacuous: an inline script on our page is refused and reported."""
    visit(page, "/login/")
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text) as refused:
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.inlineRan = true";
                document.head.append(script);
            }"""
        )
    assert "script-src 'self'" in refused.value.text
    assert page.evaluate("window.inlineRan === undefined")
    assert csp_violations(console), console
