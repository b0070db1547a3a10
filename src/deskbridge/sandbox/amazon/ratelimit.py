"""SP-API usage plans as token buckets kept in the database, so every process shares them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from deskbridge.sandbox.amazon.models import SandboxRateBucket, SandboxSeller


@dataclass(frozen=True)
class UsagePlan:
    """Rate in requests per second and burst, as an operation's description in the model states."""

    rate: float
    burst: int

    @property
    def header(self) -> str:
        """x-amzn-RateLimit-Limit, written the way the model writes the rate (0.016, 0.5, 2.0)."""
        return repr(self.rate)


def take_token(seller: SandboxSeller, application_id: str, operation: str, plan: UsagePlan) -> bool:
    """Spend one token of the seller+application+operation bucket; False when it is empty."""
    now = timezone.now()
    with transaction.atomic():
        bucket, created = SandboxRateBucket.objects.select_for_update().get_or_create(
            seller=seller,
            application_id=application_id,
            operation=operation,
            defaults={"tokens": float(plan.burst), "updated_at": now},
        )
        if not created:
            elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
            bucket.tokens = min(float(plan.burst), bucket.tokens + elapsed * plan.rate)
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        bucket.updated_at = now
        bucket.save(update_fields=["tokens", "updated_at"])
    return allowed
