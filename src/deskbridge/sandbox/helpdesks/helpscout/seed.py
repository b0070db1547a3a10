"""Emulated Help Scout accounts for the demo and the tests, and what their tickets look like.

The interface every emulator's seed module offers (the demo and the generic end-to-end tests use
it): `create_account`, `tickets`, `agent_reply`, `page_url`. Help Scout is OAuth-only:
`create_account` returns the account's own app (client credentials, the connect form's App ID and
App Secret). deskbridge's partner app for the authorization-code grant ("Connect with Help Scout")
is registered in the sandbox with SANDBOX_CLIENT_ID / SANDBOX_CLIENT_SECRET below: the defaults of
the settings DESKBRIDGE_HELPSCOUT_CLIENT_ID / DESKBRIDGE_HELPSCOUT_CLIENT_SECRET in sandbox mode.
Its consent page is /sandbox/helpscout/authentication/authorizeClientApplication.
"""

from __future__ import annotations

import html as html_lib
import time
from typing import Any

import httpx
from django.conf import settings

from deskbridge.helpdesks.base import ORDER_FIELDS
from deskbridge.sandbox.helpdesks.helpscout import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, store  # noqa: F401

STATUSES = {"active": "open", "pending": "pending", "closed": "solved", "spam": "closed"}
THREAD_TAG_PREFIX = "thread-"  # the tag deskbridge's connector finds its tickets by
FIELD_KEYS = {title: key for key, title in ORDER_FIELDS.items()}


def create_account(account: str, *, custom_fields: bool = True) -> dict[str, str]:
    """An emulated Help Scout company with an agent, the agent's own app and an inbox (with the
    order custom fields an admin would have made, unless `custom_fields` is False). Idempotent.
    Returns the connect form's values: {"client_id": App ID, "client_secret": App Secret}."""
    app = store.ensure_account(account, custom_fields)["app"]
    return {"client_id": app.key, "client_secret": app.data["clientSecret"]}


def page_url(account: str) -> str:
    return f"{store.API}/mailbox/{account}/"


def tickets(account: str) -> list[dict[str, Any]]:
    """The account's conversations in the tests' common shape (oldest first)."""
    rec = store.records(account)
    listed = []
    for conversation in rec.all("conversations"):
        data = conversation.data
        customer = rec.get("customers", data["primaryCustomer"])
        email = customer.key if customer else ""
        names = [customer.data.get("firstName", ""), customer.data.get("lastName", "")] if customer else []
        fields = {f.pk: f.data["name"] for f in rec.children("fields", data["mailboxId"])}
        thread_tags = [t for t in data["tags"] if t.startswith(THREAD_TAG_PREFIX)]
        listed.append(
            {
                "id": str(conversation.pk),
                "subject": data["subject"],
                "status": STATUSES[data["status"]],
                "customer": {
                    "id": str(customer.pk) if customer else "",
                    "name": " ".join(n for n in names if n),
                    # Help Scout customers have no external id: deskbridge keys them by their
                    # undeliverable address, whose local part is the buyer's external id.
                    "external_id": email.split("@")[0] if email.endswith(".invalid") else "",
                    "email": email,
                },
                "external_id": thread_tags[0][len(THREAD_TAG_PREFIX) :] if thread_tags else "",
                "tags": list(data["tags"]),
                "fields": {
                    FIELD_KEYS.get(fields[int(fid)], fields[int(fid)]): value
                    for fid, value in data["customFields"].items()
                    if int(fid) in fields
                },
                "messages": [message(account, thread) for thread in rec.children("threads", conversation.pk)],
            }
        )
    return listed


def message(account: str, thread: Any) -> dict[str, Any]:
    rec = store.records(account)
    data = thread.data
    attachments = [rec.get("attachments", pk) for pk in data.get("attachments", [])]
    return {
        "id": str(thread.pk),
        "author": "agent" if data["createdBy"]["type"] == "user" else "customer",
        "public": data["type"] != "note",
        "text": store.plain_text(data["body"]),
        "attachments": [a.data["filename"] for a in attachments if a],
    }


def emails(account: str) -> list[dict[str, Any]]:
    """What Help Scout would have emailed (recorded, never sent): {to, kind, thread, deliverable}."""
    return [{"conversation": e.parent, **e.data} for e in store.records(account).all("emails")]


def set_rate_limit(account: str, per_minute: int) -> None:
    """Give the account another plan's limit (tests make it small to see a 429)."""
    company = store.records(account).find("company", "company")
    if company is not None:
        company.data["rateLimit"] = per_minute
        company.save(update_fields=["data", "updated_at"])


def expire_tokens(account: str) -> None:
    """Make every access token of the account expired (as two days later)."""
    for token in store.records(account).all("tokens"):
        token.data["expiresAt"] = time.time() - 1
        token.save(update_fields=["data", "updated_at"])


def agent_reply(account: str, ticket_id: str, text: str, html: str = "", public: bool = True) -> str:
    """The account's agent answers (or writes an internal note) through the emulated API, as the
    Help Scout app would: the same calls, the same webhooks. Returns the new thread's id."""
    credentials = create_account(account)
    base = f"{settings.PUBLIC_URL}{store.API}"
    with httpx.Client(base_url=base, timeout=20) as client:
        token = client.post("/v2/oauth2/token", json={"grant_type": "client_credentials", **credentials})
        token.raise_for_status()
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        body = html or html_lib.escape(text).replace("\n", "<br>")
        if public:
            conversation = client.get(f"/v2/conversations/{ticket_id}")
            conversation.raise_for_status()
            customer = conversation.json()["primaryCustomer"]["id"]
            answer = client.post(
                f"/v2/conversations/{ticket_id}/reply", json={"customer": {"id": customer}, "text": body}
            )
        else:
            answer = client.post(f"/v2/conversations/{ticket_id}/notes", json={"text": body})
        answer.raise_for_status()
        return answer.headers["Resource-ID"]
