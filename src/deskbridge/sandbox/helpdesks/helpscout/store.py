"""The emulated Help Scout's accounts and objects, rendered as the Mailbox API 2.0 shows them.

An emulated account is one Help Scout company: a user (the agent), an OAuth app of that user
(client credentials), an inbox ("mailbox") and what deskbridge writes there. Records keep the
stored form; `render_*` give the API's form (HAL, the payload fixtures' shapes). Adding a thread
is one function that the API views and the mailbox page share, because it is also where Help
Scout's side effects happen: status changes, the email it would send, and the webhooks it fires.

What Help Scout would email is recorded, never sent: an agent's published reply goes by email to
the customer's address (any conversation type; Help Scout has no channel that keeps quiet), an
auto-reply only when `autoReply` is true, nothing when a thread is `imported`. deskbridge gives
buyers an address under `.invalid` (helpdesks.md §3.1), so those emails are recorded as
undeliverable and never reach the Amazon relay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from typing import Any

from django.conf import settings
from django.utils import timezone

from deskbridge.helpdesks.base import ORDER_FIELDS
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskRecord
from deskbridge.sandbox.helpdesks.state import Records, fire_webhook

HELPDESK = "helpscout"
TOKEN_LIFETIME = 172800  # seconds, as Help Scout's token responses say (expires_in)
RATE_LIMIT_PER_MINUTE = 200  # the smallest plan's limit; writes count 2
API = "/sandbox/helpscout"
EVENTS = (
    "convo.agent.reply.created",
    "convo.assigned",
    "convo.created",
    "convo.custom-fields",
    "convo.customer.reply.created",
    "convo.deleted",
    "convo.merged",
    "convo.moved",
    "convo.note.created",
    "convo.status",
    "convo.tags",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "satisfaction.ratings",
)
THREAD_EVENTS = {
    "customer": "convo.customer.reply.created",
    "reply": "convo.agent.reply.created",
    "note": "convo.note.created",
}


def now_iso() -> str:
    return timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def records(account: str) -> Records:
    return Records(HELPDESK, account)


def find_anywhere(collection: str, key: str) -> SandboxHelpdeskRecord | None:
    """A record by key across every emulated account (apps, tokens and codes name their account)."""
    if not key:
        return None
    return SandboxHelpdeskRecord.objects.filter(helpdesk=HELPDESK, collection=collection, key=key).first()


def api_url(path: str) -> str:
    return f"{settings.PUBLIC_URL}{API}{path}"


# -- accounts ---------------------------------------------------------------------------------


def ensure_account(account: str, custom_fields: bool = True) -> dict[str, Any]:
    """The account's company, agent, own OAuth app and inbox, created once."""
    rec = records(account)
    company = rec.find("company", "company")
    if company is None:
        company = rec.create("company", {"name": account, "rateLimit": RATE_LIMIT_PER_MINUTE}, key="company")
        user = rec.create(
            "users",
            {
                "firstName": "Demo",
                "lastName": "Agent",
                "email": f"agent@{account}.example.com",
                "role": "owner",
                "timezone": "UTC",
                "type": "user",
                "createdAt": now_iso(),
            },
            key=f"agent@{account}.example.com",
        )
        client_id = f"{account}-{secrets.token_hex(12)}"
        rec.create(
            "apps",
            {"clientSecret": secrets.token_hex(16), "userId": user.pk, "name": "My deskbridge app"},
            key=client_id,
        )
        mailbox = rec.create(
            "mailboxes",
            {
                "name": f"{account} support",
                "slug": secrets.token_hex(8),
                "email": f"support@{account}.example.com",
                "createdAt": now_iso(),
                "updatedAt": now_iso(),
            },
        )
        if custom_fields:
            for order, title in enumerate(ORDER_FIELDS.values(), start=1):
                add_mailbox_field(account, mailbox.pk, title, order)
    return {
        "company": company,
        "user": agent(account),
        "app": rec.all("apps")[0],
        "mailbox": rec.all("mailboxes")[0],
    }


def add_mailbox_field(account: str, mailbox_id: int, name: str, order: int = 1) -> int:
    """A custom field an admin made in the inbox's settings (the API cannot make them)."""
    record = records(account).create(
        "fields",
        {"name": name, "type": "singleline", "required": False, "order": order, "options": []},
        key=name,
        parent=mailbox_id,
    )
    return record.pk


def agent(account: str) -> SandboxHelpdeskRecord:
    return records(account).all("users")[0]


def rate_limit(account: str) -> int:
    company = records(account).find("company", "company")
    return int(company.data.get("rateLimit", RATE_LIMIT_PER_MINUTE)) if company else RATE_LIMIT_PER_MINUTE


# -- OAuth --------------------------------------------------------------------------------------


def issue_token(account: str, client_id: str, user_id: int, with_refresh: bool) -> dict[str, Any]:
    access = secrets.token_hex(16)
    data: dict[str, Any] = {
        "clientId": client_id,
        "userId": user_id,
        "expiresAt": time.time() + TOKEN_LIFETIME,
    }
    answer: dict[str, Any] = {"token_type": "bearer", "access_token": access, "expires_in": TOKEN_LIFETIME}
    if with_refresh:
        refresh = secrets.token_hex(16)
        records(account).create("refresh_tokens", {"clientId": client_id, "userId": user_id}, key=refresh)
        answer["refresh_token"] = refresh
    records(account).create("tokens", data, key=access)
    return answer


def token_account(access_token: str) -> tuple[str, SandboxHelpdeskRecord] | None:
    """The account and user an unexpired access token speaks for."""
    token = find_anywhere("tokens", access_token)
    if token is None or token.data.get("expiresAt", 0) < time.time():
        return None
    user = records(token.account).get("users", token.data["userId"])
    if user is None:
        return None
    return token.account, user


# -- rendering ---------------------------------------------------------------------------------


def render_user(user: SandboxHelpdeskRecord) -> dict[str, Any]:
    return {"id": user.pk, **user.data, "_links": {"self": {"href": api_url(f"/v2/users/{user.pk}")}}}


def person(user: SandboxHelpdeskRecord) -> dict[str, Any]:
    return {
        "id": user.pk,
        "type": "user",
        "first": user.data.get("firstName", ""),
        "last": user.data.get("lastName", ""),
        "email": user.data.get("email", ""),
    }


def customer_person(customer: SandboxHelpdeskRecord | None) -> dict[str, Any]:
    if customer is None:
        return {}
    return {
        "id": customer.pk,
        "type": "customer",
        "first": customer.data.get("firstName", ""),
        "last": customer.data.get("lastName", ""),
        "email": customer.key,
    }


def render_customer(customer: SandboxHelpdeskRecord) -> dict[str, Any]:
    data = {k: v for k, v in customer.data.items() if k != "emails"}
    return {
        "id": customer.pk,
        **data,
        "_embedded": {"emails": customer.data.get("emails", []), "phones": [], "chats": [], "websites": []},
        "_links": {"self": {"href": api_url(f"/v2/customers/{customer.pk}")}},
    }


def render_mailbox(mailbox: SandboxHelpdeskRecord) -> dict[str, Any]:
    return {
        "id": mailbox.pk,
        **mailbox.data,
        "_links": {
            "fields": {"href": api_url(f"/v2/mailboxes/{mailbox.pk}/fields")},
            "self": {"href": api_url(f"/v2/mailboxes/{mailbox.pk}")},
        },
    }


def render_field(record: SandboxHelpdeskRecord) -> dict[str, Any]:
    data = record.data
    return {
        "id": record.pk,
        "required": data["required"],
        "order": data["order"],
        "type": data["type"],
        "name": data["name"],
        "options": data["options"],
    }


def plain_text(body: str) -> str:
    """A thread body (HTML) as text, the way an agent reads it."""
    body = re.sub(r"<br\s*/?>|</p>|</div>", "\n", body, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", body)).strip()


def render_attachment(record: SandboxHelpdeskRecord, conversation_id: int) -> dict[str, Any]:
    data = record.data
    data_url = api_url(f"/v2/conversations/{conversation_id}/attachments/{record.pk}/data")
    return {
        "id": record.pk,
        "filename": data["filename"],
        "mimeType": data["mimeType"],
        "size": data["size"],
        "width": 0,
        "height": 0,
        "_links": {"data": {"href": data_url}, "web": {"href": data_url}},
    }


def render_thread(account: str, thread: SandboxHelpdeskRecord) -> dict[str, Any]:
    rec = records(account)
    data = thread.data
    customer = rec.get("customers", data.get("customerId"))
    author = rec.get("users", data["createdBy"]["id"]) if data["createdBy"]["type"] == "user" else customer
    created_by = person(author) if data["createdBy"]["type"] == "user" and author else customer_person(author)
    attachments = [rec.get("attachments", pk) for pk in data.get("attachments", [])]
    return {
        "id": thread.pk,
        "type": data["type"],
        "status": data["status"],
        "state": data["state"],
        "action": {"type": "imported" if data.get("imported") else "default", "associatedEntities": {}},
        "body": data["body"],
        "source": data["source"],
        "customer": {k: v for k, v in customer_person(customer).items() if k != "type"},
        "createdBy": created_by,
        "to": data.get("to", []),
        "cc": data.get("cc", []),
        "bcc": data.get("bcc", []),
        "createdAt": data["createdAt"],
        "_embedded": {"attachments": [render_attachment(a, thread.parent or 0) for a in attachments if a]},
        "_links": {
            "createdByUser" if data["createdBy"]["type"] == "user" else "createdByCustomer": {
                "href": api_url(
                    f"/v2/{'users' if data['createdBy']['type'] == 'user' else 'customers'}/{data['createdBy']['id']}"
                )
            }
        },
    }


def tag_id(account: str, name: str) -> int:
    rec = records(account)
    found = rec.find("tags", name)
    return (found or rec.create("tags", {"color": "#929499"}, key=name)).pk


def render_conversation(
    account: str, conversation: SandboxHelpdeskRecord, embed_threads: bool = False
) -> dict:
    rec = records(account)
    data = conversation.data
    fields = {f.pk: f for f in rec.children("fields", data["mailboxId"])}
    threads = rec.children("threads", conversation.pk)
    customer = rec.get("customers", data["primaryCustomer"])
    cid = conversation.pk
    rendered: dict[str, Any] = {
        "id": cid,
        "number": data["number"],
        "threads": len(threads),
        "type": data["type"],
        "folderId": data["folderId"],
        "status": data["status"],
        "state": data["state"],
        "subject": data["subject"],
        "preview": data.get("preview", ""),
        "mailboxId": data["mailboxId"],
        "createdBy": {
            "id": data["primaryCustomer"],
            "type": "customer",
            "email": customer.key if customer else "",
        },
        "createdAt": data["createdAt"],
        "userUpdatedAt": data.get("userUpdatedAt", data["createdAt"]),
        "source": data["source"],
        "tags": [{"id": tag_id(account, t), "color": "#929499", "tag": t} for t in data["tags"]],
        "cc": [],
        "bcc": [],
        "primaryCustomer": {"id": data["primaryCustomer"]},
        "customFields": [
            {"id": int(fid), "name": fields[int(fid)].data["name"], "value": value, "text": value}
            for fid, value in data["customFields"].items()
            if int(fid) in fields
        ],
    }
    if data.get("assignee"):
        user = rec.get("users", data["assignee"])
        if user:
            rendered["assignee"] = person(user)
    if data["status"] == "closed" and data.get("closedAt"):
        rendered["closedAt"] = data["closedAt"]
        rendered["closedBy"] = data.get("closedBy", 0)
    if data["status"] == "active" and data.get("customerWaitingSince"):
        rendered["customerWaitingSince"] = {"time": data["customerWaitingSince"], "friendly": "just now"}
    if embed_threads:
        rendered["_embedded"] = {"threads": [render_thread(account, t) for t in reversed(threads)]}
    rendered["_links"] = {
        "mailbox": {"href": api_url(f"/v2/mailboxes/{data['mailboxId']}")},
        "primaryCustomer": {"href": api_url(f"/v2/customers/{data['primaryCustomer']}")},
        "createdByCustomer": {"href": api_url(f"/v2/customers/{data['primaryCustomer']}")},
        "threads": {"href": api_url(f"/v2/conversations/{cid}/threads")},
        "web": {"href": f"{settings.PUBLIC_URL}{API}/conversation/{cid}/{data['number']}"},
        "self": {"href": api_url(f"/v2/conversations/{cid}")},
    }
    return rendered


# -- writing -----------------------------------------------------------------------------------


def create_customer(account: str, data: dict[str, Any]) -> SandboxHelpdeskRecord:
    rec = records(account)
    emails = [
        {"id": index, "value": e["value"].lower(), "type": e.get("type", "work")}
        for index, e in enumerate(data.get("emails", []), start=1)
    ]
    stored = {k: v for k, v in data.items() if k != "emails"}
    stored.update({"emails": emails, "createdAt": now_iso(), "updatedAt": now_iso()})
    return rec.create("customers", stored, key=emails[0]["value"] if emails else "")


def customer_by_email(account: str, email: str) -> SandboxHelpdeskRecord | None:
    return records(account).find("customers", email.lower())


def resolve_customer(account: str, given: dict[str, Any]) -> SandboxHelpdeskRecord | None:
    """`{id}` or `{email, …}` as Help Scout reads it: the id wins; an unknown email creates one."""
    if given.get("id") is not None:
        return records(account).get("customers", given["id"])
    email = str(given.get("email", ""))
    if not email:
        return None
    found = customer_by_email(account, email)
    if found is not None:
        return found
    names: dict[str, Any] = {k: given[k] for k in ("firstName", "lastName") if k in given}
    return create_customer(account, {**names, "emails": [{"type": "work", "value": email}]})


def save_attachments(account: str, conversation_id: int, given: list[dict[str, Any]]) -> list[int]:
    ids = []
    for item in given:
        content = base64.b64decode(item["data"])
        record = records(account).create(
            "attachments",
            {
                "filename": item["fileName"],
                "mimeType": item["mimeType"],
                "size": len(content),
                "data": item["data"],
            },
            parent=conversation_id,
        )
        ids.append(record.pk)
    return ids


def record_email(account: str, conversation: SandboxHelpdeskRecord, kind: str, thread_id: int | None) -> None:
    customer = records(account).get("customers", conversation.data["primaryCustomer"])
    address = customer.key if customer else ""
    if not address:
        return
    records(account).create(
        "emails",
        {
            "to": address,
            "kind": kind,
            "thread": thread_id,
            "deliverable": not address.rsplit("@", 1)[-1].endswith(".invalid"),
            "at": now_iso(),
        },
        parent=conversation.pk,
    )


def set_status(conversation: SandboxHelpdeskRecord, status: str, user_id: int | None = None) -> None:
    status = "active" if status == "open" else status
    data = conversation.data
    if status == "closed" and data["status"] != "closed":
        data["closedAt"], data["closedBy"] = now_iso(), user_id or 0
    data["status"] = status


def add_thread(
    account: str,
    conversation: SandboxHelpdeskRecord,
    kind: str,
    text: str,
    *,
    customer_id: int | None = None,
    user_id: int | None = None,
    imported: bool = False,
    draft: bool = False,
    status: str | None = None,
    created_at: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    notify: bool = True,
) -> SandboxHelpdeskRecord:
    """A thread (customer message, agent reply or note) with Help Scout's side effects (the
    threads of a new conversation fire `convo.created` instead: `notify` False)."""
    data = conversation.data
    customer_id = customer_id or data["primaryCustomer"]
    by_user = kind in ("reply", "note")
    thread = records(account).create(
        "threads",
        {
            "type": kind,
            "status": "active",
            "state": "draft" if draft else "published",
            "body": text,
            "source": {
                "type": "api" if not by_user else data["type"],
                "via": "user" if by_user else "customer",
            },
            "customerId": customer_id,
            "createdBy": {
                "id": user_id if by_user else customer_id,
                "type": "user" if by_user else "customer",
            },
            "createdAt": created_at if imported and created_at else now_iso(),
            "imported": imported,
            "to": [],
            "cc": cc or [],
            "bcc": bcc or [],
            "attachments": [],
        },
        parent=conversation.pk,
    )
    if attachments:
        thread.data["attachments"] = save_attachments(account, conversation.pk, attachments)
        thread.save(update_fields=["data", "updated_at"])
    if draft:
        return thread
    if kind == "customer":
        if not imported:
            set_status(conversation, status or "active")
            data["customerWaitingSince"] = now_iso()
    elif kind == "reply":
        set_status(conversation, status or "active", user_id)
        data.pop("customerWaitingSince", None)
        if not imported:
            record_email(account, conversation, "reply", thread.pk)
    elif status:
        set_status(conversation, status, user_id)
    if kind != "note":
        data["preview"] = plain_text(text)[:255]
    data["userUpdatedAt"] = now_iso()
    conversation.save(update_fields=["data", "updated_at"])
    if notify and not imported:
        fire(account, THREAD_EVENTS[kind], conversation)
    return thread


def fire(account: str, event: str, conversation: SandboxHelpdeskRecord) -> None:
    """POST the conversation to every enabled webhook subscribed to `event`, signed as Help Scout
    signs: base64(HMAC-SHA1(secret, raw body)) in X-HelpScout-Signature, no timestamp."""
    for hook in records(account).all("webhooks"):
        data = hook.data
        if data["state"] != "enabled" or event not in data["events"]:
            continue
        if data["mailboxIds"] and conversation.data["mailboxId"] not in data["mailboxIds"]:
            continue
        if data["notification"]:
            payload: dict[str, Any] = {
                "id": conversation.pk,
                "uri": api_url(f"/v2/conversations/{conversation.pk}"),
            }
        else:
            payload = render_conversation(account, conversation)
        body = json.dumps(payload, separators=(",", ":")).encode()
        fire_webhook(
            data["url"],
            body,
            {
                "Content-Type": "application/json",
                "X-HelpScout-Event": event,
                "X-HelpScout-Signature": signature(data["secret"], body),
            },
        )


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha1).digest()).decode()


def create_conversation(
    account: str,
    body: dict[str, Any],
    customer: SandboxHelpdeskRecord,
    user: SandboxHelpdeskRecord,
) -> SandboxHelpdeskRecord:
    """A conversation from a validated create request, its threads added in order."""
    rec = records(account)
    number = len(rec.all("conversations")) + 1
    conversation = rec.create(
        "conversations",
        {
            "number": number,
            "type": body["type"],
            "folderId": 1,
            "status": body["status"],
            "state": "published",
            "subject": body["subject"],
            "mailboxId": body["mailboxId"],
            "primaryCustomer": customer.pk,
            "assignee": body.get("assignTo") if "assignTo" in body else None,
            "createdAt": body["createdAt"] if body.get("imported") and body.get("createdAt") else now_iso(),
            "source": {"type": "api", "via": "customer"},
            "tags": normalise_tags(body.get("tags", [])),
            "customFields": {str(f["id"]): f["value"] for f in body.get("fields", [])},
            "imported": bool(body.get("imported")),
        },
        parent=body["mailboxId"],
    )
    imported = bool(body.get("imported"))
    for given in body["threads"]:
        thread_customer = resolve_customer(account, given["customer"]) if given.get("customer") else customer
        add_thread(
            account,
            conversation,
            given["type"],
            given["text"],
            customer_id=thread_customer.pk if thread_customer else customer.pk,
            user_id=given.get("user") or user.pk,
            imported=imported or bool(given.get("imported")),
            draft=bool(given.get("draft")),
            status=body["status"],
            created_at=given.get("createdAt"),
            attachments=given.get("attachments"),
            notify=False,
        )
    conversation.refresh_from_db()
    conversation.data["status"] = "active" if body["status"] == "open" else body["status"]
    conversation.save(update_fields=["data", "updated_at"])
    if body.get("autoReply") and not imported:
        record_email(account, conversation, "auto-reply", None)
    if not imported:
        fire(account, "convo.created", conversation)
    return conversation


def normalise_tags(tags: list[str]) -> list[str]:
    """Help Scout keeps tags lower-case, spaces as dashes, each once."""
    seen: list[str] = []
    for tag in tags:
        name = re.sub(r"\s+", "-", tag.strip().lower())
        if name and name not in seen:
            seen.append(name)
    return seen
