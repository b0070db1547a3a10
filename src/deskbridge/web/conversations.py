"""Conversation pages: the organisation's buyer conversations, and one with its order beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

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
from deskbridge.pipeline.models import Conversation, ConversationMessage, ConversationQuerySet, OrderShown

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
    messages = [
        (message, flags_of(message))
        for message in conversation.messages.select_related("inbound").defer(
            "inbound__raw", "inbound__parsed"
        )
    ]
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
            "messages_with_flags": messages,
            "order": order,
            "order_status": status_label(order),
            "shipments": [(p, package_status(p)) for p in order.shipments] if order else [],
            "needs_reauthorization": needs_reauthorization,
            "shown": OrderShown,
        },
    )


def package_status(package: Package) -> str:
    code = package.detailed_status or package.status
    return str(PACKAGE_STATUSES.get(code, code.replace("_", " ").lower()))


def status_label(order: OrderContext | None) -> str:
    if order is None or not order.status:
        return ""
    return str(ORDER_STATUSES.get(order.status, order.status.replace("_", " ").title()))
