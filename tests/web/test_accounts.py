"""Accounts: sign-up, log-in (and its throttling), log-out, password reset and invitations."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from deskbridge.core.models import Membership, Organisation, Role, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 7391"
LOGIN_ERROR = "That email address and password do not match an account."
LOCKED_OUT = "Too many failed log-ins for this account from your address."
LINK = re.compile(r"https?://testserver(/password-reset/[^/\s]+/[^/\s]+/)")


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def log_in(client: Client, email: str, password: str):
    return client.post(reverse("login"), {"username": email, "password": password})


def field_error(field: str, message: str) -> str:
    """How form_fields.html renders one error under its field."""
    return f'<p class="error" id="id_{field}-error">{message}</p>'


# --- sign-up -------------------------------------------------------------------------------


def test_signup_creates_organisation_owner_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {"organisation": "Acme Widgets", "email": "Founder@Example.COM", "password": PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    user = User.objects.get(email="founder@example.com")
    organisation = Organisation.objects.get(name="Acme Widgets")
    membership = Membership.objects.get(user=user)
    assert membership.organisation == organisation
    assert membership.role == Role.OWNER
    assert logged_in_user_id(client) == str(user.pk)
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert "Acme Widgets" in dashboard.content.decode()


def test_signup_stores_the_password_with_argon2(client):
    client.post(
        reverse("signup"),
        {"organisation": "Hashing Ltd", "email": "hash@example.com", "password": PASSWORD},
    )

    user = User.objects.get(email="hash@example.com")
    assert user.password.startswith("argon2")
    assert PASSWORD not in user.password
    assert user.check_password(PASSWORD)


def test_signup_with_a_taken_email_shows_the_error_beside_the_field(client, tenant):
    before = (User.objects.count(), Organisation.objects.count(), Membership.objects.count())

    response = client.post(
        reverse("signup"),
        {"organisation": "Copycat", "email": tenant.owner.email.upper(), "password": PASSWORD},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert field_error("email", "An account with this email address already exists. Log in instead.") in html
    assert 'id="id_password-error"' not in html
    assert (User.objects.count(), Organisation.objects.count(), Membership.objects.count()) == before
    assert not Organisation.objects.filter(name="Copycat").exists()
    assert logged_in_user_id(client) is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "This password is too common."),
        ("Xy7", "This password is too short. It must contain at least 8 characters."),
        ("80417593261", "This password is entirely numeric."),
    ],
)
def test_signup_with_a_weak_password_shows_the_error_beside_the_field(client, password, message):
    response = client.post(
        reverse("signup"),
        {"organisation": "Weak Co", "email": "weak@example.com", "password": password},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert field_error("password", message) in html
    assert 'id="id_email-error"' not in html
    assert not User.objects.filter(email="weak@example.com").exists()
    assert not Organisation.objects.filter(name="Weak Co").exists()
    assert not Membership.objects.exists()
    assert logged_in_user_id(client) is None


def test_signup_page_redirects_people_already_logged_in(tenant):
    response = tenant.client().get(reverse("signup"))

    assert response.status_code == 302
    assert response.url == reverse("dashboard")


# --- log-in --------------------------------------------------------------------------------


def test_login_with_the_right_password_logs_in(client, tenant):
    response = log_in(client, tenant.agent.email, PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert logged_in_user_id(client) == str(tenant.agent.pk)


def test_login_with_a_bad_password_shows_one_sentence(client, tenant):
    response = log_in(client, tenant.owner.email, "not the password at all")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count(LOGIN_ERROR) == 1
    assert "Traceback" not in html
    assert logged_in_user_id(client) is None


def test_login_with_an_unknown_email_shows_the_same_sentence(client, tenant):
    response = log_in(client, "nobody-here@example.com", PASSWORD)

    assert response.status_code == 200
    assert response.content.decode().count(LOGIN_ERROR) == 1


def test_the_sixth_login_after_five_failures_is_locked_out_even_with_the_right_password(tenant):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _attempt in range(4):
        response = log_in(client, tenant.owner.email, "wrong password")
        assert response.status_code == 200
        assert LOGIN_ERROR in response.content.decode()
    # The fifth failure reaches the limit.
    log_in(client, tenant.owner.email, "wrong password")

    response = log_in(client, tenant.owner.email, PASSWORD)

    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()
    assert logged_in_user_id(client) is None


def test_the_lockout_is_for_one_email_from_one_address(tenant):
    attacker = Client(REMOTE_ADDR="203.0.113.8")
    for _attempt in range(5):
        log_in(attacker, tenant.owner.email, "wrong password")
    assert log_in(attacker, tenant.owner.email, PASSWORD).status_code == 429

    # Another account from the same address, and the same account from another address, still work.
    assert log_in(attacker, tenant.admin.email, PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    assert log_in(elsewhere, tenant.owner.email, PASSWORD).status_code == 302
    assert logged_in_user_id(elsewhere) == str(tenant.owner.pk)


def test_changing_the_case_of_the_email_does_not_escape_the_lockout(tenant):
    """Log-in ignores the email's case, so the throttle must too, or each spelling gets 5 tries."""
    client = Client(REMOTE_ADDR="203.0.113.9")
    email = tenant.owner.email
    for _attempt in range(5):
        log_in(client, email, "wrong password")

    response = log_in(client, email.upper(), PASSWORD)

    assert response.status_code == 429
    assert logged_in_user_id(client) is None


# --- log-out -------------------------------------------------------------------------------


def test_logout_by_post(tenant):
    client = tenant.client()
    assert client.get(reverse("dashboard")).status_code == 200

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("login")
    assert logged_in_user_id(client) is None
    after = client.get(reverse("dashboard"))
    assert after.status_code == 302
    assert after.url.startswith(reverse("login"))


def test_logout_is_not_done_by_get(tenant):
    client = tenant.client()

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert logged_in_user_id(client) == str(tenant.owner.pk)


# --- password reset ------------------------------------------------------------------------


def follow_link_and_set_password(client: Client, path: str, password: str):
    """Open the emailed link (it redirects to the set-password form) and submit a new password."""
    opened = client.get(path, follow=True)
    assert opened.status_code == 200
    assert 'name="new_password1"' in opened.content.decode()
    form_path = opened.redirect_chain[-1][0] if opened.redirect_chain else path
    return client.post(form_path, {"new_password1": password, "new_password2": password})


def test_password_reset_by_email_end_to_end(client, tenant):
    response = client.post(reverse("password_reset"), {"email": tenant.agent.email})

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [tenant.agent.email]
    link = LINK.search(message.body)
    assert link, message.body

    saved = follow_link_and_set_password(client, link.group(1), NEW_PASSWORD)

    assert saved.status_code == 302
    assert saved.url == reverse("password_reset_complete")
    tenant.agent.refresh_from_db()
    assert tenant.agent.check_password(NEW_PASSWORD)
    assert tenant.agent.password.startswith("argon2")
    fresh = Client()
    assert log_in(fresh, tenant.agent.email, PASSWORD).status_code == 200
    assert log_in(fresh, tenant.agent.email, NEW_PASSWORD).status_code == 302
    assert logged_in_user_id(fresh) == str(tenant.agent.pk)
    # The link works once only.
    reused = client.get(link.group(1), follow=True)
    assert reused.context["validlink"] is False
    assert 'name="new_password1"' not in reused.content.decode()


def test_password_reset_for_an_unknown_email_sends_nothing_and_looks_the_same(client, tenant):
    known = client.post(reverse("password_reset"), {"email": tenant.owner.email}, follow=True)
    mail.outbox.clear()

    unknown = client.post(reverse("password_reset"), {"email": "stranger@example.com"}, follow=True)

    assert mail.outbox == []
    assert unknown.status_code == known.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert [t.origin.name for t in unknown.templates] == [t.origin.name for t in known.templates]


def test_password_reset_pages_and_email_are_deskbridge_own(client, tenant):
    form = client.get(reverse("password_reset"))
    sent = client.post(reverse("password_reset"), {"email": tenant.owner.email}, follow=True)

    assert "Enter your email address and we will send you a link" in form.content.decode()
    assert "If an account uses that address" in sent.content.decode()
    assert "Someone asked to reset the password of your deskbridge account" in mail.outbox[0].body
    link = LINK.search(mail.outbox[0].body)
    assert link
    opened = client.get(link.group(1), follow=True)
    assert "Choose a new password" in opened.content.decode()
    for response in (form, sent, opened):
        assert "Django site admin" not in response.content.decode()


# --- invitations ---------------------------------------------------------------------------


def test_adding_a_new_person_emails_an_invitation_to_choose_a_password(tenant):
    response = tenant.client().post(reverse("members"), {"email": "New.Hire@Example.com", "role": Role.AGENT})

    assert response.status_code == 302
    invited = User.objects.get(email="new.hire@example.com")
    assert not invited.has_usable_password()
    assert Membership.objects.get(user=invited).organisation == tenant.organisation
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.hire@example.com"]
    assert tenant.organisation.name in message.subject
    link = LINK.search(message.body)
    assert link, message.body

    newcomer = Client()
    saved = follow_link_and_set_password(newcomer, link.group(1), NEW_PASSWORD)

    assert saved.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)
    assert log_in(newcomer, "new.hire@example.com", NEW_PASSWORD).status_code == 302
    dashboard = newcomer.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert tenant.organisation.name in dashboard.content.decode()


def test_adding_someone_who_already_has_an_account_sends_no_invitation(tenant, other_tenant):
    response = tenant.client().post(
        reverse("members"), {"email": other_tenant.agent.email, "role": Role.AGENT}
    )

    assert response.status_code == 302
    assert Membership.objects.filter(
        organisation=tenant.organisation, user=other_tenant.agent, role=Role.AGENT
    ).exists()
    other_tenant.agent.refresh_from_db()
    assert other_tenant.agent.check_password(PASSWORD)
    assert mail.outbox == []
