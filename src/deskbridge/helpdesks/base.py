"""The connector protocol: what deskbridge asks of a helpdesk, and the plain values it hands over.

A connector is a pure API client (DESIGN.md §4, helpdesks.md §8.1): it never touches the database.
The pipeline owns the ledger (which ticket a conversation is, which helpdesk message a buyer message
became), the threading rules and the retries; a connector turns one request into API calls and
says, by the exception it raises, whether trying again can help (deskbridge.helpdesks.http).

Idempotency is shared: the pipeline records what it created, and every write a connector makes
carries our external id where the helpdesk keeps one, so that a write whose answer was lost (a
crash between the helpdesk's 201 and our commit) is found again by `find_thread` /
`append_inbound` instead of being made twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Literal
from urllib.parse import urlsplit

from django.conf import settings

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from deskbridge.amazon.orders import OrderContext
    from deskbridge.helpdesks.http import HelpdeskHTTP

Status = Literal["open", "pending", "solved", "closed"]


@dataclass(frozen=True)
class Capabilities:
    """What a helpdesk offers; the pipeline and the connect page read these, never the kind."""

    native_channel: bool = False  # the helpdesk knows the ticket is an external channel, never emails
    import_mode: bool = False  # messages can be written without notifications or triggers
    custom_fields: bool = False  # order facts as ticket fields
    attachments: bool = False
    internal_notes: bool = False
    signed_webhooks: bool = False  # agent replies reach us with a signature we verify
    webhook_api: bool = False  # `provision` sets the webhook up; otherwise the page shows the steps
    polling: bool = False  # `poll_replies` works (for helpdesks without webhooks)
    oauth: bool = False  # the connect page offers "Connect with <helpdesk>" (authorization code)


@dataclass(frozen=True)
class Field:
    """One setting of a connection, as its connect form shows it. Secret ones are encrypted at rest
    (deskbridge.core.secrets) and never shown again."""

    name: str
    label: StrOrPromise  # gettext_lazy: shown in the user's language
    secret: bool = False
    help: StrOrPromise = ""
    kind: Literal["text", "email", "url", "password"] = "text"
    required: bool = True
    placeholder: str = ""


def account_name(value: str, host_suffix: str) -> str:
    """The account part of what a user pasted for a hosted helpdesk: `acme` from `acme`,
    `acme<host_suffix>` or `https://acme<host_suffix>/anything`."""
    value = value.strip().lower()
    if "//" in value:
        value = urlsplit(value).hostname or ""
    return value.split("/", 1)[0].removesuffix(host_suffix)


@dataclass(frozen=True)
class Account:
    """What `verify` learned: who we are in the helpdesk, and ids later calls need."""

    name: str  # the helpdesk account's name, shown on the settings page
    url: str = ""  # its web address, for links to tickets
    ids: Mapping[str, str] = field(default_factory=dict)  # e.g. our API user's id, the mailbox id


@dataclass(frozen=True)
class Provisioned:
    """What `provision` set up: ids and secrets to keep, and the steps left for a human, if any."""

    settings: Mapping[str, str] = field(default_factory=dict)  # kept in the connection's settings
    secrets: Mapping[str, str] = field(default_factory=dict)  # e.g. the webhook's signing secret
    manual_steps: tuple[str, ...] = ()  # shown on the connection page, in order


@dataclass(frozen=True)
class Buyer:
    """The customer a ticket belongs to. `alias` is Amazon's relay address: never give it to the
    helpdesk as a deliverable email (it would email the buyer itself, helpdesks.md §3.1); connectors
    use `external_id` and, where an email is required, `placeholder_email`."""

    alias: str
    name: str
    seller_id: str
    marketplace_id: str

    @property
    def external_id(self) -> str:
        """Stable per (seller, buyer): Amazon gives a buyer one alias per seller."""
        digest = hashlib.sha256(f"{self.seller_id}:{self.alias.lower()}".encode()).hexdigest()[:24]
        return f"amzn-{digest}"

    @property
    def placeholder_email(self) -> str:
        """An address no mail can reach (RFC 6761 `.invalid`) for helpdesks that insist on one."""
        return f"{self.external_id}@buyers.deskbridge.invalid"

    @property
    def display_name(self) -> str:
        return self.name or "Amazon buyer"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class BuyerMessage:
    """One buyer message to put on a ticket, authored by the buyer."""

    external_id: str  # ours, stable: the same message delivered twice has the same id
    thread_external_id: str  # ours, per conversation: finds the ticket again
    subject: str  # the ticket subject (Amazon, marketplace and order in it)
    text: str
    sent_at: datetime
    marketplace_id: str
    marketplace_code: str  # "US", "DE" …: tags and subjects
    order_id: str = ""
    tags: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    flags: tuple[str, ...] = ()  # e.g. "unparsed": the text is the whole mail


# The order facts a ticket carries as fields (helpdesks.md §3.4), by our key, with the title a
# connector gives the field it creates. Values are plain text: every helpdesk takes text fields.
ORDER_FIELDS: dict[str, str] = {
    "amazon_order_id": "Amazon order ID",
    "amazon_marketplace": "Amazon marketplace",
    "amazon_order_status": "Amazon order status",
    "amazon_fulfillment": "Amazon fulfillment (FBA/FBM)",
    "amazon_purchase_date": "Amazon purchase date",
    "amazon_order_total": "Amazon order total",
    "amazon_items": "Amazon items (ASIN × quantity)",
    "amazon_tracking": "Amazon tracking",
    "amazon_order_url": "Amazon order link",
}


def order_fields(order: OrderContext) -> dict[str, str]:
    """The values of ORDER_FIELDS for an order ("" where Amazon gave nothing)."""
    from deskbridge.amazon import marketplaces

    marketplace = marketplaces.by_id(order.marketplace_id)
    return {
        "amazon_order_id": order.order_id,
        "amazon_marketplace": marketplace.domain if marketplace else order.marketplace_id,
        "amazon_order_status": order.status or ("unavailable" if order.unavailable else ""),
        "amazon_fulfillment": order.fulfillment_channel,
        "amazon_purchase_date": order.purchase_date.date().isoformat() if order.purchase_date else "",
        "amazon_order_total": str(order.total) if order.total else "",
        "amazon_items": ", ".join(f"{item.asin} × {item.quantity}" for item in order.items),
        "amazon_tracking": ", ".join(
            f"{p.carrier} {p.tracking_number}".strip() for p in order.shipments if p.tracking_number
        ),
        "amazon_order_url": order.order_url,
    }


@dataclass(frozen=True)
class Ticket:
    id: str
    url: str = ""  # the agent's view of it
    status: str = ""  # the helpdesk's own word for it
    customer_id: str = ""


@dataclass(frozen=True)
class ReplyAttachment:
    url: str  # where the connector's `download` fetches it
    filename: str
    content_type: str
    size: int | None = None


@dataclass(frozen=True)
class AgentReply:
    """A public reply an agent wrote: what the reply step sends to the buyer through Amazon."""

    ticket_id: str
    message_id: str  # the helpdesk's id of the reply: one OutboundReply per id
    author: str  # the agent's name or email, for notes and logs
    text: str
    html: str = ""
    attachments: tuple[ReplyAttachment, ...] = ()
    created_at: datetime | None = None


class TicketClosed(Exception):
    """The ticket takes no more messages (Zendesk closes solved tickets for good after a while): the
    conversation goes on in a follow-up ticket."""


class WebhookRejected(Exception):
    """A webhook that does not carry a valid signature (or secret): answered 401, recorded."""


class Connector:
    """Base of every helpdesk connector. Subclasses set the class attributes and implement the
    operations their capabilities promise; the others raise NotImplementedError."""

    kind: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    fields: ClassVar[tuple[Field, ...]]
    # The real API's base, formatted with the connection's settings (e.g. "https://{subdomain}.zendesk.com").
    api_base_template: ClassVar[str]
    # Below the sandbox's base (/sandbox/), where its emulator answers for the same settings.
    sandbox_path_template: ClassVar[str]

    def __init__(
        self,
        config: Mapping[str, str],
        http: HelpdeskHTTP | None = None,
        save_secrets: Callable[[Mapping[str, str]], None] | None = None,
    ) -> None:
        """`config`: the connection's settings and secrets, by Field name (plus what `verify`,
        `provision` and `exchange_code` returned). `save_secrets` keeps secrets that change while
        the connector works (a refreshed OAuth token); the caller stores them encrypted."""
        self.config = dict(config)
        self.save_secrets = save_secrets or (lambda secrets: None)
        self.http = http or self.make_http()

    # -- where and how to call --------------------------------------------------------------
    @classmethod
    def api_base_for(cls, config: Mapping[str, str]) -> str:
        """The API base: `DESKBRIDGE_<KIND>_API_BASE` if set, the sandbox's emulator in sandbox
        mode, else the real one."""
        override = settings.HELPDESK_API_BASES.get(cls.kind)
        if override:
            template = override
        elif settings.SANDBOX_ENABLED:
            template = f"{settings.PUBLIC_URL}/sandbox/{cls.sandbox_path_template}"
        else:
            template = cls.api_base_template
        return template.format(**config).rstrip("/")

    @property
    def api_base(self) -> str:
        return self.api_base_for(self.config)

    def make_http(self) -> HelpdeskHTTP:
        """The HTTP core with this helpdesk's auth and rate limit (see deskbridge.helpdesks.http)."""
        raise NotImplementedError

    # -- OAuth (capabilities.oauth): deskbridge's app at the helpdesk, authorization code grant ---
    @classmethod
    def authorize_url(cls, config: Mapping[str, str], state: str, redirect_uri: str) -> str:
        """Where to send the user to grant deskbridge access (the helpdesk's consent page)."""
        raise NotImplementedError

    @classmethod
    def exchange_code(cls, config: Mapping[str, str], code: str, redirect_uri: str) -> dict[str, str]:
        """Trade the code the consent page returned for tokens: secrets to keep on the connection."""
        raise NotImplementedError

    # -- set-up -------------------------------------------------------------------------------
    def verify(self) -> Account:
        """Check the credentials with one cheap call; AuthenticationFailed when they are wrong."""
        raise NotImplementedError

    def provision(self, webhook_url: str) -> Provisioned:
        """Create what delivery needs (fields, webhook or trigger, channel). Idempotent: finds and
        reuses what an earlier run made. `webhook_url` is where agent replies must be sent."""
        raise NotImplementedError

    # -- buyer messages in --------------------------------------------------------------------
    def upsert_customer(self, buyer: Buyer) -> str:
        """The helpdesk's id for the buyer, by external id first; created when missing."""
        raise NotImplementedError

    def find_thread(self, thread_external_id: str) -> Ticket | None:
        """The ticket an earlier `open_thread` made for this thread, if the helpdesk has it."""
        raise NotImplementedError

    def open_thread(
        self, customer_id: str, buyer: Buyer, message: BuyerMessage, order: OrderContext | None
    ) -> Ticket:
        """A new ticket whose first message is the buyer's, with subject, tags and order fields."""
        raise NotImplementedError

    def append_inbound(self, ticket: Ticket, customer_id: str, buyer: Buyer, message: BuyerMessage) -> str:
        """Add a follow-up by the buyer to the ticket (reopening it if solved); returns the helpdesk's
        message id. Idempotent on `message.external_id`."""
        raise NotImplementedError

    def add_note(self, ticket: Ticket, body: str) -> str:
        """An internal note (never shown to the buyer, never an agent reply); returns its id."""
        raise NotImplementedError

    def set_order_context(self, ticket: Ticket, order: OrderContext) -> None:
        """Write the order's facts to the ticket's fields (capabilities.custom_fields)."""
        raise NotImplementedError

    def set_status(self, ticket: Ticket, status: Status) -> None:
        raise NotImplementedError

    # -- agent replies out --------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str:
        """Check a webhook delivery's signature (or secret) over the raw body in constant time;
        returns the delivery's event id for dedupe. Raises WebhookRejected. No network calls."""
        raise NotImplementedError

    def read_webhook(self, body: bytes) -> list[AgentReply]:
        """The public, agent-authored replies in a verified delivery (may fetch what the body lacks).
        Our own writes (buyer-authored messages, notes) are never in the list."""
        raise NotImplementedError

    def poll_replies(self, cursor: str | None) -> tuple[list[AgentReply], str]:
        """Replies since `cursor`, for helpdesks without webhooks (capabilities.polling)."""
        raise NotImplementedError

    def download(self, attachment: ReplyAttachment) -> bytes:
        """The bytes of a reply's attachment."""
        raise NotImplementedError

    def report_delivery(self, ticket: Ticket, reply: AgentReply, error: str) -> None:
        """Tell the agent a reply did not reach the buyer, and why: an internal note, unless the
        helpdesk has a delivery-status call of its own (a native channel's error report)."""
        self.add_note(ticket, error)
