"""The Zendesk connector: buyers as end users without email, tickets by external id, a signed trigger webhook.

Delivery mode v1 of helpdesks.md §8.2. The buyer is an end user known only by our external id (no
email, so Zendesk never mails the Amazon relay); every write carries our message id in the audit's
custom metadata, so a write whose answer was lost is found again in the ticket's audits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.utils.translation import gettext_lazy as _

from deskbridge.core.logs import get_logger
from deskbridge.helpdesks import base
from deskbridge.helpdesks.base import (
    Account,
    AgentReply,
    Attachment,
    Buyer,
    BuyerMessage,
    Capabilities,
    Connector,
    Field,
    Provisioned,
    ReplyAttachment,
    Status,
    Ticket,
    TicketClosed,
    account_name,
)
from deskbridge.helpdesks.http import AuthenticationFailed, HelpdeskHTTP, RateLimit, Unavailable
from deskbridge.helpdesks.zendesk import trigger, webhooks

if TYPE_CHECKING:
    from deskbridge.amazon.orders import OrderContext

log = get_logger(__name__)

# The audit metadata key that carries our message id (Zendesk keeps it under metadata.custom).
MESSAGE_KEY = "deskbridge_message_id"
# Plan-based; Enterprise's 700 per minute is the documented default (helpdesks.md §4.1).
RATE_LIMIT = RateLimit(requests=700, seconds=60)
PAGE_SIZE = 100


def clean_subdomain(value: str) -> str:
    """`shop`, `shop.zendesk.com` or `https://shop.zendesk.com/` all mean `shop`."""
    return account_name(value, ".zendesk.com")


def _next_cursor_page(page: Any) -> str | None:
    if isinstance(page, dict) and (page.get("meta") or {}).get("has_more"):
        return (page.get("links") or {}).get("next")
    return None


def _tag(value: str) -> str:
    return "_".join(value.lower().split())


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class ZendeskConnector(Connector):
    kind = "zendesk"
    name = "Zendesk"
    capabilities = Capabilities(
        custom_fields=True,
        attachments=True,
        internal_notes=True,
        signed_webhooks=True,
        webhook_api=True,
    )
    fields = (
        Field(
            "subdomain",
            _("Zendesk subdomain"),
            help=_("The part before .zendesk.com in your Zendesk address."),
            placeholder="yourshop",
        ),
        Field(
            "email",
            _("Admin email"),
            kind="email",
            help=_("The email a Zendesk admin signs in with; deskbridge acts as this user."),
        ),
        Field(
            "api_token",
            _("API token"),
            secret=True,
            kind="password",
            help=_(
                "Admin Center › Apps and integrations › APIs › Zendesk API: enable token access, then add a token."
            ),
        ),
    )
    api_base_template = "https://{subdomain}.zendesk.com"
    sandbox_path_template = "zendesk/{subdomain}"

    @classmethod
    def api_base_for(cls, config: Mapping[str, str]) -> str:
        return super().api_base_for({**config, "subdomain": clean_subdomain(config.get("subdomain", ""))})

    def make_http(self) -> HelpdeskHTTP:
        subdomain = clean_subdomain(self.config.get("subdomain", ""))
        return HelpdeskHTTP(
            self.api_base,
            limit_key=f"zendesk:{subdomain}",  # Zendesk counts requests per account
            limit=RATE_LIMIT,
            auth=(f"{self.config.get('email', '').strip()}/token", self.config.get("api_token", "").strip()),
        )

    # -- helpers ------------------------------------------------------------------------------
    def ticket_url(self, ticket_id: Any) -> str:
        return f"{self.api_base}/agent/tickets/{ticket_id}"

    def _ticket(self, data: Mapping[str, Any]) -> Ticket:
        return Ticket(
            id=str(data["id"]),
            url=self.ticket_url(data["id"]),
            status=str(data.get("status") or ""),
            customer_id=str(data.get("requester_id") or ""),
        )

    def _cursor(self, path: str, key: str) -> Iterator[dict[str, Any]]:
        yield from self.http.paginate(
            path, lambda page: list(page.get(key) or []), _next_cursor_page, params={"page[size]": PAGE_SIZE}
        )

    def _field_values(self, order: OrderContext | None) -> list[dict[str, Any]]:
        if order is None:
            return []
        values = []
        for key, value in base.order_fields(order).items():
            field_id = self.config.get(f"field_{key}", "")
            if field_id.isdigit():
                values.append({"id": int(field_id), "value": value})
        return values

    def _upload(self, attachment: Attachment) -> str:
        response = self.http.post(
            f"/api/v2/uploads.json?filename={quote(attachment.filename)}",
            content=attachment.content,
            headers={"Content-Type": attachment.content_type or "application/binary"},
        )
        return str(response["upload"]["token"])

    def _comment(
        self, text: str, *, public: bool, author_id: str = "", uploads: list[str] | None = None
    ) -> dict:
        comment: dict[str, Any] = {"body": text.strip() or "(no text)", "public": public}
        if author_id:
            comment["author_id"] = int(author_id)
        if uploads:
            comment["uploads"] = uploads
        return comment

    def _update(self, ticket_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.http.put(f"/api/v2/tickets/{ticket_id}.json", json={"ticket": changes}) or {}

    @staticmethod
    def _comment_id(answer: Mapping[str, Any]) -> str:
        for event in (answer.get("audit") or {}).get("events") or []:
            if event.get("type") == "Comment":
                return str(event["id"])
        raise Unavailable("Zendesk's answer names no comment for the update")

    def _written(self, ticket_id: str, message_id: str) -> str | None:
        """The comment an earlier write of `message_id` made on the ticket, if any (audit metadata)."""
        for audit in self._cursor(f"/api/v2/tickets/{ticket_id}/audits.json", "audits"):
            custom = (audit.get("metadata") or {}).get("custom") or {}
            if custom.get(MESSAGE_KEY) == message_id:
                for event in audit.get("events") or []:
                    if event.get("type") == "Comment":
                        return str(event["id"])
        return None

    # -- set-up -------------------------------------------------------------------------------
    def verify(self) -> Account:
        user = self.http.get("/api/v2/users/me.json")["user"]
        if not user.get("id") or user.get("role") not in ("admin", "agent"):
            # Zendesk answers /users/me for anyone; an end user (or anonymous) cannot use the API for us.
            raise AuthenticationFailed("these credentials do not belong to a Zendesk agent or admin", 403)
        subdomain = clean_subdomain(self.config.get("subdomain", ""))
        return Account(
            name=f"{subdomain}.zendesk.com",
            url=self.api_base,
            ids={"api_user_id": str(user["id"]), "role": str(user["role"])},
        )

    def provision(self, webhook_url: str) -> Provisioned:
        account = self.verify()
        settings: dict[str, str] = {"api_user_id": account.ids["api_user_id"]}
        existing = {f.get("title"): f for f in self._cursor("/api/v2/ticket_fields.json", "ticket_fields")}
        for key, title in base.ORDER_FIELDS.items():
            field = existing.get(title)
            if field is None:
                field = self.http.post(
                    "/api/v2/ticket_fields.json",
                    json={
                        "ticket_field": {
                            "type": "text",
                            "title": title,
                            "description": f"{title} (deskbridge)",
                        }
                    },
                )["ticket_field"]
            settings[f"field_{key}"] = str(field["id"])

        wanted = trigger.webhook(webhook_url)
        hooks = [
            h
            for h in self._cursor(f"/api/v2/webhooks?filter[name_contains]={quote('deskbridge')}", "webhooks")
            if h.get("name") == trigger.WEBHOOK_NAME
        ]
        if hooks:
            hook = hooks[0]
            if any(hook.get(k) != v for k, v in wanted.items() if k != "description"):
                self.http.put(f"/api/v2/webhooks/{hook['id']}", json={"webhook": wanted})
        else:
            hook = self.http.post("/api/v2/webhooks", json={"webhook": wanted})["webhook"]
        webhook_id = str(hook["id"])
        secret = self.http.get(f"/api/v2/webhooks/{webhook_id}/signing_secret")["signing_secret"]["secret"]

        found = [
            t
            for t in self._cursor("/api/v2/triggers.json", "triggers")
            if t.get("title") == trigger.TRIGGER_TITLE
        ]
        if found and trigger.is_current(found[0], webhook_id):
            rule = found[0]
        elif found:
            rule = self.http.put(
                f"/api/v2/triggers/{found[0]['id']}.json", json={"trigger": trigger.trigger(webhook_id)}
            )["trigger"]
        else:
            rule = self.http.post("/api/v2/triggers.json", json={"trigger": trigger.trigger(webhook_id)})[
                "trigger"
            ]
        settings.update(webhook_id=webhook_id, trigger_id=str(rule["id"]))
        return Provisioned(settings=settings, secrets={"webhook_secret": secret})

    # -- buyer messages in --------------------------------------------------------------------
    def upsert_customer(self, buyer: Buyer) -> str:
        user = {"name": buyer.display_name, "external_id": buyer.external_id, "role": "end-user"}
        return str(self.http.post("/api/v2/users/create_or_update.json", json={"user": user})["user"]["id"])

    def find_thread(self, thread_external_id: str) -> Ticket | None:
        tickets = self.http.get("/api/v2/tickets.json", params={"external_id": thread_external_id})["tickets"]
        tickets = [t for t in tickets if t.get("external_id") == thread_external_id]
        return self._ticket(max(tickets, key=lambda t: int(t["id"]))) if tickets else None

    def open_thread(
        self, customer_id: str, buyer: Buyer, message: BuyerMessage, order: OrderContext | None
    ) -> Ticket:
        uploads = [self._upload(a) for a in message.attachments]
        tags = [trigger.TAG, "amazon", _tag(message.marketplace_code), *(_tag(t) for t in message.tags)]
        ticket: dict[str, Any] = {
            "subject": message.subject[:150],
            "comment": self._comment(message.text, public=True, author_id=customer_id, uploads=uploads),
            "requester_id": int(customer_id),
            "external_id": message.thread_external_id,
            "tags": list(dict.fromkeys(t for t in tags if t)),
            "metadata": {MESSAGE_KEY: message.external_id},
        }
        fields = self._field_values(order)
        if fields:
            ticket["custom_fields"] = fields
        return self._ticket(self.http.post("/api/v2/tickets.json", json={"ticket": ticket})["ticket"])

    def append_inbound(self, ticket: Ticket, customer_id: str, buyer: Buyer, message: BuyerMessage) -> str:
        current = self.http.get(f"/api/v2/tickets/{ticket.id}.json")["ticket"]
        earlier = self._written(ticket.id, message.external_id)
        if earlier:
            return earlier
        if current.get("status") == "closed":  # Zendesk refuses any update to a closed ticket
            raise TicketClosed(f"Zendesk ticket {ticket.id} is closed")
        changes: dict[str, Any] = {
            "comment": self._comment(
                message.text,
                public=True,
                author_id=customer_id,
                uploads=[self._upload(a) for a in message.attachments],
            ),
            "metadata": {MESSAGE_KEY: message.external_id},
        }
        if current.get("status") in ("pending", "hold", "solved"):
            changes["status"] = "open"  # a buyer's follow-up reopens the ticket
        return self._comment_id(self._update(ticket.id, changes))

    def add_note(self, ticket: Ticket, body: str) -> str:
        return self._comment_id(self._update(ticket.id, {"comment": self._comment(body, public=False)}))

    def set_order_context(self, ticket: Ticket, order: OrderContext) -> None:
        fields = self._field_values(order)
        if fields:
            self._update(ticket.id, {"custom_fields": fields})

    def set_status(self, ticket: Ticket, status: Status) -> None:
        self._update(ticket.id, {"status": status})

    # -- agent replies out --------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str:
        return webhooks.verify(self.config.get("webhook_secret", ""), headers, body)

    def read_webhook(self, body: bytes) -> list[AgentReply]:
        try:
            data = json.loads(body)
        except ValueError:
            log.warning("zendesk webhook body is not JSON")
            return []
        if not isinstance(data, dict):
            return []
        ticket_id = str(data.get("ticket_id") or "").strip()
        author_id = str(data.get("author_id") or "").strip()
        if not ticket_id.isdigit() or not author_id.isdigit():
            return []
        # Our own writes (buyer-authored follow-ups, notes) are updates by our API user.
        if author_id in (self.config.get("api_user_id", ""), str(data.get("requester_id") or "")):
            return []
        author = self.http.get(f"/api/v2/users/{author_id}.json")["user"]
        if author.get("role") not in ("agent", "admin"):
            return []
        requester = str(
            self.http.get(f"/api/v2/tickets/{ticket_id}.json")["ticket"].get("requester_id") or ""
        )
        replies = []
        for comment in self._cursor(f"/api/v2/tickets/{ticket_id}/comments.json", "comments"):
            if (
                not comment.get("public")
                or str(comment.get("author_id")) != author_id
                or author_id == requester
            ):
                continue
            replies.append(
                AgentReply(
                    ticket_id=ticket_id,
                    message_id=str(comment["id"]),
                    author=str(author.get("name") or author.get("email") or author_id),
                    text=str(comment.get("plain_body") or comment.get("body") or ""),
                    html=str(comment.get("html_body") or ""),
                    attachments=tuple(
                        ReplyAttachment(
                            url=str(a["content_url"]),
                            filename=str(a.get("file_name") or "attachment"),
                            content_type=str(a.get("content_type") or "application/octet-stream"),
                            size=a.get("size"),
                        )
                        for a in comment.get("attachments") or []
                    ),
                    created_at=_when(comment.get("created_at")),
                )
            )
        return replies

    def download(self, attachment: ReplyAttachment) -> bytes:
        return self.http.request("GET", attachment.url, follow_redirects=True).content
