"""Seeding the demo installation: an organisation, its owner, its helpdesk, and demo.json describing it."""

from __future__ import annotations

import json
import secrets
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from deskbridge.amazon import endpoints, marketplaces, onboarding
from deskbridge.amazon.models import SellerAccount
from deskbridge.core.models import Membership, Organisation, Role, User
from deskbridge.helpdesks import registry
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxApprovedSender, SandboxSeller
from deskbridge.sandbox.amazon.orders_seed import sandbox_order_ids
from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon
from deskbridge.sandbox.amazon.tokens import issue_authorization_code, redeem_authorization_code
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskRecord

DEMO_EMAIL = "demo@deskbridge.localhost"


DEMO_SELLER = "A2SNDBXNA00001"  # the sandbox's North America seller: US, CA, MX
# The demo's account in each emulated helpdesk (a Zendesk subdomain, a Kustomer org, a Gorgias
# domain, a Help Scout company): one name that every emulator takes.
DEMO_HELPDESK_ACCOUNT = "demo"
DEFAULT_HELPDESK = "zendesk"


def helpdesk_kinds() -> list[str]:
    """The helpdesks the demo can connect: those with a connector (and so an emulator)."""
    return [h.kind for h in registry.available()]


@transaction.atomic
def seed() -> dict[str, Any]:
    """Create (once) the demo organisation and owner; the password is kept in the data dir."""
    password_file = Path(settings.DATA_DIR) / ".demo-password"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12))
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user = User.objects.create_user(DEMO_EMAIL, password)
    elif not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    organisation = Organisation.objects.filter(memberships__user=user).first()
    if organisation is None:
        organisation = Organisation.objects.create(name="Demo Shop")
        Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
    account = connect_demo_seller(organisation)
    return {
        "email": DEMO_EMAIL,
        "password": password,
        "organisation": organisation.pk,
        "seller_id": account.selling_partner_id,
        "addresses": dict(account.marketplaces.values_list("marketplace_id", "forwarding_address")),
        "orders": sandbox_order_ids(account.selling_partner_id),
    }


def connect_demo_seller(organisation: Organisation) -> SellerAccount:
    """The demo's seller, connected as if its owner had walked through Seller Central's consent."""
    seed_sandbox_amazon()
    account = SellerAccount.objects.filter(
        organisation=organisation, selling_partner_id=DEMO_SELLER, disconnected_at__isnull=True
    ).first()
    if account is not None:
        return account
    seller = SandboxSeller.objects.get(selling_partner_id=DEMO_SELLER)
    code = issue_authorization_code(seller, app.SANDBOX_APP_ID, endpoints.redirect_uri())
    tokens = redeem_authorization_code(code, app.SANDBOX_APP_ID, endpoints.redirect_uri())
    account = SellerAccount(
        organisation=organisation, selling_partner_id=DEMO_SELLER, region="NA", store_name=seller.store_name
    )
    account.store_authorization(tokens.refresh_token, tokens.access_token, tokens.expires_in)
    account.save()
    for connection in onboarding.add_marketplaces(account, [m.id for m in marketplaces.in_region("NA")][:3]):
        connection.participating = True
        connection.save(update_fields=["participating"])
        # ... and as if the owner had approved the address in Messaging Permissions (amazon.md §13.1),
        # so that the relay delivers the demo's replies.
        SandboxApprovedSender.objects.get_or_create(seller=seller, email=connection.forwarding_address)
    return account


def emulator(kind: str) -> ModuleType:
    """The seed module of a helpdesk's emulator (create_account, tickets, agent_reply, page_url)."""
    return import_module(f"deskbridge.sandbox.helpdesks.{kind}.seed")


def connect_demo_helpdesk(organisation_id: int, kind: str) -> dict[str, Any]:
    """The demo account in the sandbox helpdesk of this kind, connected as the demo organisation's
    helpdesk (verified and provisioned, its webhook included), with the demo seller delivering to
    it; returns demo.json's `helpdesk`. Idempotent. The connector calls the emulator over HTTP at
    PUBLIC_URL, so this runs only once the web server answers, and outside any transaction."""
    connector = registry.connector_class(kind)
    config = emulator(kind).create_account(DEMO_HELPDESK_ACCOUNT)
    organisation = Organisation.objects.get(pk=organisation_id)
    secret_names = {f.name for f in connector.fields if f.secret}
    HelpdeskConnection.connect(organisation, kind, config, secret_names)
    SellerAccount.objects.filter(
        organisation=organisation, selling_partner_id=DEMO_SELLER, disconnected_at__isnull=True
    ).update(helpdesk_kind=kind)
    return {
        "kind": kind,
        "api_base": connector.api_base_for(config),
        "credentials": dict(config),
        "page": demo_page_url(kind),
    }


def demo_page_url(kind: str) -> str:
    """The emulator's agent page for the demo account (absolute), where a demo user answers."""
    return settings.PUBLIC_URL + emulator(kind).page_url(DEMO_HELPDESK_ACCOUNT)


def demo_helpdesks() -> list[dict[str, Any]]:
    """Each emulated helpdesk with the demo account's page if that account exists, and whether the
    demo seller delivers to it (for the sandbox's front page)."""
    existing = set(
        SandboxHelpdeskRecord.objects.filter(account=DEMO_HELPDESK_ACCOUNT)
        .values_list("helpdesk", flat=True)
        .distinct()
    )
    delivering = set(
        SellerAccount.objects.filter(
            selling_partner_id=DEMO_SELLER,
            disconnected_at__isnull=True,
            organisation__memberships__user__email=DEMO_EMAIL,
        ).values_list("helpdesk_kind", flat=True)
    )
    return [
        {
            "kind": helpdesk.kind,
            "name": helpdesk.name,
            "page": emulator(helpdesk.kind).page_url(DEMO_HELPDESK_ACCOUNT)
            if helpdesk.kind in existing
            else "",
            "delivering": helpdesk.kind in delivering,
        }
        for helpdesk in registry.available()
    ]


def demo_json_path() -> Path:
    return Path(settings.DATA_DIR) / "demo.json"


def write_demo_json(login: dict[str, Any], web_url: str, helpdesk: dict[str, Any] | None = None) -> Path:
    """demo.json as DESIGN.md §1 describes it. Written whole (to a temporary file, then renamed), so
    that whoever waits for it never reads half of it."""
    data = {
        "web_url": web_url,
        "smtp": {"host": settings.SMTP_HOST, "port": settings.SMTP_PORT},
        "login": {"email": login["email"], "password": login["password"]},
        "seller_id": login["seller_id"],
        "addresses": login["addresses"],
        "orders": login["orders"],
        **({"helpdesk": helpdesk} if helpdesk else {}),
        "relay_outbox": web_url + reverse("sandbox_amazon:relay_messages"),
    }
    path = demo_json_path()
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    partial.chmod(0o600)  # it holds the demo's password and the helpdesk's credentials
    partial.replace(path)
    return path
