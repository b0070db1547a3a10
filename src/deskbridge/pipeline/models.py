"""The pipeline's work rows: what arrived, and what is on its way out."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

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
