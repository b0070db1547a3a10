"""Seeding and reading the emulated Kustomer for the demo and the tests.

`create_account` makes an org with an admin agent and an API key holding the roles deskbridge needs,
and returns the connect form's settings; `tickets` reads conversations in the tests' common shape;
`agent_reply` is an agent answering through the API with their own key (the webhook fires);
`page_url` is the agent's page for the demo.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction

from deskbridge.helpdesks.kustomer.fields import ORDER_ATTRIBUTES
from deskbridge.sandbox.helpdesks.kustomer.store import ROLES, Org, now, object_id

AGENT_ROLES = (
    "org.permission.conversation.read",
    "org.permission.message.create",
    "org.permission.message.read",
    "org.permission.note.create",
    "org.permission.note.read",
)
STATUSES = {"open": "open", "snoozed": "pending", "done": "solved"}


def create_account(account: str) -> dict[str, str]:
    """The org `account` (made once) and the connect form's settings for it: org and api_key."""
    org = Org(account)
    with transaction.atomic():
        record = org.records.find("org", account)
        if record is None:
            record = org.records.create(
                "org", {"name": account, "secret": secrets.token_hex(16)}, key=account
            )
            stamp = now()
            agent = org.records.create(
                "users",
                {
                    "name": "Alex Agent",
                    "displayName": "Alex Agent",
                    "email": f"alex@{account}.example.com",
                    "userType": "user",
                    "roles": ["org.admin", "org.user"],
                    "createdAt": stamp,
                },
            )
            integration = org.records.create(
                "users",
                {
                    "name": "deskbridge API key",
                    "displayName": "deskbridge API key",
                    "userType": "machine",
                    "roles": list(ROLES),
                    "createdAt": stamp,
                },
            )
            api_key, agent_key = secrets.token_urlsafe(40), secrets.token_urlsafe(40)
            org.records.create(
                "api_keys",
                {
                    "name": "deskbridge",
                    "user": object_id(integration),
                    "roles": list(ROLES),
                    "createdAt": stamp,
                },
                key=api_key,
            )
            org.records.create(
                "api_keys",
                {
                    "name": "Alex's session",
                    "user": object_id(agent),
                    "roles": list(AGENT_ROLES),
                    "createdAt": stamp,
                },
                key=agent_key,
            )
            org.touch(record, api_key=api_key, agent_key=agent_key, agent=object_id(agent))
    return {"org": account, "api_key": record.data["api_key"]}


def _text(data: dict[str, Any]) -> str:
    return str(data.get("body") or data.get("preview") or "")


def tickets(account: str) -> list[dict[str, Any]]:
    """The org's conversations, oldest first, with their messages and notes in order."""
    org = Org(account)
    names = {record.pk: record.data.get("name", "") for record in org.records.all("attachments")}
    result = []
    for conversation in org.records.all("conversations"):
        customer = org.get("customers", conversation.data["_customer"])
        customer_data = customer.data if customer else {}
        entries = [
            (
                message.data["createdAt"],
                message.pk,
                {
                    "id": object_id(message),
                    "author": "customer" if message.data["direction"] == "in" else "agent",
                    "public": True,
                    "text": _text(message.data),
                    "attachments": [
                        names.get(int(ref["_id"], 16), ref["name"])
                        for ref in message.data.get("attachments", [])
                    ],
                },
            )
            for message in org.records.children("messages", conversation.pk)
        ] + [
            (
                note.data["createdAt"],
                note.pk,
                {
                    "id": object_id(note),
                    "author": "agent",
                    "public": False,
                    "text": note.data["body"],
                    "attachments": [],
                },
            )
            for note in org.records.children("notes", conversation.pk)
        ]
        custom = conversation.data.get("custom", {})
        result.append(
            {
                "id": object_id(conversation),
                "subject": conversation.data.get("name", ""),
                "status": STATUSES[conversation.data["status"]],
                "customer": {
                    "id": conversation.data["_customer"],
                    "name": customer_data.get("name", ""),
                    "external_id": customer_data.get("externalId") or "",
                    "email": (customer_data.get("emails") or [{}])[0].get("email", ""),
                },
                "external_id": conversation.data.get("externalId") or "",
                "tags": list(conversation.data.get("tags", [])),
                "fields": {
                    key: custom[attribute]
                    for key, attribute in ORDER_ATTRIBUTES.items()
                    if custom.get(attribute)
                },
                "messages": [entry for _, _, entry in sorted(entries, key=lambda e: (e[0], e[1]))],
            }
        )
    return result


def reply_channel(org: Org, conversation: Any) -> tuple[str, str]:
    """An agent answers on the channel (and app) the customer last wrote on."""
    inbound = [m for m in org.records.children("messages", conversation.pk) if m.data["direction"] == "in"]
    last = inbound[-1].data if inbound else {}
    return last.get("channel", "chat"), last.get("app", "kustomer")


def agent_reply(account: str, ticket_id: str, text: str, html: str = "", public: bool = True) -> str:
    """The org's agent replies (or writes an internal note) through the API with their own key;
    returns the new message's (or note's) id. A chat message's body is plain text: `html` is not
    sent (Kustomer has no HTML body for chat)."""
    create_account(account)
    org = Org(account)
    record = org.records.find("org", account)
    conversation = org.get("conversations", ticket_id)
    if record is None or conversation is None:
        raise LookupError(f"no conversation {ticket_id} in the sandbox Kustomer org {account}")
    base = f"{settings.PUBLIC_URL}/sandbox/kustomer/{account}/v1/conversations/{ticket_id}"
    if public:
        channel, app = reply_channel(org, conversation)
        url, body = f"{base}/messages", {"app": app, "channel": channel, "direction": "out", "body": text}
    else:
        url, body = f"{base}/notes", {"body": text}
    response = httpx.post(
        url, json=body, headers={"Authorization": f"Bearer {record.data['agent_key']}"}, timeout=20
    )
    response.raise_for_status()
    return str(response.json()["data"]["id"])


def page_url(account: str) -> str:
    return f"/sandbox/kustomer/{account}/app/"
