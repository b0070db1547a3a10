"""What happens to an inbound message, step by step (DESIGN.md §2). Each step is idempotent."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskbridge.pipeline.models import InboundMessage


def process(message: InboundMessage) -> None:
    """Classify, parse, dedupe and thread the message (enrich and deliver join in later issues)."""
