"""The pipeline's work rows: what arrived, and what is on its way out."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskbridge.core.tenancy import TenantModel
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
