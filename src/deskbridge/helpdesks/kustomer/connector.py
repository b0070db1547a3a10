"""The Kustomer connector: Kustomer's documented custom-channel recipe.

The buyer is a customer found by `externalId`; an Amazon thread is a conversation with our thread
id as its `externalId`; each buyer message is a message by that customer with `direction: "in"`,
channel `chat` and app `deskbridge`, carrying our message id as `externalId`. Messages created
through the API are only recorded: Kustomer delivers nothing, so no one is emailed. Agents' replies
come back by an outbound webhook on `kustomer.message.create`; only `direction: "out"` messages are
replies (our own writes arrive with `"in"`; notes are not messages at all).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import httpx
from django.utils.translation import gettext_lazy as _

from deskbridge.helpdesks.base import (
    ORDER_FIELDS,
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
)
from deskbridge.helpdesks.http import (
    AuthenticationFailed,
    HelpdeskHTTP,
    NotFound,
    RateLimit,
    RateLimited,
    Rejected,
    Unavailable,
)
from deskbridge.helpdesks.kustomer import webhooks
from deskbridge.helpdesks.kustomer.fields import ORDER_ATTRIBUTES, order_attributes

if TYPE_CHECKING:
    from deskbridge.amazon.orders import OrderContext

APP = "deskbridge"  # one stable app value per integration (Kustomer's custom-channel guide)
CHANNEL = "chat"  # a creatable channel whose replies Kustomer does not send anywhere itself
EVENT = "kustomer.message.create"
WEBHOOK_NAME = "deskbridge: agent replies to Amazon buyers"
STATUSES: dict[str, str] = {"open": "open", "pending": "snoozed", "solved": "done", "closed": "done"}
# Org-wide, per minute: Enterprise 1,000 (Ultimate 2,000; legacy Business 500, Professional 300).
LIMIT = RateLimit(1000, 60.0)
MAX_NOTE = 10_240


class KustomerHTTP(HelpdeskHTTP):
    """HelpdeskHTTP that reads Kustomer's x-ratelimit-reset (seconds until the window resets) for
    the wait of a 429, which carries no Retry-After."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_reset: float | None = None
        self.client.event_hooks["response"].append(self._remember_reset)

    def _remember_reset(self, response: httpx.Response) -> None:
        try:
            self.last_reset = float(response.headers.get("x-ratelimit-reset", ""))
        except ValueError:
            self.last_reset = None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.last_reset = None
        try:
            return super().request(method, path, **kwargs)
        except RateLimited as exc:
            if exc.status == 429:
                # The unit of x-ratelimit-reset is not documented; read as seconds, else a minute.
                exc.retry_after = self.last_reset if self.last_reset and self.last_reset > 0 else 60.0
            raise


def _id(document: Any) -> str:
    return str(document["data"]["id"])


class KustomerConnector(Connector):
    kind = "kustomer"
    name = "Kustomer"
    capabilities = Capabilities(
        native_channel=True,
        custom_fields=True,
        attachments=True,
        internal_notes=True,
        signed_webhooks=True,
        webhook_api=True,
    )
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "org",
            _("Organization"),
            help=_("Your Kustomer organization's name, as in https://ORG.kustomerapp.com."),
            placeholder="acme",
        ),
        Field(
            "api_key",
            _("API key"),
            secret=True,
            kind="password",
            help=_(
                "Settings › Security › API Keys › Add API key, with the roles org.permission.customer, "
                "conversation, message, note, attachment.read, user.read, metadata and outbound_webhook "
                "(roles cannot be changed later)."
            ),
        ),
    )
    api_base_template = "https://{org}.api.kustomerapp.com"
    sandbox_path_template = "kustomer/{org}"

    def make_http(self) -> HelpdeskHTTP:
        return KustomerHTTP(
            self.api_base,
            limit_key=f"kustomer:{self.config.get('org', '')}",  # the limit is per org
            limit=LIMIT,
            headers={"Authorization": f"Bearer {self.config.get('api_key', '')}"},
        )

    @property
    def web_base(self) -> str:
        """The agents' app: https://{org}.kustomerapp.com (the emulator's page in the sandbox)."""
        return self.api_base.replace(".api.kustomerapp.com", ".kustomerapp.com")

    def _ticket(self, document: Any) -> Ticket:
        data = document["data"]
        customer = data.get("relationships", {}).get("customer", {}).get("data") or {}
        return Ticket(
            id=str(data["id"]),
            url=f"{self.web_base}/app/customers/{customer.get('id', '')}/event/{data['id']}",
            status=str(data["attributes"].get("status", "")),
            customer_id=str(customer.get("id", "")),
        )

    # -- set-up -------------------------------------------------------------------------------
    def verify(self) -> Account:
        token = self.http.get("/v1/auth/tokens/current")["data"]["attributes"]
        return Account(
            name=str(token.get("orgName") or self.config.get("org", "")),
            url=self.web_base,
            ids={"org_id": str(token.get("org", "")), "user_id": str(token.get("user", ""))},
        )

    def provision(self, webhook_url: str) -> Provisioned:
        steps: list[str] = []
        settings: dict[str, str] = {}
        try:
            self._define_attributes()
            settings["conversation_attributes"] = ",".join(ORDER_ATTRIBUTES.values())
        except AuthenticationFailed:
            steps.append(
                "The API key may not define custom attributes (role org.permission.metadata.update): "
                "the order facts are still written to each conversation, under names such as "
                "amazonOrderIdStr; give them display names in Settings › Platform › Klasses › Conversation."
            )
        hook = self._webhook(webhook_url)
        attributes = hook["attributes"]
        settings["webhook_id"] = str(hook["id"])
        if EVENT not in attributes.get("events", []):
            steps.append(
                f"The outbound webhook to {webhook_url} does not send {EVENT}: add that event in "
                "Settings › Platform › Outbound webhooks."
            )
        if attributes.get("enabled") is False:
            steps.append(
                f"Kustomer disabled the outbound webhook to {webhook_url} (deliveries kept failing): "
                "enable it again in Settings › Platform › Outbound webhooks."
            )
        return Provisioned(
            settings=settings, secrets={"webhook_token": attributes["token"]}, manual_steps=tuple(steps)
        )

    def _define_attributes(self) -> None:
        """Display names for the order attributes on conversations (they work without, untitled)."""
        existing = self.http.get("/v1/metadata/conversation")["data"]["attributes"].get("properties") or {}
        missing = {
            attribute: {"displayName": ORDER_FIELDS[key]}
            for key, attribute in ORDER_ATTRIBUTES.items()
            if attribute not in existing
        }
        if missing:
            self.http.put("/v1/metadata/conversation", json={"properties": missing})

    def _webhook(self, webhook_url: str) -> dict[str, Any]:
        """Ours if an earlier run made it (matched by URL), else a new one; with its token."""
        listing = self.http.get("/v1/outbound-webhooks").get("data") or []
        ours = next((hook for hook in listing if hook.get("attributes", {}).get("url") == webhook_url), None)
        if ours is None:
            ours = self.http.post(
                "/v1/outbound-webhooks", json={"name": WEBHOOK_NAME, "url": webhook_url, "events": [EVENT]}
            )["data"]
        if not ours["attributes"].get("token"):
            ours = self.http.get(f"/v1/outbound-webhooks/{ours['id']}")["data"]
        return dict(ours)

    # -- buyer messages in --------------------------------------------------------------------
    def upsert_customer(self, buyer: Buyer) -> str:
        # No email: the relay alias must not become an address Kustomer could write to.
        path = f"/v1/customers/externalId={quote(buyer.external_id, safe='')}"
        try:
            return _id(self.http.get(path))
        except NotFound:
            pass
        try:
            return _id(
                self.http.post(
                    "/v1/customers", json={"name": buyer.display_name, "externalId": buyer.external_id}
                )
            )
        except Rejected as exc:
            if exc.status != 409:  # another worker created it meanwhile
                raise
            return _id(self.http.get(path))

    def find_thread(self, thread_external_id: str) -> Ticket | None:
        try:
            return self._ticket(
                self.http.get(f"/v1/conversations/externalId={quote(thread_external_id, safe='')}")
            )
        except NotFound:
            return None

    def open_thread(
        self, customer_id: str, buyer: Buyer, message: BuyerMessage, order: OrderContext | None
    ) -> Ticket:
        ticket = self.find_thread(message.thread_external_id)
        if ticket is None:
            body: dict[str, Any] = {
                "customer": customer_id,
                "name": message.subject[:256],
                "externalId": message.thread_external_id,
                "status": "open",
                "direction": "in",
                "tags": list(dict.fromkeys(message.tags)),
            }
            if order is not None:
                body["custom"] = order_attributes(order)
            try:
                ticket = self._ticket(self.http.post("/v1/conversations", json=body))
            except Rejected as exc:
                found = self.find_thread(message.thread_external_id) if exc.status == 409 else None
                if found is None:
                    raise
                ticket = found
        self._post_inbound(ticket, customer_id, message)
        return ticket

    def append_inbound(self, ticket: Ticket, customer_id: str, buyer: Buyer, message: BuyerMessage) -> str:
        message_id = self._post_inbound(ticket, customer_id, message)
        status = self.http.get(f"/v1/conversations/{ticket.id}")["data"]["attributes"].get("status")
        if status in ("done", "snoozed"):
            self.http.put(f"/v1/conversations/{ticket.id}", json={"status": "open"})
        return message_id

    def _post_inbound(self, ticket: Ticket, customer_id: str, message: BuyerMessage) -> str:
        """The buyer's message on the conversation, unless an earlier try already put it there."""
        existing = self._message_by_external_id(ticket.id, message.external_id)
        if existing:
            return existing
        text = message.text or "(no text)"
        body: dict[str, Any] = {
            "conversation": ticket.id,
            "app": APP,
            "channel": CHANNEL,
            "direction": "in",
            "externalId": message.external_id,
            "body": text,
            "preview": text[:200],
            "meta": {"marketplace": message.marketplace_code, "orderId": message.order_id},
        }
        if message.attachments:
            body["attachments"] = [self._upload(attachment) for attachment in message.attachments]
        return _id(self.http.post(f"/v1/customers/{customer_id}/messages", json=body))

    def _message_by_external_id(self, conversation_id: str, external_id: str) -> str | None:
        for message in self.http.paginate(
            f"/v1/conversations/{conversation_id}/messages",
            items=lambda page: page.get("data") or [],
            next_page=lambda page: (page.get("links") or {}).get("next"),
            params={"pageSize": 100},
        ):
            if message.get("attributes", {}).get("externalId") == external_id:
                return str(message["id"])
        return None

    def _upload(self, attachment: Attachment) -> dict[str, Any]:
        """Kustomer's three steps: the attachment document, the file to its upload form, the reference."""
        created = self.http.post(
            "/v1/attachments",
            json={
                "name": attachment.filename,
                "contentType": attachment.content_type,
                "contentLength": len(attachment.content),
            },
        )
        upload = created["meta"]["upload"]
        try:
            # The storage's signed form: our API key must not travel with it.
            response = httpx.post(
                upload["url"],
                data=upload["fields"],
                files={"file": (attachment.filename, attachment.content, attachment.content_type)},
                timeout=self.http.client.timeout,
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"attachment upload: {exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise Unavailable(f"attachment upload: {response.status_code}", response.status_code)
        if response.status_code >= 300:
            raise Rejected(
                f"attachment upload: {response.status_code} {response.text[:200]}", response.status_code
            )
        return {
            "_id": _id(created),
            "name": attachment.filename,
            "contentType": attachment.content_type,
            "contentLength": len(attachment.content),
        }

    def add_note(self, ticket: Ticket, body: str) -> str:
        text = (body or "(empty note)")[:MAX_NOTE]
        return _id(self.http.post(f"/v1/conversations/{ticket.id}/notes", json={"body": text}))

    def set_order_context(self, ticket: Ticket, order: OrderContext) -> None:
        self.http.put(f"/v1/conversations/{ticket.id}", json={"custom": order_attributes(order)})

    def set_status(self, ticket: Ticket, status: Status) -> None:
        self.http.put(f"/v1/conversations/{ticket.id}", json={"status": STATUSES[status]})

    # -- agent replies out --------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str:
        return webhooks.verify(self.config.get("webhook_token", ""), headers, body)

    def read_webhook(self, body: bytes) -> list[AgentReply]:
        envelope = _json(body)
        data = envelope.get("data") if envelope.get("name") == EVENT else None
        if not isinstance(data, dict) or data.get("type") != "message":
            return []
        if not _is_agent_reply(data.get("attributes") or {}):
            return []
        # The event may carry only a preview: the message itself has the whole text.
        message = self.http.get(f"/v1/messages/{data['id']}")["data"]
        attributes = message.get("attributes") or {}
        if not _is_agent_reply(attributes):
            return []
        relationships = message.get("relationships") or {}
        conversation = (relationships.get("conversation") or {}).get("data") or {}
        if not conversation.get("id"):
            return []
        author_id = ((relationships.get("createdBy") or {}).get("data") or {}).get("id", "")
        return [
            AgentReply(
                ticket_id=str(conversation["id"]),
                message_id=str(message["id"]),
                author=self._author(str(author_id)),
                text=str(attributes.get("body") or attributes.get("preview") or ""),
                attachments=tuple(
                    ReplyAttachment(
                        url=f"/v1/messages/{message['id']}/attachments/{ref['_id']}",
                        filename=str(ref.get("name", "attachment")),
                        content_type=str(ref.get("contentType", "application/octet-stream")),
                        size=ref.get("contentLength"),
                    )
                    for ref in attributes.get("attachments") or []
                    if ref.get("_id")
                ),
                created_at=_when(attributes.get("createdAt")),
            )
        ]

    def _author(self, user_id: str) -> str:
        if not user_id:
            return "Kustomer agent"
        try:
            user = self.http.get(f"/v1/users/{user_id}")["data"]["attributes"]
        except NotFound:
            return user_id
        return str(user.get("displayName") or user.get("name") or user.get("email") or user_id)

    def download(self, attachment: ReplyAttachment) -> bytes:
        related = self.http.get(attachment.url)["data"]["links"]["related"]
        try:
            response = httpx.get(related, timeout=self.http.client.timeout, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise Unavailable(f"attachment download: {exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise Unavailable(f"attachment download: {response.status_code}", response.status_code)
        if response.status_code >= 300:
            raise Rejected(f"attachment download: {response.status_code}", response.status_code)
        return response.content


def _is_agent_reply(attributes: Mapping[str, Any]) -> bool:
    """An agent's message to the customer: outbound, and not an automatic one (workflow
    auto-responses and satisfaction surveys are not an agent's answer to an Amazon buyer)."""
    return (
        attributes.get("direction") == "out" and not attributes.get("auto") and not attributes.get("source")
    )


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
