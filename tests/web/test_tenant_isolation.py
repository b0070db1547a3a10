"""Tenant isolation: people acting for organisation A never see or change organisation B's objects.

The URL test walks the project's whole resolver. Every pattern that takes a parameter must be
either in ID_URLS below, which says how to build B's object for it, or in NOT_AN_OBJECT_ID with
the reason it names no object; a new URL in neither makes
`test_every_url_that_takes_an_object_id_is_covered` fail until someone adds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
from deskbridge.core.models import Membership, Organisation, Role, User
from deskbridge.core.tenancy import (
    SESSION_KEY,
    TenantModel,
    TenantQuerySet,
    current_organisation,
    get_scoped_or_404,
    scoped,
)
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.models import Conversation, ConversationMessage, Direction, InboundMessage
from deskbridge.pipeline.workrows import WorkState
from tests.conftest import PASSWORD, Tenant, make_tenant
from tests.workapp.models import Chore

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing is not under test here (test_accounts checks argon2); many users are made."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- walking the URL resolver ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the namespaced URL name, or the route itself for a pattern without a name
    name: str | None
    route: str
    params: dict[str, Any]  # parameter name → converter (None for a regex group)

    def url(self, kwargs: dict[str, Any]) -> str:
        wanted = {name: kwargs[name] for name in self.params}
        if self.name:
            return reverse(self.name, kwargs=wanted)
        assert "(?P<" not in self.route, f"cannot fill the unnamed regex route {self.route}"
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(wanted[m.group(1)]), self.route)


def walk(
    resolver: URLResolver, prefix: str = "", namespace: str = "", params: dict | None = None
) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        found = dict(params or {})
        if isinstance(entry.pattern, RoutePattern):
            found.update(entry.pattern.converters)
        else:
            found.update(dict.fromkeys(entry.pattern.regex.groupindex))
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
            yield from walk(entry, route, inner, found)
        else:
            assert isinstance(entry, URLPattern)
            name = entry.name and ":".join(filter(None, [namespace, entry.name]))
            yield Route(name or route, name, route, found)


def all_routes() -> list[Route]:
    return list(walk(get_resolver()))


# --- how to build B's object for each id-taking URL ------------------------------------------


@dataclass
class Target:
    """One of B's objects, as a URL needs it, and a way to see whether it changed."""

    kwargs: dict[str, Any]
    snapshot: Callable[[], Any]
    secrets: list[str]  # text that must never appear in a page shown to A
    post: dict[str, Any] = field(default_factory=dict)


def row_snapshot(model: type[models.Model], pk: Any) -> Callable[[], Any]:
    return lambda: list(model.objects.filter(pk=pk).values())  # type: ignore[attr-defined]


def b_agent_membership(b: Tenant) -> Target:
    member = Membership.objects.get(organisation=b.organisation, user=b.agent)
    return Target(
        {"pk": member.pk},
        row_snapshot(Membership, member.pk),
        [b.agent.email, b.organisation.name],
        {"role": Role.ADMIN},
    )


def b_failed_chore(b: Tenant) -> Target:
    secret = f"RuntimeError: scripted failure for {b.organisation.name}"
    chore = Chore.objects.create(
        organisation=b.organisation, state=WorkState.FAILED, attempts=8, last_error=secret
    )
    return Target(
        {"label": Chore.label(), "pk": chore.pk},
        row_snapshot(Chore, chore.pk),
        [secret, b.organisation.name],
    )


def b_owner_with_a_forged_reset_token(b: Tenant) -> Target:
    return Target(
        {"uidb64": urlsafe_base64_encode(force_bytes(b.owner.pk)), "token": "cbz1e4-0d1e2f3a4b5c6d7e8f9a"},
        row_snapshot(User, b.owner.pk),
        [b.owner.email],
        {"new_password1": "taken over 8841 zebra", "new_password2": "taken over 8841 zebra"},
    )


def b_seller_account(b: Tenant) -> Target:
    """B's connected Amazon account with one marketplace and its forwarding address."""
    account = SellerAccount.objects.create(
        organisation=b.organisation,
        selling_partner_id=f"A2BOREALIS{b.organisation.pk:04d}",
        region="EU",
        store_name=f"Store of {b.organisation.name}",
        refresh_token="Atzr|b-secret-refresh",
        authorized_at=timezone.now(),
    )
    connection = MarketplaceConnection.objects.create(
        organisation=b.organisation,
        account=account,
        marketplace_id="A1PA6795UKMFR9",
        forwarding_address=f"amz-de-b{b.organisation.pk}@deskbridge.localhost",
    )

    def snapshot() -> Any:
        return (
            list(SellerAccount.objects.filter(pk=account.pk).values()),
            list(MarketplaceConnection.objects.filter(account_id=account.pk).values()),
        )

    return Target(
        {"pk": account.pk, "connection": connection.pk},
        snapshot,
        [account.store_name, account.selling_partner_id, connection.forwarding_address],
        {
            "address-forwarding_address": f"taken-{b.organisation.pk}@deskbridge.localhost",
            "marketplaces": ["A13V1IB3VIYZZH"],
        },
    )


def b_conversation(b: Tenant) -> Target:
    """A conversation of B's seller account about an order, with a buyer's message in it."""
    account = SellerAccount.objects.get(pk=b_seller_account(b).kwargs["pk"])
    conversation = Conversation.objects.create(
        organisation=b.organisation,
        account=account,
        marketplace_id="A1PA6795UKMFR9",
        buyer_alias=f"buyer-of-org{b.organisation.pk}@marketplace.amazon.de",
        buyer_name=f"Brunhilde Käufer {b.organisation.pk}",
        order_id=f"302-{b.organisation.pk:07d}-7654321",
    )
    ConversationMessage.objects.create(
        organisation=b.organisation,
        conversation=conversation,
        direction=Direction.BUYER,
        fingerprint="b",
        text=f"The buyer asks where parcel Q7-{b.organisation.pk} is",
    )
    return Target(
        {"pk": conversation.pk},
        row_snapshot(Conversation, conversation.pk),
        [
            conversation.buyer_alias,
            conversation.buyer_name,
            conversation.order_id,
            f"parcel Q7-{b.organisation.pk}",
            account.store_name,
        ],
    )


def b_helpdesk_connection(b: Tenant) -> Target:
    """B's connected helpdesk, with its credentials (encrypted at rest, never shown)."""
    connection = HelpdeskConnection.objects.create(
        organisation=b.organisation,
        kind="zendesk",
        settings={"subdomain": f"borealis{b.organisation.pk}", "email": "admin@borealis.example"},
        secrets=json.dumps({"api_token": f"b-secret-token-{b.organisation.pk}"}),
        account_name=f"Zendesk of {b.organisation.name}",
    )
    return Target(
        {"pk": connection.pk},
        row_snapshot(HelpdeskConnection, connection.pk),
        [connection.account_name, f"b-secret-token-{b.organisation.pk}", f"borealis{b.organisation.pk}"],
    )


ADMIN_POST = {"post": "yes", "name": "hijacked", "email": "hijacked@example.com", "state": "pending"}


def admin_target(obj: models.Model, *secrets: str) -> Target:
    return Target(
        {"object_id": obj.pk, "id": obj.pk}, row_snapshot(type(obj), obj.pk), list(secrets), ADMIN_POST
    )


def _axes_row(model: type[AccessAttempt | AccessLog | AccessFailureLog], b: Tenant) -> Target:
    extra: dict[str, Any] = {}
    if model is AccessAttempt:
        extra = {"get_data": "", "post_data": "", "failures_since_start": 3}
    row = model.objects.create(
        username=b.owner.email,
        ip_address="192.0.2.44",
        user_agent="test",
        http_accept="*/*",
        path_info="/login/",
        **extra,
    )
    return admin_target(row, b.owner.email)


def b_group(b: Tenant) -> Target:
    return admin_target(Group.objects.create(name=f"Group of {b.organisation.name}"), b.organisation.name)


def b_user(b: Tenant) -> Target:
    return admin_target(b.owner, b.owner.email)


def b_organisation(b: Tenant) -> Target:
    return admin_target(b.organisation, b.organisation.name, b.owner.email)


def b_chore_in_admin(b: Tenant) -> Target:
    return admin_target(b_failed_chore_row(b), b.organisation.name)


def b_inbound_message(b: Tenant) -> Target:
    message = InboundMessage.objects.create(
        organisation=b.organisation, rcpt_to="b@deskbridge.localhost", raw=b"From: x", size=7
    )
    return admin_target(message, b.organisation.name)


def b_failed_chore_row(b: Tenant) -> Chore:
    return Chore.objects.create(organisation=b.organisation, state=WorkState.FAILED)


def b_organisation_on_site(b: Tenant) -> Target:
    content_type = ContentType.objects.get_for_model(Organisation)
    return Target(
        {"content_type_id": content_type.pk, "object_id": b.organisation.pk},
        row_snapshot(Organisation, b.organisation.pk),
        [b.organisation.name],
    )


# What A must get back: the web app's 404 (405 for a GET of a POST-only view), the admin's
# redirect to its own log-in (A's people are not staff), or the reset page's "invalid link".
NOT_FOUND, ADMIN_LOGIN, INVALID_LINK = "not found", "admin login", "invalid link"


@dataclass(frozen=True)
class Entry:
    build: Callable[[Tenant], Target]
    expect: str
    # When A aims the URL at its own object, the POST does change it (proves the check can fail).
    changes_own: bool = False


def admin_model(label: str, build: Callable[[Tenant], Target]) -> dict[str, Entry]:
    app, model = label.split(".")
    entry = Entry(build, ADMIN_LOGIN)
    named = {f"admin:{app}_{model}_{view}": entry for view in ("change", "delete", "history")}
    return {**named, f"admin/{app}/{model}/<path:object_id>/": entry}


ID_URLS: dict[str, Entry] = {
    "member_role": Entry(b_agent_membership, NOT_FOUND, changes_own=True),
    "member_remove": Entry(b_agent_membership, NOT_FOUND, changes_own=True),
    "retry_work": Entry(b_failed_chore, NOT_FOUND, changes_own=True),
    "amazon_account": Entry(b_seller_account, NOT_FOUND),
    "amazon_save_address": Entry(b_seller_account, NOT_FOUND, changes_own=True),
    "amazon_add_more": Entry(b_seller_account, NOT_FOUND, changes_own=True),
    "amazon_disconnect": Entry(b_seller_account, NOT_FOUND, changes_own=True),
    "amazon_reauthorize": Entry(b_seller_account, NOT_FOUND),
    "conversation_detail": Entry(b_conversation, NOT_FOUND),
    "helpdesk_disconnect": Entry(b_helpdesk_connection, NOT_FOUND, changes_own=True),
    "helpdesk_check": Entry(b_helpdesk_connection, NOT_FOUND),
    "password_reset_confirm": Entry(b_owner_with_a_forged_reset_token, INVALID_LINK),
    "admin:view_on_site": Entry(b_organisation_on_site, ADMIN_LOGIN),
    "admin:auth_user_password_change": Entry(b_user, ADMIN_LOGIN),
    **admin_model("core.user", b_user),
    **admin_model("core.organisation", b_organisation),
    **admin_model("workapp.chore", b_chore_in_admin),
    **admin_model("pipeline.inboundmessage", b_inbound_message),
    **admin_model("auth.group", b_group),
    **admin_model("axes.accessattempt", lambda b: _axes_row(AccessAttempt, b)),
    **admin_model("axes.accesslog", lambda b: _axes_row(AccessLog, b)),
    **admin_model("axes.accessfailurelog", lambda b: _axes_row(AccessFailureLog, b)),
}


# Parameterised URLs whose parameters name no object, with a path to try each with.
NOT_AN_OBJECT_ID: dict[str, str] = {
    # A helpdesk kind; the connection they make is always the requesting organisation's own.
    "helpdesk_connect": "/helpdesk/zendesk/connect/",
    "helpdesk_oauth_start": "/helpdesk/helpscout/oauth/",
    "helpdesk_oauth_callback": "/helpdesk/helpscout/oauth/callback/",
    # Helpdesks call it: the token is the connection's opaque webhook name, and the delivery must
    # carry that connection's signature (tests/helpdesks/test_webhook_endpoint.py).
    "helpdesk_webhook": "/webhooks/zendesk/not-a-token/",
    "admin:app_list": "/admin/core/",  # an app label
    "admin/(?P<url>.*)$": "/admin/core/membership/",  # the admin's catch-all for unknown paths
    "amazon_add_marketplaces": "/amazon/add/eu/",  # a region code
    # The sandbox Amazon's SP-API: a region code; the caller is an access token, not a deskbridge user.
    "sandbox_amazon:get_marketplace_participations": "/sandbox/amazon/spapi/eu/sellers/v1/marketplaceParticipations",
    "sandbox_amazon:get_account": "/sandbox/amazon/spapi/eu/sellers/v1/account",
    # The sandbox Amazon's Orders and Tokens APIs: {orderId} is an order at the emulated Amazon,
    # authorised by the access token (or Restricted Data Token), not a deskbridge object.
    "sandbox_amazon:search_orders": "/sandbox/amazon/spapi/eu/orders/2026-01-01/orders",
    "sandbox_amazon:get_order": "/sandbox/amazon/spapi/eu/orders/2026-01-01/orders/302-1234567-1234567",
    "sandbox_amazon:get_order_v0": "/sandbox/amazon/spapi/eu/orders/v0/orders/302-1234567-1234567",
    "sandbox_amazon:get_order_items_v0": "/sandbox/amazon/spapi/eu/orders/v0/orders/302-1234567-1234567/orderItems",
    "sandbox_amazon:get_order_address_v0": "/sandbox/amazon/spapi/eu/orders/v0/orders/302-1234567-1234567/address",
    "sandbox_amazon:get_order_buyer_info_v0": "/sandbox/amazon/spapi/eu/orders/v0/orders/302-1234567-1234567/buyerInfo",
    "sandbox_amazon:create_restricted_data_token": "/sandbox/amazon/spapi/eu/tokens/2021-03-01/restrictedDataToken",
    # The sandbox Seller Central's order page: an order of the seller signed in to the sandbox
    # Seller Central (its own session, tests/sandbox/test_order_page.py), not a deskbridge object.
    "sandbox_amazon:order": "/sandbox/amazon/sellercentral/orders-v3/order/302-1234567-1234567",
}


def emulated_helpdesk_routes(routes: list[Route]) -> set[str]:
    """The sandbox helpdesks' routes: their ids are tickets, users … of the emulated helpdesk,
    reached with that helpdesk's own credentials (tests/helpdesks/<kind> test them), not objects of
    a deskbridge organisation."""
    prefixes = tuple(f"sandbox/{kind}/" for kind in ("zendesk", "kustomer", "gorgias", "helpscout"))
    return {r.key for r in routes if r.route.startswith(prefixes)}


def test_every_url_that_takes_an_object_id_is_covered():
    routes = all_routes()
    with_params = {r.key for r in routes if r.params}

    assert {"member_role", "member_remove", "retry_work"} <= with_params  # the walk finds them
    unknown = sorted(
        with_params - ID_URLS.keys() - NOT_AN_OBJECT_ID.keys() - emulated_helpdesk_routes(routes)
    )
    assert not unknown, (
        f"URLs with parameters that this test cannot fill: add them to ID_URLS (or, if they name "
        f"no object, to NOT_AN_OBJECT_ID): {unknown}"
    )
    stale = sorted((ID_URLS.keys() | NOT_AN_OBJECT_ID.keys()) - with_params)
    assert not stale, f"ID_URLS or NOT_AN_OBJECT_ID name URLs that no longer exist: {stale}"
    assert not ID_URLS.keys() & NOT_AN_OBJECT_ID.keys()


def route_for(key: str) -> Route:
    return next(r for r in all_routes() if r.key == key)


@pytest.fixture
def org_a() -> Tenant:
    return make_tenant("Aardvark Supplies")


@pytest.fixture
def org_b() -> Tenant:
    b = make_tenant("Borealis Trading Q7")
    # Someone only B has, so that any page listing B's people would show them.
    secret_member = User.objects.create_user("b-only-member@borealis.example", PASSWORD)
    Membership.objects.create(organisation=b.organisation, user=secret_member, role=Role.AGENT)
    return b


def assert_refused(response, expect: str, method: str) -> None:
    if expect == NOT_FOUND:
        allowed = {404, 405} if method == "GET" else {404}
        assert response.status_code in allowed, (method, response.status_code)
    elif expect == ADMIN_LOGIN:
        assert response.status_code == 302, (method, response.status_code)
        assert response.url.startswith(reverse("admin:login")), response.url
    elif expect == INVALID_LINK:
        assert response.status_code == 200, (method, response.status_code)
        assert response.context["validlink"] is False
        assert 'name="new_password1"' not in response.content.decode()
    else:  # pragma: no cover
        raise AssertionError(expect)


@pytest.mark.parametrize("key", sorted(ID_URLS))
def test_org_a_cannot_reach_org_b_objects(key, org_a, org_b):
    entry = ID_URLS[key]
    target = entry.build(org_b)
    url = route_for(key).url(target.kwargs)
    before = target.snapshot()
    assert before, "the builder made no object"
    client = org_a.client(Role.OWNER)  # A's most powerful role: only tenancy can stop it

    for method in ("GET", "POST"):
        response = client.get(url) if method == "GET" else client.post(url, target.post)
        assert_refused(response, entry.expect, method)
        body = response.content.decode(errors="replace")
        for secret in target.secrets:
            assert secret not in body, f"{method} {url} showed {secret!r}"
        assert target.snapshot() == before, f"{method} {url} changed B's object"


OWN_CHANGES = sorted(key for key, entry in ID_URLS.items() if entry.changes_own)


@pytest.mark.parametrize("key", OWN_CHANGES)
def test_the_same_request_on_an_own_object_does_change_it(key, org_a):
    """Control: the isolation test above would notice a change, because these POSTs do change."""
    target = ID_URLS[key].build(org_a)
    before = target.snapshot()

    response = org_a.client(Role.OWNER).post(route_for(key).url(target.kwargs), target.post)

    assert response.status_code == 302
    assert target.snapshot() != before


def test_a_member_of_both_cannot_use_one_org_role_on_the_other_org(org_a, org_b):
    """Owner in A, agent in B: acting for A, B's members and work are still out of reach."""
    dual = org_a.owner
    Membership.objects.create(organisation=org_b.organisation, user=dual, role=Role.AGENT)
    client = org_a.client(Role.OWNER)
    client.post(reverse("switch_organisation"), {"organisation": org_a.organisation.pk})

    for key in ("member_role", "member_remove", "retry_work"):
        target = ID_URLS[key].build(org_b)
        before = target.snapshot()
        response = client.post(route_for(key).url(target.kwargs), target.post)
        assert response.status_code == 404, key
        assert target.snapshot() == before, key


def test_pages_without_an_id_show_nothing_of_org_b(org_a, org_b):
    b_secrets = [
        org_b.organisation.name,
        "b-only-member@borealis.example",
        *b_failed_chore(org_b).secrets,
        *b_conversation(org_b).secrets[:3],
    ]
    own = b_failed_chore(org_a)  # control: A's own failed work is shown on A's dashboard
    own_conversation = b_conversation(org_a)  # and A's own conversations on its list
    client = org_a.client(Role.OWNER)
    pages = {r.key: r.url({}) for r in all_routes() if not r.params} | NOT_AN_OBJECT_ID
    assert {"dashboard", "members"} <= pages.keys()

    seen = {}
    for key, url in pages.items():
        response = client.get(url)
        assert response.status_code < 500, key
        seen[key] = body = response.content.decode(errors="replace")
        for secret in b_secrets:
            assert secret not in body, f"{key} showed {secret!r}"

    assert own.secrets[0] in seen["dashboard"]
    assert all(secret in seen["conversations"] for secret in own_conversation.secrets[:3])
    assert org_a.agent.email in seen["members"]


# --- models and scoped() ----------------------------------------------------------------------


def organisation_links(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.get_fields()
        if f.concrete and f.is_relation and f.related_model is Organisation  # type: ignore[misc]
    ]


def test_every_model_linked_to_an_organisation_is_a_tenant_model():
    linked = [m for m in apps.get_models(include_auto_created=True) if organisation_links(m)]

    assert {Membership, Chore} <= set(linked)  # the search does find them
    not_tenant = [m._meta.label for m in linked if not issubclass(m, TenantModel)]
    assert not not_tenant, f"models that point at Organisation but are not TenantModels: {not_tenant}"
    assert issubclass(Membership, TenantModel)


def test_every_tenant_model_is_read_through_the_tenant_queryset():
    tenant_models = [m for m in apps.get_models() if issubclass(m, TenantModel)]

    assert Membership in tenant_models
    for model in tenant_models:
        assert isinstance(model.objects.all(), TenantQuerySet), model._meta.label
        assert model._meta.get_field("organisation").related_model is Organisation


def test_scoped_returns_nothing_for_a_request_without_an_organisation(org_a, org_b):
    Chore.objects.create(organisation=org_a.organisation)
    Chore.objects.create(organisation=org_b.organisation)
    bare = RequestFactory().get("/")
    empty = RequestFactory().get("/")
    empty.organisation = None

    for request in (bare, empty):
        assert list(scoped(request, Chore)) == []
        assert list(scoped(request, Membership)) == []
        with pytest.raises(Http404):
            get_scoped_or_404(request, Membership, user=org_a.owner)


def test_scoped_returns_only_the_request_organisation_rows(org_a, org_b):
    mine = Chore.objects.create(organisation=org_a.organisation)
    theirs = Chore.objects.create(organisation=org_b.organisation)
    request = RequestFactory().get("/")
    request.organisation = org_a.organisation

    assert list(scoped(request, Chore)) == [mine]
    with pytest.raises(Http404):
        get_scoped_or_404(request, Chore, pk=theirs.pk)


def run_middleware(user: Any, session: dict) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    request.session = session  # type: ignore[assignment]
    current_organisation(lambda r: r)(request)
    return request


def test_the_middleware_gives_no_organisation_to_outsiders(org_a):
    Chore.objects.create(organisation=org_a.organisation)
    loner = User.objects.create_user("loner@example.com", PASSWORD)

    for user in (AnonymousUser(), loner):
        request = run_middleware(user, {SESSION_KEY: org_a.organisation.pk})
        assert request.organisation is None
        assert request.membership is None
        assert list(scoped(request, Chore)) == []


def test_a_session_naming_another_org_is_ignored(org_a, org_b):
    request = run_middleware(org_a.owner, {SESSION_KEY: org_b.organisation.pk})
    assert request.organisation == org_a.organisation

    client = org_a.client(Role.OWNER)
    session = client.session
    session[SESSION_KEY] = org_b.organisation.pk
    session.save()
    html = client.get(reverse("dashboard")).content.decode()
    assert org_a.organisation.name in html
    assert org_b.organisation.name not in html


# --- the organisation switcher -----------------------------------------------------------------


def acting_for(client: Client) -> str:
    return client.get(reverse("dashboard")).context["organisation"].name


def test_a_member_of_two_orgs_can_switch_between_them(org_a, org_b):
    Membership.objects.create(organisation=org_b.organisation, user=org_a.owner, role=Role.AGENT)
    client = org_a.client(Role.OWNER)
    assert acting_for(client) == org_a.organisation.name

    response = client.post(reverse("switch_organisation"), {"organisation": org_b.organisation.pk})

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert acting_for(client) == org_b.organisation.name
    # In B they hold B's role (agent), not A's (owner).
    assert client.post(reverse("members"), {"email": "x@example.com", "role": Role.AGENT}).status_code == 403
    html = client.get(reverse("members")).content.decode()
    assert "b-only-member@borealis.example" in html
    assert org_a.agent.email not in html

    client.post(reverse("switch_organisation"), {"organisation": org_a.organisation.pk})
    assert acting_for(client) == org_a.organisation.name


@pytest.mark.parametrize("value", ["other-org", "", "not-a-number", "999999999"])
def test_switching_to_an_org_one_is_not_in_is_not_found(org_a, org_b, value):
    client = org_a.client(Role.OWNER)
    chosen = str(org_b.organisation.pk) if value == "other-org" else value

    response = client.post(reverse("switch_organisation"), {"organisation": chosen})

    assert response.status_code == 404
    assert client.session.get(SESSION_KEY) is None
    assert acting_for(client) == org_a.organisation.name


def test_switching_needs_a_post(org_a, org_b):
    Membership.objects.create(organisation=org_b.organisation, user=org_a.owner, role=Role.AGENT)
    client = org_a.client(Role.OWNER)

    response = client.get(reverse("switch_organisation"), {"organisation": org_b.organisation.pk})

    assert response.status_code == 405
    assert acting_for(client) == org_a.organisation.name
