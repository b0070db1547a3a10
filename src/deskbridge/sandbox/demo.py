"""Seeding the demo installation: an organisation, its owner, and demo.json describing it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from deskbridge.core.models import Membership, Organisation, Role, User

DEMO_EMAIL = "demo@deskbridge.localhost"


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
    return {"email": DEMO_EMAIL, "password": password, "organisation": organisation.pk}


def write_demo_json(login: dict[str, Any], web_url: str) -> Path:
    """demo.json as DESIGN.md §1 describes it, with the parts that exist so far."""
    data = {
        "web_url": web_url,
        "login": {"email": login["email"], "password": login["password"]},
    }
    path = Path(settings.DATA_DIR) / "demo.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
