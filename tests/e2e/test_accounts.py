"""Signing up, logging out and in again, and a wrong password, all through the real forms."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from deskbridge.core.models import Membership, Role
from tests.conftest import PASSWORD as TENANT_PASSWORD
from tests.conftest import Tenant
from tests.e2e.conftest import use_language

PASSWORD = "lantern orchard 7 quietly"


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
def test_sign_up_log_out_and_log_in_again(page: Page) -> None:
    page.goto("/signup/")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Company or shop name").fill("Harbour Lights Trading")
    page.get_by_label("Email address").fill("Mei.Lin@Example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".messages")).to_have_text("Welcome! Your organisation is ready.")
    expect(page.locator(".lead")).to_have_text("Harbour Lights Trading")
    expect(page.get_by_text("1 member", exact=True)).to_be_visible()
    membership = Membership.objects.select_related("user", "organisation").get()
    assert membership.user.email == "mei.lin@example.com"
    assert membership.organisation.name == "Harbour Lights Trading"
    assert membership.role == Role.OWNER

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/dashboard/$"))

    log_in(page, "mei.lin@example.com", PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator(".lead")).to_have_text("Harbour Lights Trading")


@pytest.mark.browser
def test_sign_up_with_a_taken_email_says_so_beside_the_field(page: Page) -> None:
    page.goto("/signup/")
    page.get_by_label("Company or shop name").fill("First Shop")
    page.get_by_label("Email address").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.get_by_role("button", name="Log out").click()

    page.goto("/signup/")
    page.get_by_label("Company or shop name").fill("Second Shop")
    page.get_by_label("Email address").fill("OWNER@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/signup/$"))
    error = page.locator(".field.invalid .error")
    expect(error).to_have_text("An account with this email address already exists. Log in instead.")
    expect(page.locator(".field.invalid input")).to_have_attribute("type", "email")


@pytest.mark.browser
@pytest.mark.parametrize(
    ("language", "button", "sentence"),
    [
        ("en", "Log in", "That email address and password do not match an account."),
        ("zh-hans", "登录", "邮箱地址或密码不正确。"),
    ],
    ids=["en", "zh-hans"],
)
def test_wrong_password_shows_the_sentence_beside_the_form(
    page: Page, server_url: str, tenant: Tenant, language: str, button: str, sentence: str
) -> None:
    email = tenant.owner.email
    use_language(page, server_url, language)

    page.goto("/login/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(TENANT_PASSWORD + " typo")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=button, exact=True).click()
    assert posted.value.status == 200

    expect(page).to_have_url(re.compile(r"/login/$"))
    alert = page.locator("main form .errors[role=alert]")
    expect(alert).to_have_text(sentence)
    expect(alert).to_be_visible()
    # Beside the form: inside it, above the first field.
    alert_box = alert.bounding_box()
    field_box = page.locator("input[name=username]").bounding_box()
    assert alert_box and field_box and alert_box["y"] < field_box["y"]
    expect(page.locator("input[name=username]")).to_have_value(email)
    expect(page.locator("input[name=password]")).to_have_value("")
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    assert "Exception" not in body
    assert "Server Error" not in body
