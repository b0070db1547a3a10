"""Seeding and reading the sandbox Zendesk (the demo and the generic end-to-end tests use these)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings

from deskbridge.helpdesks.base import ORDER_FIELDS
from deskbridge.sandbox.helpdesks.zendesk import page, store
from deskbridge.sandbox.helpdesks.zendesk import tickets as writes

STATUS = {
    "new": "open",
    "open": "open",
    "pending": "pending",
    "hold": "pending",
    "solved": "solved",
    "closed": "closed",
}


def _token(account: str, who: str) -> str:
    """Stable per installation and account, so `create_account` can hand the same token back."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"sandbox-zendesk:{account}:{who}".encode(), hashlib.sha256
    ).hexdigest()[:40]


def _user(account: str, name: str, email: str, role: str) -> store.SandboxHelpdeskRecord:
    user = store.find_user(account, email=email) or store.create_user(
        account, {"name": name, "email": email, "role": role, "verified": True}
    )
    token = _token(account, email)
    db = store.records(account)
    if db.find("tokens", store.token_key(token)) is None:
        db.create("tokens", {"user_id": user.pk, "active": True}, key=store.token_key(token))
    return user


def create_account(account: str) -> dict[str, str]:
    """An emulated Zendesk account (idempotent) with an admin (for deskbridge) and an agent (for
    replies); returns the connect form's values for the admin."""
    db = store.records(account)
    if store.account(account) is None:
        db.create(
            "account",
            {"subdomain": account, "name": f"{account} (sandbox)", "plan": "enterprise"},
            key="account",
        )
    admin_email = f"admin@{account}.example.com"
    _user(account, "Sandbox Admin", admin_email, "admin")
    _user(account, "Alex Agent", f"agent@{account}.example.com", "agent")
    return {"subdomain": account, "email": admin_email, "api_token": _token(account, admin_email)}


def tickets(account: str) -> list[dict[str, Any]]:
    """The account's tickets in the common shape the generic tests read."""
    db = store.records(account)
    keys = {title: key for key, title in ORDER_FIELDS.items()}
    field_keys = {f.pk: keys[f.data["title"]] for f in db.all("ticket_fields") if f.data["title"] in keys}
    users = {u.pk: u.data for u in db.all("users")}
    result = []
    for ticket in db.all("tickets"):
        data = ticket.data
        requester_id = data["requester_id"]
        requester = users.get(requester_id, {})
        messages = []
        for comment in db.children("comments", ticket.pk):
            author_id = comment.data["author_id"]
            messages.append(
                {
                    "id": str(comment.pk),
                    "author": "customer" if author_id == requester_id else "agent",
                    "public": bool(comment.data["public"]),
                    "text": comment.data["plain_body"],
                    "attachments": [a["file_name"] for a in comment.data.get("attachments", [])],
                }
            )
        result.append(
            {
                "id": str(ticket.pk),
                "subject": data["subject"],
                "status": STATUS[data["status"]],
                "customer": {
                    "id": str(requester_id),
                    "name": requester.get("name", ""),
                    "external_id": requester.get("external_id") or "",
                    "email": requester.get("email") or "",
                },
                "external_id": data.get("external_id") or "",
                "tags": list(data["tags"]),
                "fields": {
                    field_keys[f["id"]]: f["value"]
                    for f in data["custom_fields"]
                    if f["id"] in field_keys and f["value"]
                },
                "messages": messages,
            }
        )
    return result


def agent_reply(account: str, ticket_id: str, text: str, html: str = "", public: bool = True) -> str:
    """The account's agent answers (or notes, with public=False) through the same write the API
    and the agent page use, so the trigger's webhook fires; returns the new comment's id."""
    agent = page.agent_of(account)
    ticket = store.records(account).get("tickets", ticket_id)
    if agent is None or ticket is None:
        raise LookupError(f"no agent or no ticket {ticket_id} in sandbox Zendesk {account}")
    comment: dict[str, Any] = {"body": text, "public": public}
    if html:
        comment["html_body"] = html
    audit = writes.update_ticket(
        account,
        agent,
        ticket,
        {"comment": comment},
        f"{settings.PUBLIC_URL}/sandbox/zendesk/{account}",
        "web",
    )
    assert audit is not None
    return str(next(e["id"] for e in audit.data["events"] if e["type"] == "Comment"))


def page_url(account: str) -> str:
    return f"/sandbox/zendesk/{account}/"
