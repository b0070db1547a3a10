"""The emulated Zendesk accounts: their records, users, API tokens and JSON shapes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskRecord
from deskbridge.sandbox.helpdesks.state import Records

HELPDESK = "zendesk"
# Requests per minute by plan (helpdesks.md §4.1, ⚠️ secondary source); the demo account is Enterprise.
PLANS = {"team": 200, "growth": 400, "professional": 400, "enterprise": 700, "enterprise_plus": 2500}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def records(subdomain: str) -> Records:
    return Records(HELPDESK, subdomain)


def account(subdomain: str) -> SandboxHelpdeskRecord | None:
    return records(subdomain).find("account", "account")


def rate_limit(account_record: SandboxHelpdeskRecord) -> int:
    data = account_record.data
    return int(data.get("rate_limit") or PLANS.get(data.get("plan", ""), 700))


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_key(email: str = "", external_id: str = "") -> str:
    return f"ext:{external_id}" if external_id else f"email:{email.strip().lower()}" if email else ""


def find_user(subdomain: str, *, email: str = "", external_id: str = "") -> SandboxHelpdeskRecord | None:
    db = records(subdomain)
    if external_id:
        found = db.find("users", user_key(external_id=external_id))
        if found:
            return found
    if email:
        found = db.find("users", user_key(email=email))
        if found:
            return found
        # A user with an external id is keyed by it; the email is then only in the document.
        for record in db.all("users"):
            if (record.data.get("email") or "").lower() == email.strip().lower():
                return record
    return None


def create_user(subdomain: str, fields: dict[str, Any]) -> SandboxHelpdeskRecord:
    stamp = now()
    data = {
        "name": fields.get("name") or "",
        "email": fields.get("email") or None,
        "external_id": fields.get("external_id") or None,
        "role": fields.get("role") or "end-user",
        "verified": bool(fields.get("verified", False)),
        "active": True,
        "notes": fields.get("notes") or "",
        "tags": fields.get("tags") or [],
        "locale_id": fields.get("locale_id") or 1,
        "created_at": stamp,
        "updated_at": stamp,
    }
    key = user_key(str(data["email"] or ""), str(data["external_id"] or ""))
    return records(subdomain).create("users", data, key=key)


def user_json(subdomain: str, record: SandboxHelpdeskRecord, base_url: str) -> dict[str, Any]:
    data = record.data
    return {
        "id": record.pk,
        "url": f"{base_url}/api/v2/users/{record.pk}.json",
        "name": data["name"],
        "email": data.get("email"),
        "external_id": data.get("external_id"),
        "role": data["role"],
        "role_type": None,
        "verified": data.get("verified", False),
        "active": data.get("active", True),
        "suspended": False,
        "notes": data.get("notes", ""),
        "tags": data.get("tags", []),
        "locale_id": data.get("locale_id", 1),
        "locale": "en-US",
        "time_zone": "UTC",
        "organization_id": None,
        "shared": False,
        "restricted_agent": False,
        "only_private_comments": False,
        "moderator": data["role"] != "end-user",
        "ticket_restriction": None if data["role"] != "end-user" else "requested",
        "user_fields": {},
        "photo": None,
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "last_login_at": None,
    }


def authenticate(subdomain: str, email: str, token: str) -> SandboxHelpdeskRecord | None:
    """The user an `{email}/token:{api_token}` pair belongs to (an active token of that user)."""
    db = records(subdomain)
    grant = db.find("tokens", token_key(token))
    if grant is None or not grant.data.get("active", True):
        return None
    user = db.get("users", grant.data["user_id"])
    if user is None or (user.data.get("email") or "").lower() != email.strip().lower():
        return None
    return user
