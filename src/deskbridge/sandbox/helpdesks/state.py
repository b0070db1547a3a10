"""Plumbing the helpdesk emulators share: their records, rate limits and webhook deliveries."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx
from django.db import transaction
from django.utils import timezone

from deskbridge.core.logs import get_logger
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskBucket, SandboxHelpdeskRecord

log = get_logger(__name__)


class Records:
    """The records of one emulated account of one helpdesk."""

    def __init__(self, helpdesk: str, account: str) -> None:
        self.helpdesk, self.account = helpdesk, account

    def _all(self, collection: str) -> Any:
        return SandboxHelpdeskRecord.objects.filter(
            helpdesk=self.helpdesk, account=self.account, collection=collection
        )

    def create(
        self, collection: str, data: dict[str, Any], key: str = "", parent: int | None = None
    ) -> SandboxHelpdeskRecord:
        return SandboxHelpdeskRecord.objects.create(
            helpdesk=self.helpdesk,
            account=self.account,
            collection=collection,
            key=key,
            parent=parent,
            data=data,
        )

    def get(self, collection: str, pk: Any) -> SandboxHelpdeskRecord | None:
        try:
            return self._all(collection).filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            return None

    def find(self, collection: str, key: str) -> SandboxHelpdeskRecord | None:
        return self._all(collection).filter(key=key).first() if key else None

    def children(self, collection: str, parent: int) -> list[SandboxHelpdeskRecord]:
        return list(self._all(collection).filter(parent=parent))

    def all(self, collection: str) -> list[SandboxHelpdeskRecord]:
        return list(self._all(collection))

    def accounts(self) -> list[str]:
        return sorted(
            set(
                SandboxHelpdeskRecord.objects.filter(helpdesk=self.helpdesk).values_list("account", flat=True)
            )
        )


def take_token(key: str, requests: int, seconds: float) -> float:
    """Spend a token of a bucket holding `requests` and refilling them over `seconds`: 0.0 when
    there was one, else the seconds until one is due (the emulator answers 429 with that)."""
    now = timezone.now()
    rate = requests / seconds
    with transaction.atomic():
        bucket, created = SandboxHelpdeskBucket.objects.select_for_update().get_or_create(
            key=key, defaults={"tokens": float(requests), "updated_at": now}
        )
        if not created:
            elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
            bucket.tokens = min(float(requests), bucket.tokens + elapsed * rate)
        wait = 0.0
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
        else:
            wait = (1.0 - bucket.tokens) / rate
        bucket.updated_at = now
        bucket.save(update_fields=["tokens", "updated_at"])
    return wait


def fire_webhook(url: str, body: bytes, headers: Mapping[str, str], attempts: int = 3) -> None:
    """POST a webhook the way a helpdesk does: after the change is committed, from elsewhere (a
    thread, so that the request that caused it is not held), retried a few times on failure."""

    def deliver() -> None:
        for attempt in range(attempts):
            try:
                response = httpx.post(url, content=body, headers=dict(headers), timeout=10)
                log.info("sandbox webhook delivered", url=url, status=response.status_code)
                if response.status_code < 500:
                    return
            except httpx.HTTPError as exc:
                log.info("sandbox webhook failed", url=url, error=exc.__class__.__name__)
            time.sleep(0.5 * 2**attempt)

    transaction.on_commit(lambda: threading.Thread(target=deliver, daemon=True).start())
