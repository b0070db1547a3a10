"""The Help Scout connector: buyer messages as customer threads, agent replies from a signed webhook.

Choices where Help Scout's behaviour is not documented (helpdesks.md §4.3, ⚠️):
- No email reaches the buyer from Help Scout. A Help Scout customer needs an email to be found
  again and to be replied to, and Help Scout emails every agent reply to it, whatever the
  conversation type. So the buyer is a customer whose only address is `Buyer.placeholder_email`
  (`…@buyers.deskbridge.invalid`, undeliverable by RFC 6761): that address is also the customer's
  external id (`GET /v2/customers?query=(email:"…")`). Conversations are `type: "email"` (agents
  reply as usual) and not `imported` (that would hide them from notifications and would not
  reopen a closed one); no `autoReply`. The Amazon relay alias is never given to Help Scout.
- Conversations have no external id: each carries the tag `thread-<our thread id>` and
  `find_thread` lists conversations with that tag (any status).
- Threads have no external id either: `append_inbound` lists the conversation's threads and takes
  a customer thread with the same text as the message it would write as the earlier write of it
  (the pipeline already treats the same text from the same buyer as one message).
- Custom fields cannot be created through the API: `provision` reads the inbox's fields by name
  (`GET /v2/mailboxes/{id}/fields`) and asks, as manual steps, for the ones missing. Help Scout's
  `PUT …/fields` replaces every field of a conversation, so `set_order_context` keeps the ones it
  does not own.
- Thread text is HTML in Help Scout: ours is escaped, line breaks as <br>.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from django.utils.translation import gettext_lazy as _

from deskbridge.amazon.mail.mime import html_to_text
from deskbridge.helpdesks.base import (
    ORDER_FIELDS,
    Account,
    AgentReply,
    Buyer,
    BuyerMessage,
    Capabilities,
    Connector,
    Field,
    Provisioned,
    ReplyAttachment,
    Status,
    Ticket,
    order_fields,
)
from deskbridge.helpdesks.helpscout import oauth, webhooks
from deskbridge.helpdesks.http import HelpdeskHTTP, NotFound, RateLimit, Rejected

if TYPE_CHECKING:
    from collections.abc import Mapping

    from deskbridge.amazon.orders import OrderContext

WEBHOOK_EVENTS = ("convo.agent.reply.created",)
THREAD_TAG_PREFIX = "thread-"
STATUSES = {"open": "active", "pending": "pending", "solved": "closed", "closed": "closed"}
FIELD_MAX = 255  # a single-line custom field's limit
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class HelpScoutHTTP(HelpdeskHTTP):
    """Help Scout counts a write (POST, PUT, PATCH, DELETE) as two requests toward its limit."""

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if method.upper() in WRITES:
            self._take_token()
        return super().request(method, path, **kwargs)


def as_html(text: str) -> str:
    return html.escape(text, quote=False).replace("\r\n", "\n").replace("\n", "<br>")


def as_text(body: str) -> str:
    return html_to_text(body).strip() if "<" in body or "&" in body else body.strip()


def same_text(a: str, b: str) -> bool:
    return " ".join(as_text(a).split()) == " ".join(as_text(b).split())


def thread_tag(thread_external_id: str) -> str:
    """The tag a conversation is found again by (Help Scout keeps tags lower-case, no spaces)."""
    slug = thread_external_id.strip().lower()
    if re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,70}", slug):
        return THREAD_TAG_PREFIX + slug
    return THREAD_TAG_PREFIX + hashlib.sha256(thread_external_id.encode()).hexdigest()[:32]


def embedded(name: str) -> Any:
    return lambda page: ((page or {}).get("_embedded") or {}).get(name) or []


def next_link(page: Any) -> str | None:
    return (((page or {}).get("_links") or {}).get("next") or {}).get("href")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def created_id(response: httpx.Response) -> str:
    """The new object's id: Help Scout answers a create with 201, no body, and `Resource-ID`."""
    resource_id = response.headers.get("Resource-ID", "")
    if not resource_id:
        location = response.headers.get("Location", "")
        resource_id = location.rstrip("/").rsplit("/", 1)[-1] if location else ""
    if not resource_id:
        raise Rejected(
            f"Help Scout answered {response.status_code} without a Resource-ID", response.status_code
        )
    return resource_id


class HelpScoutConnector(Connector):
    kind = "helpscout"
    name = "Help Scout"
    capabilities = Capabilities(
        custom_fields=True,
        attachments=True,
        internal_notes=True,
        signed_webhooks=True,
        webhook_api=True,
        oauth=True,
    )
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "client_id",
            _("App ID"),
            help=_(
                "In Help Scout: Your Profile › My Apps › Create My App (any redirection URL), then copy its App ID."
            ),
        ),
        Field(
            "client_secret",
            _("App Secret"),
            secret=True,
            kind="password",
            help=_("The same app's App Secret."),
        ),
        Field(
            "mailbox_id",
            _("Inbox ID"),
            required=False,
            help=_("Leave empty to use your first inbox; otherwise the number in the inbox's address."),
        ),
    )
    api_base_template = "https://api.helpscout.net"
    sandbox_path_template = "helpscout"
    # The smallest plan's limit; writes count 2 (HelpScoutHTTP). Help Scout's 429 says when to retry.
    rate_limit = RateLimit(200, 60)

    # -- where and how to call ------------------------------------------------------------
    @classmethod
    def web_base_for(cls, config: Mapping[str, str]) -> str:
        """Help Scout's web app (consent page, conversation links); the emulator serves both itself."""
        base = cls.api_base_for(config)
        return oauth.REAL_WEB if base == cls.api_base_template else base

    def make_http(self) -> HelpdeskHTTP:
        account = self.config.get("client_id") or (
            f"user-{self.config['user_id']}"
            if self.config.get("user_id")
            else hashlib.sha256(self.config.get("refresh_token", "").encode()).hexdigest()[:16]
        )
        auth = oauth.TokenAuth(f"{self.api_base}{oauth.TOKEN_PATH}", self.config, self._keep_secrets)
        return HelpScoutHTTP(
            self.api_base, limit_key=f"helpscout:{account}", limit=self.rate_limit, auth=auth
        )

    def _keep_secrets(self, secrets: Mapping[str, str]) -> None:
        self.config.update(secrets)
        self.save_secrets(secrets)

    @classmethod
    def authorize_url(cls, config: Mapping[str, str], state: str, redirect_uri: str) -> str:
        return oauth.consent_url(cls.web_base_for(config), state, redirect_uri)

    @classmethod
    def exchange_code(cls, config: Mapping[str, str], code: str, redirect_uri: str) -> dict[str, str]:
        client_id, client_secret = oauth.app_credentials()
        base = cls.api_base_for(config)
        http = HelpdeskHTTP(base, limit_key="helpscout:oauth")
        try:
            answer = http.post(
                oauth.TOKEN_PATH,
                json={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": client_id,
                    "client_secret": client_secret,
                },
            )
        finally:
            http.close()
        return oauth.secrets_of(answer)

    def _create(self, path: str, body: dict[str, Any]) -> str:
        return created_id(self.http.request("POST", path, json=body))

    def _all(self, path: str, name: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        return self.http.paginate(path, embedded(name), next_link, params=params)

    def _ticket(self, conversation: dict[str, Any]) -> Ticket:
        cid = conversation["id"]
        number = conversation.get("number")
        return Ticket(
            id=str(cid),
            url=self._conversation_url(cid, number),
            status=str(conversation.get("status", "")),
            customer_id=str((conversation.get("primaryCustomer") or {}).get("id", "")),
        )

    def _conversation_url(self, conversation_id: Any, number: Any = None) -> str:
        suffix = f"/{number}" if number else ""
        return f"{self.web_base_for(self.config)}/conversation/{conversation_id}{suffix}"

    # -- set-up -------------------------------------------------------------------------------
    def _mailbox(self) -> dict[str, Any]:
        wanted = str(self.config.get("mailbox_id") or "").strip()
        mailboxes = list(self._all("/v2/mailboxes", "mailboxes"))
        for mailbox in mailboxes:
            if not wanted or str(mailbox.get("id")) == wanted:
                self.config["mailbox_id"] = str(mailbox["id"])
                return dict(mailbox)
        if wanted:
            raise Rejected(f"Help Scout has no inbox {wanted} that this user can see")
        raise Rejected("this Help Scout account has no inbox")

    def _mailbox_id(self) -> str:
        return str(self.config.get("mailbox_id") or "") or str(self._mailbox()["id"])

    def verify(self) -> Account:
        me = self.http.get("/v2/users/me")
        mailbox = self._mailbox()
        return Account(
            name=str(mailbox.get("name") or "Help Scout"),
            url=self.web_base_for(self.config),
            ids={"mailbox_id": str(mailbox["id"]), "user_id": str(me.get("id", ""))},
        )

    def _mailbox_fields(self, mailbox_id: str) -> dict[str, str]:
        """Our field keys → the ids of the inbox's custom fields named after them."""
        by_name = {
            str(f.get("name", "")).strip().lower(): str(f["id"])
            for f in self._all(f"/v2/mailboxes/{mailbox_id}/fields", "fields")
        }
        return {
            key: by_name[title.lower()] for key, title in ORDER_FIELDS.items() if title.lower() in by_name
        }

    def _field_ids(self) -> dict[str, str]:
        ids = {key: self.config[f"field_{key}"] for key in ORDER_FIELDS if self.config.get(f"field_{key}")}
        if not ids:
            ids = self._mailbox_fields(self._mailbox_id())
            self.config.update({f"field_{key}": value for key, value in ids.items()})
        return ids

    def provision(self, webhook_url: str) -> Provisioned:
        mailbox = self._mailbox()
        mailbox_id = str(mailbox["id"])
        field_ids = self._mailbox_fields(mailbox_id)
        settings = {"mailbox_id": mailbox_id, **{f"field_{key}": value for key, value in field_ids.items()}}
        steps: list[str] = []
        missing = [title for key, title in ORDER_FIELDS.items() if key not in field_ids]
        if missing:
            steps.append(
                f"In Help Scout, open Manage › Inboxes › {mailbox.get('name', 'your inbox')} › Custom Fields "
                "(Plus and Pro plans) and add these single-line text fields, named exactly: "
                + "; ".join(missing)
                + ". Help Scout's API cannot create them. Then run the set-up again to use them."
            )
        webhook_id, secret = self._webhook(webhook_url, int(mailbox_id))
        settings["webhook_id"] = webhook_id
        return Provisioned(settings=settings, secrets={"webhook_secret": secret}, manual_steps=tuple(steps))

    def _webhook(self, url: str, mailbox_id: int) -> tuple[str, str]:
        """The webhook that sends agent replies to `url`: reused when it is ours as it stands,
        updated when its secret is unknown to us or it misses the event, created when absent."""
        known = self.config.get("webhook_secret", "")
        for hook in self._all("/v2/webhooks", "webhooks"):
            if hook.get("url") != url:
                continue
            events = sorted(set(hook.get("events") or []) | set(WEBHOOK_EVENTS))
            listed_secret = hook.get("secret")
            ours = (
                known
                and (listed_secret is None or listed_secret == known)
                and set(WEBHOOK_EVENTS) <= set(hook.get("events") or [])
                and hook.get("state", "enabled") == "enabled"
            )
            if ours:
                return str(hook["id"]), known
            secret = known or webhooks.new_secret()
            self.http.put(
                f"/v2/webhooks/{hook['id']}", json=self._webhook_body(url, events, secret, mailbox_id)
            )
            return str(hook["id"]), secret
        secret = known or webhooks.new_secret()
        body = self._webhook_body(url, list(WEBHOOK_EVENTS), secret, mailbox_id)
        return self._create("/v2/webhooks", body), secret

    @staticmethod
    def _webhook_body(url: str, events: list[str], secret: str, mailbox_id: int) -> dict[str, Any]:
        return {
            "url": url,
            "events": events,
            "secret": secret,
            "payloadVersion": "V2",
            "label": "deskbridge: agent replies to Amazon buyers",
            "mailboxIds": [mailbox_id],
        }

    # -- buyer messages in --------------------------------------------------------------------
    def _find_customer(self, email: str) -> str | None:
        page = self.http.get("/v2/customers", params={"query": f'(email:"{email}")'})
        found = embedded("customers")(page)
        return str(found[0]["id"]) if found else None

    def upsert_customer(self, buyer: Buyer) -> str:
        email = buyer.placeholder_email
        found = self._find_customer(email)
        if found:
            return found
        first, _, last = buyer.display_name.strip().partition(" ")
        body: dict[str, Any] = {
            "firstName": (first or "Amazon")[:40],
            "background": f"Amazon buyer ({buyer.marketplace_id}), through deskbridge."[:200],
            "emails": [{"type": "other", "value": email}],
        }
        if last.strip():
            body["lastName"] = last.strip()[:40]
        try:
            return self._create("/v2/customers", body)
        except Rejected:
            found = self._find_customer(email)  # made a moment ago by another worker
            if found:
                return found
            raise

    def find_thread(self, thread_external_id: str) -> Ticket | None:
        page = self.http.get(
            "/v2/conversations", params={"status": "all", "tag": thread_tag(thread_external_id)}
        )
        found = embedded("conversations")(page)
        return self._ticket(found[-1]) if found else None

    @staticmethod
    def _attachments(message: BuyerMessage) -> list[dict[str, str]]:
        return [
            {
                "fileName": a.filename,
                "mimeType": a.content_type or "application/octet-stream",
                "data": base64.b64encode(a.content).decode(),
            }
            for a in message.attachments
        ]

    def _field_values(self, order: OrderContext) -> list[dict[str, Any]]:
        ids = self._field_ids()
        values = order_fields(order)
        return [{"id": int(ids[key]), "value": values[key][:FIELD_MAX]} for key in ids if values.get(key)]

    def open_thread(
        self, customer_id: str, buyer: Buyer, message: BuyerMessage, order: OrderContext | None
    ) -> Ticket:
        thread: dict[str, Any] = {
            "type": "customer",
            "customer": {"id": int(customer_id)},
            "text": as_html(message.text),
        }
        if message.attachments:
            thread["attachments"] = self._attachments(message)
        body: dict[str, Any] = {
            "subject": message.subject,
            "customer": {"id": int(customer_id)},
            "mailboxId": int(self._mailbox_id()),
            "type": "email",
            "status": "active",
            "threads": [thread],
            "tags": [*message.tags, thread_tag(message.thread_external_id)],
        }
        if order is not None:
            fields = self._field_values(order)
            if fields:
                body["fields"] = fields
        conversation_id = self._create("/v2/conversations", body)
        return Ticket(
            id=conversation_id,
            url=self._conversation_url(conversation_id),
            status="active",
            customer_id=customer_id,
        )

    def _threads(self, ticket_id: str) -> list[dict[str, Any]]:
        return list(self._all(f"/v2/conversations/{ticket_id}/threads", "threads"))

    def append_inbound(self, ticket: Ticket, customer_id: str, buyer: Buyer, message: BuyerMessage) -> str:
        text = as_html(message.text)
        for thread in self._threads(ticket.id):
            if thread.get("type") == "customer" and same_text(str(thread.get("body") or ""), text):
                return str(thread["id"])  # written before, its answer lost
        body: dict[str, Any] = {"customer": {"id": int(customer_id or ticket.customer_id)}, "text": text}
        if message.attachments:
            body["attachments"] = self._attachments(message)
        # Not `imported`: a customer thread re-opens a closed conversation, as a follow-up must.
        return self._create(f"/v2/conversations/{ticket.id}/customer", body)

    def add_note(self, ticket: Ticket, body: str) -> str:
        return self._create(f"/v2/conversations/{ticket.id}/notes", {"text": as_html(body)})

    def set_order_context(self, ticket: Ticket, order: OrderContext) -> None:
        ours = {int(f["id"]): f["value"] for f in self._field_values(order)}
        owned = {int(value) for value in self._field_ids().values()}
        if not owned:
            return  # the inbox has no order fields (provision's manual steps say so)
        conversation = self.http.get(f"/v2/conversations/{ticket.id}")
        kept = [
            {"id": int(f["id"]), "value": str(f.get("value", ""))}
            for f in conversation.get("customFields") or []
            if int(f["id"]) not in owned
        ]
        fields = kept + [{"id": fid, "value": value} for fid, value in ours.items()]
        self.http.put(f"/v2/conversations/{ticket.id}/fields", json={"fields": fields})

    def set_status(self, ticket: Ticket, status: Status) -> None:
        self.http.patch(
            f"/v2/conversations/{ticket.id}",
            json={"op": "replace", "path": "/status", "value": STATUSES[status]},
        )

    # -- agent replies out --------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str:
        return webhooks.verify(self.config.get("webhook_secret", ""), headers, body)

    def read_webhook(self, body: bytes) -> list[AgentReply]:
        """Every published agent reply of the conversation the delivery names. The body (the
        conversation) does not carry the reply's text, so the threads are fetched; replies seen
        before come back too and are dropped by the pipeline's ledger (one OutboundReply per id)."""
        try:
            delivered = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return []
        conversation_id = delivered.get("id") if isinstance(delivered, dict) else None
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            return []  # a test ping or another kind of event
        try:
            threads = self._threads(str(conversation_id))
        except NotFound:
            return []  # deleted since: nothing left to send
        replies = []
        for thread in reversed(threads):  # Help Scout lists newest first
            author = thread.get("createdBy") or {}
            if (
                thread.get("type") != "reply"
                or thread.get("state") != "published"
                or author.get("type") != "user"
            ):
                continue
            markup = str(thread.get("body") or "")
            name = " ".join(str(author.get(k) or "") for k in ("first", "last")).strip()
            replies.append(
                AgentReply(
                    ticket_id=str(conversation_id),
                    message_id=str(thread["id"]),
                    author=name or str(author.get("email") or ""),
                    text=as_text(markup),
                    html=markup,
                    attachments=tuple(
                        ReplyAttachment(
                            url=str(
                                ((a.get("_links") or {}).get("data") or {}).get("href") or a.get("url") or ""
                            ),
                            filename=str(a.get("filename") or "attachment"),
                            content_type=str(a.get("mimeType") or "application/octet-stream"),
                            size=a.get("size"),
                        )
                        for a in (thread.get("_embedded") or {}).get("attachments") or []
                    ),
                    created_at=parse_time(thread.get("createdAt")),
                )
            )
        return replies

    def download(self, attachment: ReplyAttachment) -> bytes:
        """An attachment's bytes: its `data` link answers `{"id", "data": base64}`."""
        answer = self.http.get(attachment.url)
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, str):
            raise Rejected(f"Help Scout attachment {attachment.filename}: no data in the answer")
        return base64.b64decode(data)
