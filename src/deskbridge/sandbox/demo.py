"""Seeding the demo installation: an organisation, its owner, and demo.json describing it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from deskbridge.amazon import endpoints, marketplaces, onboarding
from deskbridge.amazon.models import SellerAccount
from deskbridge.core.models import Membership, Organisation, Role, User
from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.models import SandboxSeller
from deskbridge.sandbox.amazon.orders_seed import sandbox_order_ids
from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon
from deskbridge.sandbox.amazon.tokens import issue_authorization_code, redeem_authorization_code

DEMO_EMAIL = "demo@deskbridge.localhost"


DEMO_SELLER = "A2SNDBXNA00001"  # the sandbox's North America seller: US, CA, MX


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
    return account


def write_demo_json(login: dict[str, Any], web_url: str) -> Path:
    """demo.json as DESIGN.md §1 describes it, with the parts that exist so far."""
    data = {
        "web_url": web_url,
        "smtp": {"host": settings.SMTP_HOST, "port": settings.SMTP_PORT},
        "login": {"email": login["email"], "password": login["password"]},
        "seller_id": login["seller_id"],
        "addresses": login["addresses"],
        "orders": login["orders"],
    }
    path = Path(settings.DATA_DIR) / "demo.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
