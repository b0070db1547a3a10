"""Seeding and reading the emulated Gorgias, for the demo and the tests: accounts, their tickets in one
common shape, and an agent's reply written through the emulator's own API."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction

from deskbridge.sandbox.helpdesks.gorgias.account import GorgiasAccount, now

DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Gorgias's `closed` is what an agent sets when a conversation is done, and a new message reopens
# it: the common shape's `solved`.
STATUSES = {"open": "open", "closed": "solved"}
FIELD_PREFIX = "deskbridge:"


def _account(account: str) -> GorgiasAccount:
    if not DOMAIN.match(account):
        raise ValueError(f"not a Gorgias domain: {account!r} (lower-case letters, digits and dashes)")
    return GorgiasAccount(account)


def _user(acct: GorgiasAccount, email: str, name: str, role: str) -> tuple[dict[str, Any], str]:
    """The user with this email (created with an API key when missing) and its API key."""
    user = acct.user(email=email)
    if user is None:
        first, _, last = name.partition(" ")
        user = acct.create(
            "users",
            {
                "active": True,
                "bio": "",
                "created_datetime": now(),
                "updated_datetime": now(),
                "email": email,
                "external_id": None,
                "firstname": first,
                "lastname": last,
                "language": "en",
                "meta": {},
                "name": name,
                "role": {"name": role},
                "timezone": "UTC",
            },
            key=email.lower(),
        )
    for record in acct.records.all("api-keys"):
        if record.data["user_id"] == user["id"]:
            return user, record.key
    key = secrets.token_hex(32)
    acct.records.create("api-keys", {"user_id": user["id"], "email": email}, key=key)
    return user, key


def create_account(account: str) -> dict[str, str]:
    """An emulated account (idempotently) with an admin, whose API key is the connection's, and an
    agent who answers; returns the connect form's settings."""
    acct = _account(account)
    with transaction.atomic():
        if not acct.exists():
            acct.records.create(
                "account",
                {"domain": account, "created_datetime": now(), "status": {"status": "active"}, "meta": {}},
                key=account,
            )
        _, key = _user(acct, f"admin@{account}.example.com", "Sam Admin", "admin")
        _user(acct, f"agent@{account}.example.com", "Alex Agent", "agent")
    return {"domain": account, "username": f"admin@{account}.example.com", "api_key": key}


def agent_credentials(account: str) -> tuple[dict[str, Any], str]:
    acct = _account(account)
    return _user(acct, f"agent@{account}.example.com", "Alex Agent", "agent")


def _text(message: dict[str, Any]) -> str:
    if message.get("body_text"):
        return str(message["body_text"])
    from inscriptis import get_text

    return get_text(message.get("body_html") or "").strip()


def tickets(account: str) -> list[dict[str, Any]]:
    """The account's tickets in the tests' common shape (order fields by our keys)."""
    acct = _account(account)
    result = []
    for record in acct.records.all("tickets"):
        data = acct.ticket(record)
        customer = acct.customer(pk=record.data["customer_id"]) or {}
        fields = {}
        for value in acct.field_values(record.pk):
            external = str((value["field"] or {}).get("external_id") or "")
            if external.startswith(FIELD_PREFIX):
                fields[external.removeprefix(FIELD_PREFIX)] = str(value["value"])
        result.append(
            {
                "id": str(record.pk),
                "subject": data.get("subject") or "",
                "status": STATUSES.get(data["status"], data["status"]),
                "customer": {
                    "id": str(customer.get("id", "")),
                    "name": customer.get("name") or "",
                    "external_id": customer.get("external_id") or "",
                    "email": customer.get("email") or "",
                },
                "external_id": data.get("external_id") or "",
                "tags": [t["name"] for t in data.get("tags") or []],
                "fields": fields,
                "messages": [
                    {
                        "id": str(m["id"]),
                        "author": "agent" if m["from_agent"] else "customer",
                        "public": bool(m["public"]),
                        "text": _text(m),
                        "attachments": [a.get("name", "") for a in m.get("attachments") or []],
                    }
                    for m in data["messages"]
                ],
            }
        )
    return result


def reply_body(
    acct: GorgiasAccount, ticket: dict[str, Any], agent: dict[str, Any], text: str, html: str, public: bool
) -> dict[str, Any]:
    """What the Gorgias app sends when an agent answers: on the ticket's channel, or an internal note."""
    body: dict[str, Any] = {
        "channel": ticket["channel"] if public else "internal-note",
        "via": "helpdesk",
        "from_agent": True,
        "sender": {"id": agent["id"]},
        "body_text": text,
        "body_html": html or "".join(f"<p>{line}</p>" for line in _escaped_lines(text)),
    }
    if public:
        customer = acct.customer(pk=ticket["customer_id"]) or {}
        body["source"] = {
            "type": ticket["channel"],
            "from": {"name": agent["name"], "address": agent["email"]},
            "to": [{"name": customer.get("name"), "address": customer.get("email") or ""}],
        }
    return body


def _escaped_lines(text: str) -> list[str]:
    import html as markup

    return [markup.escape(line) for line in text.splitlines() if line.strip()]


def agent_reply(account: str, ticket_id: str, text: str, html: str = "", public: bool = True) -> str:
    """The agent answers (or writes an internal note) through the emulator's HTTP API, with the
    agent's own credentials, as the Gorgias app would; returns the new message's id."""
    acct = _account(account)
    agent, key = agent_credentials(account)
    record = acct.get("tickets", ticket_id)
    if record is None:
        raise ValueError(f"no ticket {ticket_id} in {account}")
    response = httpx.post(
        f"{settings.PUBLIC_URL}/sandbox/gorgias/{account}/api/tickets/{ticket_id}/messages",
        auth=(agent["email"], key),
        json=reply_body(acct, record.data, agent, text, html, public),
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def page_url(account: str) -> str:
    return f"/sandbox/gorgias/{account}/"
