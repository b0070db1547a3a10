"""Conversation pages: the organisation's buyer conversations, and one with its order beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from deskbridge.amazon.models import AccountStatus, OrderProblem
from deskbridge.amazon.orders import OrderContext, Package
from deskbridge.core.tenancy import TenantRequest, scoped
from deskbridge.pipeline.enrich import order_context
from deskbridge.pipeline.models import (
    Conversation,
    ConversationMessage,
    ConversationQuerySet,
    Direction,
    OrderShown,
    OutboundReply,
    ReplyOutcome,
)
from deskbridge.pipeline.workrows import WorkState
from deskbridge.web.replies import WAITING, rule_title

PAGE_SIZE = 25

# Orders API v2026-01-01 fulfillment statuses, as the page names them.
ORDER_STATUSES: dict[str, Promise] = {
    "PENDING_AVAILABILITY": _("Pending availability"),
    "PENDING": _("Pending (payment not confirmed)"),
    "UNSHIPPED": _("Unshipped"),
    "PARTIALLY_SHIPPED": _("Partially shipped"),
    "SHIPPED": _("Shipped"),
    "CANCELLED": _("Cancelled"),
    "UNFULFILLABLE": _("Unfulfillable"),
}

# Package statuses (detailedStatus first), as the page names them.
PACKAGE_STATUSES: dict[str, Promise] = {
    "DELIVERED": _("delivered"),
    "IN_TRANSIT": _("in transit"),
    "OUT_FOR_DELIVERY": _("out for delivery"),
    "PICKED_UP": _("picked up"),
    "SHIPPED": _("shipped"),
    "UNDELIVERABLE": _("undeliverable"),
    "RETURNING_TO_SELLER": _("returning to the seller"),
}

# What the pipeline's flags on a message mean to an agent; `warn` ones are highlighted.
MESSAGE_FLAGS: dict[str, Promise] = {
    "unparsed": _("unparsed"),
    "parser_error": _("could not be read"),
    "empty_text": _("no text"),
    "html_only": _("HTML only"),
    "quoted_history_removed": _("quoted history removed"),
    "no_end_marker": _("end of message not found"),
    "marketplace_mismatch": _("marketplace differs from the address"),
    "amazon_authentication_failed": _("failed Amazon's authentication"),
    "amazon_authentication_unchecked": _("Amazon's authentication not checked"),
    "order-unavailable": _("sent on without order details"),
}
WARNING_FLAGS = frozenset(
    {"unparsed", "parser_error", "amazon_authentication_failed", "marketplace_mismatch"}
)


# Why Amazon did not deliver a reply (deskbridge.amazon.mail.FailureReason), as the page says it.
REFUSAL_REASONS: dict[str, Promise] = {
    "opted_out": _(
        "The buyer opted out of messages that are not needed to complete the order: reply in the "
        "buyer's own thread and only about the order."
    ),
    "unauthorized_sender": _(
        "Amazon does not accept mail from this marketplace's forwarding address yet: approve it in "
        "Seller Central under Messaging Permissions, then send the reply again."
    ),
    "content_rejected": _(
        "Amazon found something its messaging guidelines do not allow: remove it and send the reply again."
    ),
    "account_restricted": _("Amazon restricted this seller account's messages: check Account Health."),
    "auth_failed": _(
        "Amazon could not verify that the reply came from your domain (SPF, DKIM or DMARC): an "
        "administrator should run deskbridge doctor."
    ),
    "unknown_recipient": _(
        "The buyer's address is no longer valid: answer from the order's page in Seller Central."
    ),
    "unknown": _("Amazon did not say why: check Buyer-Seller Messages in Seller Central."),
}


@dataclass(frozen=True)
class Finding:
    rule: str
    title: str
    excerpt: str


@dataclass(frozen=True)
class ReplyStatus:
    """What became of an agent's reply, and why, for its badge and the box under it."""

    key: str  # a ReplyOutcome value, or "waiting"
    label: str
    reason: str = ""  # in the page's language
    detail: str = ""  # the words of Amazon or its mail server, as they came
    blocking: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def went_wrong(self) -> bool:
        return self.key in (ReplyOutcome.BLOCKED, ReplyOutcome.REFUSED, ReplyOutcome.FAILED)


def reply_status(reply: OutboundReply) -> ReplyStatus:
    findings = [f for f in reply.findings or [] if isinstance(f, dict)]
    found = {
        severity: [
            Finding(f.get("rule", ""), rule_title(f.get("rule", "")), f.get("excerpt", ""))
            for f in findings
            if f.get("severity") == severity
        ]
        for severity in ("block", "warn")
    }
    common: dict[str, Any] = {"blocking": found["block"], "warnings": found["warn"]}
    if reply.outcome == ReplyOutcome.REFUSED:
        code, _sep, detail = reply.refusal.partition(": ")
        reason = REFUSAL_REASONS.get(code, REFUSAL_REASONS["unknown"])
        return ReplyStatus(reply.outcome, str(ReplyOutcome.REFUSED.label), str(reason), detail, **common)
    if reply.outcome == ReplyOutcome.BLOCKED:
        reason = _("It breaks Amazon's messaging rules: edit the reply in the helpdesk and send it again.")
        return ReplyStatus(reply.outcome, str(ReplyOutcome.BLOCKED.label), str(reason), **common)
    if reply.outcome == ReplyOutcome.FAILED:
        reason = _("Amazon's mail server refused it.")
        return ReplyStatus(
            reply.outcome, str(ReplyOutcome.FAILED.label), str(reason), reply.refusal, **common
        )
    if reply.outcome == ReplyOutcome.UNKNOWN:
        reason = _(
            "deskbridge stopped while handing it to Amazon: check Buyer-Seller Messages in Seller Central "
            "and send it again only if it is not there."
        )
        return ReplyStatus(reply.outcome, str(ReplyOutcome.UNKNOWN.label), str(reason), **common)
    if reply.outcome == ReplyOutcome.SENT:
        return ReplyStatus(reply.outcome, str(ReplyOutcome.SENT.label), **common)
    if reply.state == WorkState.FAILED:
        reason = _("deskbridge gave up after several attempts.")
        return ReplyStatus(
            ReplyOutcome.FAILED, str(ReplyOutcome.FAILED.label), str(reason), reply.last_error, **common
        )
    return ReplyStatus(WAITING, str(_("Waiting to be sent")), **common)


@dataclass(frozen=True)
class ThreadEntry:
    """One item of the thread: a recorded message, an agent's reply, or both (a reply that went)."""

    at: datetime
    direction: str
    direction_label: str
    text: str
    message: ConversationMessage | None = None
    flags: list[Flag] = field(default_factory=list)
    reply: OutboundReply | None = None
    status: ReplyStatus | None = None


@dataclass(frozen=True)
class Flag:
    code: str
    label: str
    warn: bool


def flags_of(message: ConversationMessage) -> list[Flag]:
    codes = message.inbound.flags if message.inbound is not None else []
    return [
        Flag(code, str(MESSAGE_FLAGS.get(code, code.replace("_", " "))), code in WARNING_FLAGS)
        for code in codes
    ]


def conversations(request: TenantRequest) -> ConversationQuerySet:
    return cast(ConversationQuerySet, scoped(request, Conversation))


@login_required
def conversation_list(request: TenantRequest) -> HttpResponse:
    rows = conversations(request).for_list()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "conversations/list.html", {"page": page, "shown": OrderShown})


@login_required
def conversation_detail(request: TenantRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(conversations(request).for_page(), pk=pk)
    order = order_context(conversation)
    snapshot = conversation.order_snapshot
    needs_reauthorization = bool(order and order.unavailable) and (
        conversation.account.status == AccountStatus.NEEDS_REAUTHORIZATION
        or (snapshot is not None and snapshot.problem == OrderProblem.AUTHORIZATION)
    )
    return render(
        request,
        "conversations/detail.html",
        {
            "conversation": conversation,
            "thread": thread(conversation),
            "order": order,
            "order_status": status_label(order),
            "shipments": [(p, package_status(p)) for p in order.shipments] if order else [],
            "needs_reauthorization": needs_reauthorization,
            "shown": OrderShown,
        },
    )


def thread(conversation: Conversation) -> list[ThreadEntry]:
    """The conversation's messages and its agents' replies, oldest first, in two queries however many.

    A reply that went out is also a message of the conversation (same Message-ID): it is shown once,
    with its outcome (a refusal comes later). Replies that never went (blocked, failed, waiting)
    are shown where the agent wrote them."""
    from deskbridge.pipeline.replies import text_of

    replies = list(conversation.replies.defer("raw", "attachments").order_by("created_at", "pk"))
    by_message_id = {r.message_id: r for r in replies if r.message_id}
    entries: list[ThreadEntry] = []
    shown: set[int] = set()
    messages = conversation.messages.select_related("inbound").defer("inbound__raw", "inbound__parsed")
    for message in messages:
        reply = by_message_id.get(message.message_id) if message.direction == Direction.AGENT else None
        if reply is not None:
            shown.add(reply.pk)
        entries.append(
            ThreadEntry(
                at=message.sent_at,
                direction=message.direction,
                direction_label=message.get_direction_display(),
                text=message.text,
                message=message,
                flags=flags_of(message),
                reply=reply,
                status=reply_status(reply) if reply is not None else None,
            )
        )
    for reply in replies:
        if reply.pk not in shown:
            entries.append(
                ThreadEntry(
                    at=reply.written_at or reply.created_at,
                    direction=Direction.AGENT,
                    direction_label=str(Direction.AGENT.label),
                    text=text_of(reply),
                    reply=reply,
                    status=reply_status(reply),
                )
            )
    return sorted(entries, key=lambda e: e.at)


def package_status(package: Package) -> str:
    code = package.detailed_status or package.status
    return str(PACKAGE_STATUSES.get(code, code.replace("_", " ").lower()))


def status_label(order: OrderContext | None) -> str:
    if order is None or not order.status:
        return ""
    return str(ORDER_STATUSES.get(order.status, order.status.replace("_", " ").title()))
