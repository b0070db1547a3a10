"""Web security: CSRF on every form post, security headers, cookies, sessions."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from deskbridge.core.models import Membership, Organisation, Role, User
from deskbridge.pipeline.workrows import WorkState
from tests.conftest import PASSWORD, Tenant
from tests.workapp.models import Chore

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing is not under test here (test_accounts checks argon2); many users are made."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_client(tenant: Tenant | None = None, role: str = Role.OWNER) -> Client:
    client = Client(enforce_csrf_checks=True)
    if tenant is not None:
        client.force_login(getattr(tenant, role))
    return client


def form_token(client: Client, url: str) -> str:
    found = TOKEN.search(client.get(url).content.decode())
    assert found, f"no CSRF token in the form at {url}"
    return found.group(1)


def membership(tenant: Tenant, role: str) -> Membership:
    return Membership.objects.get(organisation=tenant.organisation, user=getattr(tenant, role))


def state(tenant: Tenant) -> tuple:
    """Everything a forged post could change, to compare before and after."""
    return (
        User.objects.count(),
        Organisation.objects.count(),
        sorted(Membership.objects.values_list("pk", "role")),
        sorted(Chore.objects.values_list("pk", "state")),
        User.objects.get(pk=tenant.owner.pk).password,
    )


# --- CSRF -------------------------------------------------------------------------------------


def test_login_without_a_csrf_token_is_refused(tenant):
    client = csrf_client()

    response = client.post(reverse("login"), {"username": tenant.owner.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_login_with_the_form_token_works(tenant):
    """Control for the test above: the same post with the page's token logs in."""
    client = csrf_client()
    token = form_token(client, reverse("login"))

    response = client.post(
        reverse("login"),
        {"username": tenant.owner.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(tenant.owner.pk)


def test_signup_without_a_csrf_token_is_refused(tenant):
    before = state(tenant)

    response = csrf_client().post(
        reverse("signup"), {"organisation": "Forged", "email": "forged@example.com", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert state(tenant) == before


def test_adding_a_member_without_a_csrf_token_is_refused(tenant):
    before = state(tenant)

    response = csrf_client(tenant).post(
        reverse("members"), {"email": "forged@example.com", "role": Role.OWNER}
    )

    assert response.status_code == 403
    assert state(tenant) == before


def test_logout_without_a_csrf_token_is_refused(tenant):
    client = csrf_client(tenant)

    response = client.post(reverse("logout"))

    assert response.status_code == 403
    assert client.session["_auth_user_id"] == str(tenant.owner.pk)
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("member_role", lambda t: [membership(t, Role.AGENT).pk], {"role": Role.OWNER}),
        ("member_remove", lambda t: [membership(t, Role.ADMIN).pk], {}),
        ("switch_organisation", lambda t: [], {"organisation": "1"}),
        ("retry_work", lambda t: [Chore.label(), failed_chore(t).pk], {}),
        ("password_reset", lambda t: [], {"email": "x@example.com"}),
        ("set_language", lambda t: [], {"language": "zh-hans"}),
    ],
)
def test_every_other_form_post_needs_a_csrf_token(tenant, name, args, data):
    url = reverse(name, args=args(tenant))
    before = state(tenant)

    response = csrf_client(tenant).post(url, data)

    assert response.status_code == 403
    assert state(tenant) == before


def failed_chore(tenant: Tenant) -> Chore:
    return Chore.objects.create(organisation=tenant.organisation, state=WorkState.FAILED)


def test_a_post_from_a_foreign_origin_is_refused_even_with_a_token(tenant):
    client = csrf_client(tenant)
    token = form_token(client, reverse("members"))
    before = state(tenant)

    response = client.post(
        reverse("members"),
        {"email": "forged@example.com", "role": Role.AGENT, "csrfmiddlewaretoken": token},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert state(tenant) == before
    # Control: the same post from our own origin goes through.
    ok = client.post(
        reverse("members"),
        {"email": "forged@example.com", "role": Role.AGENT, "csrfmiddlewaretoken": token},
        headers={"Origin": "http://testserver"},
    )
    assert ok.status_code == 302


# --- headers ----------------------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


PAGES = [
    ("login", None),
    ("signup", None),
    ("password_reset", None),
    ("dashboard", Role.OWNER),
    ("members", Role.AGENT),
]


@pytest.mark.parametrize(("name", "role"), [*PAGES, ("not-a-page", None), ("healthz", None)])
def test_security_headers(tenant, name, role):
    client = tenant.client(role) if role else Client()
    url = "/no/such/page/" if name == "not-a-page" else reverse(name)

    response = client.get(url)

    assert response.status_code == (404 if name == "not-a-page" else 200)
    csp = csp_directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_hsts_over_plain_http():
    response = Client().get(reverse("login"))

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(("name", "role"), PAGES)
def test_pages_need_no_inline_script_or_style(tenant, name, role):
    """The CSP allows only our own files, so an inline script or style would silently not work."""
    client = tenant.client(role) if role else Client()
    html = client.get(reverse(name)).content.decode()

    assert "<script" in html  # the pages do load scripts, from files
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert "<style" not in html


# --- cookies and sessions -----------------------------------------------------------------------


def test_the_session_cookie_is_http_only_and_same_site(tenant):
    client = Client()

    response = client.post(reverse("login"), {"username": tenant.owner.email, "password": PASSWORD})

    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_logging_in_starts_a_new_session(tenant):
    """A session id planted before log-in (session fixation) is not the one that is logged in."""
    client = Client()
    planted = client.session
    planted["marker"] = "x"
    planted.save()
    before = planted.session_key

    client.post(reverse("login"), {"username": tenant.owner.email, "password": PASSWORD})

    assert client.session["_auth_user_id"] == str(tenant.owner.pk)
    assert client.session.session_key != before


def test_logging_out_ends_the_session_on_the_server(tenant):
    client = tenant.client()
    old_key = client.session.session_key

    client.post(reverse("logout"))

    # Replaying the old session cookie does not get back in.
    replay = Client()
    replay.cookies["sessionid"] = old_key
    response = replay.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
