"""The Gorgias connector: buyer messages as `api`-channel tickets, agent replies from an HTTP integration.

Choices where Gorgias's behaviour is not documented (⚠️ in helpdesks.md §4.4 and the payload README):
- The buyer is a customer with our external id and an undeliverable placeholder address (RFC 6761
  `.invalid`), never the Amazon relay alias, so Gorgias has nobody to email.
- Every message we write carries `sent_datetime`, so Gorgias records it instead of sending it.
- Gorgias knows only `open` and `closed`: `pending` is `open`, `solved` is `closed`.
- A follow-up from the buyer reopens a closed ticket explicitly (`PUT status: open`): whether Gorgias
  reopens on an API message by itself is not documented.
- Order facts go to ticket custom fields that `provision` creates (`POST /api/custom-fields`, with our
  external ids so a second run finds them). Gorgias replaces *all* of a ticket's field values on
  `PUT /tickets/{id}/custom-fields`, so the current values are read and merged first.
- A delivery names only the ticket (the form renders ticket-level variables); the ticket's messages
  are read by API and every public agent message on it is returned: the pipeline keeps one
  OutboundReply per message id, so a late or repeated delivery loses nothing and sends nothing twice.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

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
    account_name,
    order_fields,
)
from deskbridge.helpdesks.gorgias import webhooks
from deskbridge.helpdesks.http import HelpdeskHTTP, RateLimit, Rejected

if TYPE_CHECKING:
    from deskbridge.amazon.orders import OrderContext

# Leaky bucket, API-key integrations: 40 requests per 20 s (developers.gorgias.com/reference/limitations).
RATE_LIMIT = RateLimit(requests=40, seconds=20)
INTEGRATION_NAME = "deskbridge replies"
FIELD_EXTERNAL_ID = "deskbridge:{key}"
STATUSES: dict[str, str] = {"open": "open", "pending": "open", "solved": "closed", "closed": "closed"}
PAGE_SIZE = 100


def clean_domain(value: str) -> str:
    """`acme` from `acme`, `acme.gorgias.com` or `https://acme.gorgias.com/api`."""
    return account_name(value, ".gorgias.com")


def gorgias_time(moment: datetime) -> str:
    """Gorgias writes datetimes in UTC without a zone designator."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def text_as_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs) or "<p></p>"


def html_as_text(markup: str) -> str:
    from inscriptis import get_text

    return get_text(markup).strip()


def _items(page: Any) -> list[Any]:
    """A page's items: the documented list envelope (`data`), or a bare list."""
    if isinstance(page, dict):
        return list(page.get("data") or [])
    return list(page or [])


class GorgiasConnector(Connector):
    kind = "gorgias"
    name = "Gorgias"
    capabilities = Capabilities(
        native_channel=True,  # the `api` channel + HTTP integration (helpdesks.md §3.1)
        custom_fields=True,
        attachments=True,
        internal_notes=True,
        # Not an HMAC: Gorgias signs nothing. Our secret header, compared in constant time.
        signed_webhooks=True,
        webhook_api=True,
    )
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "domain",
            _("Gorgias domain"),
            help=_("The first part of your helpdesk's address: acme for acme.gorgias.com."),
            placeholder="acme",
        ),
        Field(
            "username",
            _("Username (email)"),
            kind="email",
            help=_("Settings → REST API in Gorgias shows it beside the API key."),
        ),
        Field(
            "api_key",
            _("API key"),
            secret=True,
            kind="password",
            help=_("Settings → REST API in Gorgias: create an API key and paste it here."),
        ),
    )
    api_base_template = "https://{domain}.gorgias.com/api"
    sandbox_path_template = "gorgias/{domain}/api"

    def __init__(self, config: Mapping[str, str], *args: Any, **kwargs: Any) -> None:
        config = dict(config)
        config["domain"] = clean_domain(config.get("domain", ""))
        self._user_id: str = config.get("user_id", "")
        self._field_ids: dict[str, int] | None = None
        self._files: HelpdeskHTTP | None = None
        super().__init__(config, *args, **kwargs)

    # -- where and how to call --------------------------------------------------------------
    def make_http(self) -> HelpdeskHTTP:
        domain, username, api_key = (self.config.get(k, "") for k in ("domain", "username", "api_key"))
        who = hashlib.sha256(f"{username.lower()}:{api_key}".encode()).hexdigest()[:16]
        return HelpdeskHTTP(
            self.api_base, limit_key=f"gorgias:{domain}:{who}", limit=RATE_LIMIT, auth=(username, api_key)
        )

    @property
    def web_base(self) -> str:
        return self.api_base.removesuffix("/api")

    def ticket_url(self, ticket_id: Any) -> str:
        return f"{self.web_base}/app/ticket/{ticket_id}"

    def _list(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paginated listing (`meta.next_cursor`), filters kept on each page."""
        params = {"limit": PAGE_SIZE, **params}

        def next_page(page: Any) -> str | None:
            cursor = (page.get("meta") or {}).get("next_cursor") if isinstance(page, dict) else None
            return f"{path}?{urlencode({**params, 'cursor': cursor})}" if cursor else None

        yield from self.http.paginate(path, _items, next_page, params=params)

    def _ticket(self, data: Mapping[str, Any]) -> Ticket:
        customer = data.get("customer") or {}
        return Ticket(
            id=str(data["id"]),
            url=self.ticket_url(data["id"]),
            status=str(data.get("status") or ""),
            customer_id=str(customer.get("id") or ""),
        )

    # -- set-up -------------------------------------------------------------------------------
    def verify(self) -> Account:
        user = self.http.get("/users/0")  # id 0: the user the API key belongs to
        self._user_id = str(user["id"])
        domain = self.config["domain"]
        return Account(name=f"{domain}.gorgias.com", url=self.web_base, ids={"user_id": self._user_id})

    def user_id(self) -> str:
        """Our API user's id: the author of internal notes, and how our own writes are recognised."""
        if not self._user_id:
            self._user_id = str(self.http.get("/users/0")["id"])
        return self._user_id

    def provision(self, webhook_url: str) -> Provisioned:
        user_id = self.user_id()
        field_ids = self._ensure_fields()
        integration_id, secret = self._ensure_integration(webhook_url)
        settings = {
            "user_id": user_id,
            "integration_id": str(integration_id),
            **{f"field_{key}": str(field_id) for key, field_id in field_ids.items()},
        }
        return Provisioned(settings=settings, secrets={"webhook_secret": secret})

    def _ensure_fields(self) -> dict[str, int]:
        wanted = {FIELD_EXTERNAL_ID.format(key=key): key for key in ORDER_FIELDS}
        found: dict[str, int] = {}
        for field in self._list("/custom-fields", object_type="Ticket", archived="false"):
            key = wanted.get(str(field.get("external_id") or ""))
            if key and not field.get("deactivated_datetime"):
                found.setdefault(key, int(field["id"]))
        for priority, (key, label) in enumerate(ORDER_FIELDS.items()):
            if key in found:
                continue
            created = self.http.post(
                "/custom-fields",
                json={
                    "object_type": "Ticket",
                    "label": label,
                    "description": "Filled in by deskbridge from the Amazon order.",
                    "external_id": FIELD_EXTERNAL_ID.format(key=key),
                    "priority": 100 + priority,
                    "required": False,
                    "definition": {"data_type": "text", "input_settings": {"input_type": "input"}},
                },
            )
            found[key] = int(created["id"])
        self._field_ids = found
        return found

    def _ensure_integration(self, webhook_url: str) -> tuple[int, str]:
        existing = next(
            (
                i
                for i in self._list("/integrations")
                if i.get("type") == "http" and i.get("name") == INTEGRATION_NAME
            ),
            None,
        )
        http_config = (existing or {}).get("http") or {}
        headers = http_config.get("headers") or {}
        secret = (
            headers.get(webhooks.SECRET_HEADER) or self.config.get("webhook_secret") or webhooks.new_secret()
        )
        wanted = {
            "url": webhook_url,
            "method": "POST",
            "headers": {webhooks.SECRET_HEADER: secret},
            "form": webhooks.FORM_TEMPLATE,
            "request_content_type": "application/json",
            "response_content_type": "application/json",
            "triggers": {webhooks.TRIGGER: True},
        }
        if existing is None:
            created = self.http.post(
                "/integrations", json={"name": INTEGRATION_NAME, "type": "http", "http": wanted}
            )
            return int(created["id"]), secret
        if any(http_config.get(k) != v for k, v in wanted.items()):
            self.http.put(f"/integrations/{existing['id']}", json={"name": INTEGRATION_NAME, "http": wanted})
        return int(existing["id"]), secret

    def field_ids(self) -> dict[str, int]:
        """Our ticket fields' ids: from the settings `provision` returned, else looked up once."""
        if self._field_ids is None:
            from_config = {
                key: int(self.config[f"field_{key}"])
                for key in ORDER_FIELDS
                if str(self.config.get(f"field_{key}", "")).isdigit()
            }
            if len(from_config) == len(ORDER_FIELDS):
                self._field_ids = from_config
            else:
                wanted = {FIELD_EXTERNAL_ID.format(key=key): key for key in ORDER_FIELDS}
                self._field_ids = {
                    wanted[str(f.get("external_id"))]: int(f["id"])
                    for f in self._list("/custom-fields", object_type="Ticket", archived="false")
                    if str(f.get("external_id") or "") in wanted
                }
        return self._field_ids

    # -- buyer messages in --------------------------------------------------------------------
    def upsert_customer(self, buyer: Buyer) -> str:
        for customer in self._list("/customers", external_id=buyer.external_id):
            if customer.get("external_id") == buyer.external_id:
                return str(customer["id"])
        body = {
            "name": buyer.display_name,
            "email": buyer.placeholder_email,  # undeliverable by construction; never the relay alias
            "external_id": buyer.external_id,
            "channels": [{"type": "email", "address": buyer.placeholder_email, "preferred": True}],
            "data": {"source": "Amazon", "amazon_marketplace_id": buyer.marketplace_id},
        }
        try:
            created = self.http.post("/customers", json=body)
        except Rejected as exc:
            if exc.status != 409:  # 409: the address is taken, by the customer an earlier run made
                raise
            for customer in self._list("/customers", email=buyer.placeholder_email):
                return str(customer["id"])
            raise
        return str(created["id"])

    def find_thread(self, thread_external_id: str) -> Ticket | None:
        for data in self._list("/tickets", external_id=thread_external_id):
            if data.get("external_id") == thread_external_id:  # never trust a filter blindly
                return self._ticket(data)
        return None

    def _upload(self, attachments: tuple[Attachment, ...]) -> list[dict[str, Any]]:
        if not attachments:
            return []
        files = [("file", (a.filename, a.content, a.content_type)) for a in attachments]
        uploaded = self.http.post("/upload", params={"type": "attachment"}, files=files)
        return [
            {k: f[k] for k in ("url", "name", "size", "content_type") if k in f} for f in _items(uploaded)
        ]

    def _inbound(self, customer_id: str, buyer: Buyer, message: BuyerMessage) -> dict[str, Any]:
        """A message authored by the buyer, recorded as already sent (so Gorgias sends nothing)."""
        return {
            "channel": "api",
            "via": "api",
            "from_agent": False,
            "sender": {"id": int(customer_id)},
            "source": {
                "type": "api",
                "from": {"name": buyer.display_name, "address": buyer.placeholder_email},
            },
            "body_text": message.text,
            "body_html": text_as_html(message.text),
            "external_id": message.external_id,
            "sent_datetime": gorgias_time(message.sent_at),
            "attachments": self._upload(message.attachments),
        }

    def open_thread(
        self, customer_id: str, buyer: Buyer, message: BuyerMessage, order: OrderContext | None
    ) -> Ticket:
        first = {**self._inbound(customer_id, buyer, message), "subject": message.subject}
        tags = dict.fromkeys(("amazon", *message.tags, *message.flags))
        body: dict[str, Any] = {
            "customer": {"id": int(customer_id)},
            "channel": "api",
            "via": "api",
            "from_agent": False,
            "subject": message.subject,
            "external_id": message.thread_external_id,
            "status": "open",
            "tags": [{"name": tag} for tag in tags if tag],
            "messages": [first],
        }
        if order is not None:
            ids = self.field_ids()
            values = [{"id": ids[k], "value": v} for k, v in order_fields(order).items() if v and k in ids]
            if values:
                body["custom_fields"] = values
        return self._ticket(self.http.post("/tickets", json=body))

    def _messages(self, ticket_id: str, ticket: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The ticket's messages: embedded in the ticket when it was fetched, else listed."""
        if ticket is not None and isinstance(ticket.get("messages"), list):
            return list(ticket["messages"])
        return list(self._list("/messages", ticket_id=ticket_id, order_by="created_datetime:asc"))

    def append_inbound(self, ticket: Ticket, customer_id: str, buyer: Buyer, message: BuyerMessage) -> str:
        current = self.http.get(f"/tickets/{ticket.id}")
        done = next(
            (m for m in self._messages(ticket.id, current) if m.get("external_id") == message.external_id),
            None,
        )
        message_id = (
            str(done["id"])
            if done
            else str(
                self.http.post(
                    f"/tickets/{ticket.id}/messages", json=self._inbound(customer_id, buyer, message)
                )["id"]
            )
        )
        if current.get("status") == "closed":
            self.http.put(f"/tickets/{ticket.id}", json={"status": "open"})
        return message_id

    def add_note(self, ticket: Ticket, body: str) -> str:
        note = self.http.post(
            f"/tickets/{ticket.id}/messages",
            json={
                "channel": "internal-note",
                "via": "api",
                "from_agent": True,
                "sender": {"id": int(self.user_id())},
                "body_text": body,
                "body_html": text_as_html(body),
            },
        )
        return str(note["id"])

    def set_order_context(self, ticket: Ticket, order: OrderContext) -> None:
        ids = self.field_ids()
        # Replace-all semantics: every value the ticket keeps must be in the request.
        values: dict[int, Any] = {}
        for item in _items(self.http.get(f"/tickets/{ticket.id}/custom-fields")):
            field_id = (item.get("field") or {}).get("id") or item.get("id")
            if field_id is not None and item.get("value") not in (None, ""):
                values[int(field_id)] = item["value"]
        for key, value in order_fields(order).items():
            if value and key in ids:  # an empty fact keeps what an earlier, better answer wrote
                values[ids[key]] = value
        self.http.put(
            f"/tickets/{ticket.id}/custom-fields", json=[{"id": k, "value": v} for k, v in values.items()]
        )

    def set_status(self, ticket: Ticket, status: Status) -> None:
        self.http.put(f"/tickets/{ticket.id}", json={"status": STATUSES[status]})

    # -- agent replies out --------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str:
        webhooks.check_secret(headers, self.config.get("webhook_secret", ""))
        webhooks.parse_delivery(body)
        return webhooks.event_id(body)

    def is_agent_reply(self, message: Mapping[str, Any]) -> bool:
        """Public and written by an agent; never a note, never one of our own API writes."""
        if message.get("from_agent") is not True or message.get("channel") == "internal-note":
            return False
        if message.get("public") is False:
            return False
        sender = message.get("sender") or {}
        return not (message.get("via") == "api" and str(sender.get("id")) == self.user_id())

    def read_webhook(self, body: bytes) -> list[AgentReply]:
        delivery = webhooks.parse_delivery(body)
        ticket = self.http.get(f"/tickets/{delivery.ticket_id}")
        return [
            self._reply(delivery.ticket_id, m)
            for m in self._messages(delivery.ticket_id, ticket)
            if self.is_agent_reply(m)
        ]

    def _reply(self, ticket_id: str, message: Mapping[str, Any]) -> AgentReply:
        sender = message.get("sender") or {}
        markup = str(message.get("body_html") or "")
        text = str(message.get("body_text") or "") or (html_as_text(markup) if markup else "")
        attachments = tuple(
            ReplyAttachment(
                url=str(a.get("url") or ""),
                filename=str(a.get("name") or "attachment"),
                content_type=str(a.get("content_type") or "application/octet-stream"),
                size=int(a["size"]) if str(a.get("size") or "").isdigit() else None,  # a string in examples
            )
            for a in message.get("attachments") or []
            if a.get("url")
        )
        return AgentReply(
            ticket_id=ticket_id,
            message_id=str(message["id"]),
            author=str(sender.get("name") or sender.get("email") or ""),
            text=text,
            html=markup,
            attachments=attachments,
            created_at=parse_time(message.get("created_datetime")),
        )

    def download(self, attachment: ReplyAttachment) -> bytes:
        """Attachment URLs are on Gorgias's file host: fetched without our API credentials."""
        if self._files is None:
            self._files = HelpdeskHTTP(attachment.url, limit_key="gorgias-files")
        return self._files.request("GET", attachment.url).content
