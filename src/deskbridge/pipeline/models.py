"""The pipeline's work rows: what arrived, and what is on its way out."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskbridge.amazon import marketplaces
from deskbridge.amazon.marketplaces import Marketplace
from deskbridge.core.tenancy import TenantModel, TenantQuerySet
from deskbridge.pipeline.workrows import WorkRow


class InboundMessage(WorkRow):
    """One mail for one forwarding address, exactly as it arrived, stored before we answered 250.

    The pipeline (deskbridge.pipeline.inbound) reads it: classify, parse, dedupe, thread, enrich,
    deliver; each step records what it found here, so a crash resumes where it stopped.
    """

    kind = "inbound message"

    connection = models.ForeignKey(
        "amazon.MarketplaceConnection", null=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    # The SMTP envelope and where it came from.
    mail_from = models.CharField(max_length=998, blank=True)
    rcpt_to = models.CharField(max_length=254)
    peer = models.CharField(max_length=100, blank=True)
    helo = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    # DKIM/SPF/DMARC/ARC verdicts as the receiver found them (deskbridge.mail.authenticity).
    authentication = models.JSONField(default=dict, blank=True)
    # Filled by the pipeline.
    mail_class = models.CharField(max_length=30, blank=True)
    parsed = models.JSONField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)

    class Meta(WorkRow.Meta):
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"inbound message {self.pk}"

    def process(self) -> None:
        from deskbridge.pipeline import inbound

        inbound.process(self)


class OrderShown(models.TextChoices):
    """Whether a conversation's page shows its order (see Conversation.order_shown)."""

    SHOWN = "shown", _("Order details shown")
    UNAVAILABLE = "unavailable", _("Order details unavailable")
    WAITING = "waiting", _("Waiting for order details")
    NO_ORDER = "no_order", _("No order")


class ConversationQuerySet(TenantQuerySet["Conversation"]):
    """What the conversation pages read, in a fixed number of queries however many rows."""

    def for_list(self) -> ConversationQuerySet:
        """With the account, whether the order has data (not the data), and the message count."""
        return (
            self.select_related("account")
            .annotate(
                message_count=models.Count("messages"),
                order_has_data=models.ExpressionWrapper(
                    models.Q(order_snapshot__data__isnull=False), output_field=models.BooleanField()
                ),
                order_problem_detail=models.F("order_snapshot__problem_detail"),
                # A conversation without an order number may be linked to the buyer's order.
                linked_order_id=models.F("order_snapshot__order_id"),
            )
            .order_by("-last_message_at", "-pk")
        )

    def for_page(self) -> ConversationQuerySet:
        """With the account and the order snapshot (what order_context reads)."""
        return self.select_related("account", "order_snapshot")


class Conversation(TenantModel):
    """A buyer's thread with one seller account in one marketplace, about one order (or none yet).

    One conversation is one helpdesk ticket. Pre-sale messages (no order id) thread by the
    buyer's alias alone: Amazon gives each buyer one alias per seller.
    """

    account = models.ForeignKey(
        "amazon.SellerAccount", on_delete=models.CASCADE, related_name="conversations"
    )
    marketplace_id = models.CharField(max_length=20)
    buyer_alias = models.CharField(max_length=254)
    order_id = models.CharField(max_length=19, blank=True)
    buyer_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    # The Amazon order beside the conversation (the enrich step): its cached snapshot, the
    # snapshot's version this conversation shows, and why there are no details when there are none.
    # `order_updated_at` moves whenever that changes: the helpdesk step updates the ticket then.
    order_snapshot = models.ForeignKey(
        "amazon.OrderSnapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    order_version = models.PositiveIntegerField(default=0)
    order_unavailable = models.CharField(max_length=600, blank=True)
    order_updated_at = models.DateTimeField(null=True, blank=True)
    # The helpdesk ticket (the deliver step's ledger, deskbridge.pipeline.deliver): where it is, who
    # the buyer is there, and the order_updated_at whose facts the ticket shows.
    helpdesk = models.ForeignKey(
        "helpdesks.HelpdeskConnection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_id = models.CharField(max_length=100, blank=True)
    ticket_round = models.PositiveSmallIntegerField(default=0)  # follow-up tickets after a closed one
    ticket_url = models.CharField(max_length=500, blank=True)
    helpdesk_customer_id = models.CharField(max_length=100, blank=True)
    ticket_lease_until = models.DateTimeField(null=True, blank=True)  # one worker opens the ticket
    ticket_order_at = models.DateTimeField(null=True, blank=True)
    ticket_order_note = models.CharField(max_length=64, blank=True)  # hash of the last order note

    objects: ClassVar[models.Manager[Conversation]] = ConversationQuerySet.as_manager()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["account", "marketplace_id", "buyer_alias", "order_id"],
                name="one_conversation_per_thread",
            )
        ]
        ordering = ["-last_message_at"]

    def __str__(self) -> str:
        return f"conversation {self.pk}"

    @property
    def marketplace(self) -> Marketplace | None:
        return marketplaces.by_id(self.marketplace_id)

    @property
    def order_shown(self) -> OrderShown:
        """An OrderShown value: the order's details are there, unavailable (the conversation or
        the snapshot says why), still to come, or there is no order to speak of. Reads the
        annotations of `for_list()` when present, else the snapshot itself."""
        if not self.order_id and self.order_snapshot_id is None:
            return OrderShown.NO_ORDER
        if hasattr(self, "order_has_data"):
            has_data, problem = self.order_has_data, getattr(self, "order_problem_detail", "") or ""
        elif self.order_snapshot is not None:
            has_data, problem = self.order_snapshot.data is not None, self.order_snapshot.problem_detail
        else:
            has_data, problem = False, ""
        if has_data:
            return OrderShown.SHOWN
        if self.order_unavailable or problem:
            return OrderShown.UNAVAILABLE
        return OrderShown.WAITING

    @property
    def order_unavailable_reason(self) -> str:
        """Why there are no order details, without the "order details unavailable: " prefix."""
        from deskbridge.pipeline.enrich import UNAVAILABLE

        if self.order_unavailable:
            return self.order_unavailable.removeprefix(UNAVAILABLE.format(""))
        if hasattr(self, "order_problem_detail"):
            return getattr(self, "order_problem_detail", "") or ""
        return self.order_snapshot.problem_detail if self.order_snapshot is not None else ""


class Direction(models.TextChoices):
    BUYER = "buyer", _("From the buyer")
    AGENT = "agent", _("Reply from an agent")
    SELLER_CENTRAL = "seller_central", _("Sent in Seller Central")


class ConversationMessage(TenantModel):
    """One message of a conversation. A message that arrives twice is recorded once."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    inbound = models.OneToOneField(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversation_message"
    )
    direction = models.CharField(max_length=20, choices=Direction.choices)
    message_id = models.CharField(max_length=998, blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    text = models.TextField(blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    # The deliver step's ledger: the helpdesk's id of this message, once it is on the ticket.
    helpdesk_message_id = models.CharField(max_length=100, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "message_id"],
                condition=~models.Q(message_id=""),
                name="one_message_per_message_id",
            )
        ]
        ordering = ["sent_at"]

    def __str__(self) -> str:
        return f"message {self.pk} of conversation {self.conversation_id}"


class WebhookEvent(WorkRow):
    """One signed webhook delivery from a helpdesk, stored as it came (the endpoint answers 200
    only after this commit); the worker reads the agent replies out of it."""

    kind = "helpdesk webhook"

    connection = models.ForeignKey("helpdesks.HelpdeskConnection", on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=200)
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta(WorkRow.Meta):
        constraints = [
            models.UniqueConstraint(fields=["connection", "event_id"], name="one_row_per_webhook_event")
        ]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"webhook event {self.pk}"

    def process(self) -> None:
        from deskbridge.pipeline import replies

        replies.read_webhook_event(self)


class ReplyOutcome(models.TextChoices):
    SENT = "sent", _("Sent to the buyer")
    BLOCKED = "blocked", _("Not sent: against Amazon's rules")
    REFUSED = "refused", _("Refused by Amazon")
    FAILED = "failed", _("Could not be sent")
    UNKNOWN = "unknown", _("Maybe sent: check Seller Central")


class OutboundReply(WorkRow):
    """An agent's public reply in the helpdesk, on its way to the buyer through Amazon's relay.
    One row per helpdesk message id: a webhook delivered twice (or a poll that sees it again)
    finds the row and adds nothing."""

    kind = "agent reply"

    connection = models.ForeignKey("helpdesks.HelpdeskConnection", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    ticket_id = models.CharField(max_length=100)
    helpdesk_message_id = models.CharField(max_length=200)
    author = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    written_at = models.DateTimeField(null=True, blank=True)
    # Sending (deskbridge.pipeline.replies): the message as composed (our Message-ID in it), what
    # the content check found, when the attempt began (recorded before the relay is called, so that a
    # crash after its 250 is noticed), and how it ended.
    outcome = models.CharField(max_length=10, choices=ReplyOutcome.choices, blank=True, db_index=True)
    message_id = models.CharField(max_length=300, blank=True, db_index=True)
    raw = models.BinaryField(null=True, blank=True)
    findings = models.JSONField(default=list, blank=True)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    relay_response = models.CharField(max_length=500, blank=True)
    refusal = models.CharField(max_length=1000, blank=True)

    class Meta(WorkRow.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "helpdesk_message_id"], name="one_reply_per_helpdesk_message"
            )
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"agent reply {self.pk}"

    def process(self) -> None:
        from deskbridge.pipeline import replies

        replies.send(self)
