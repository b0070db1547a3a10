"""What the helpdesk emulators keep: records (tickets, users, messages, webhooks …) and rate buckets.

One generic table serves every emulator: a record is a JSON document of the real API's shape, in a
collection of one emulated account. Its primary key is the id the emulated API shows (integers, as
most helpdesks use); `key` indexes the one value an emulator looks records up by (an external id,
an email), so that look-ups stay queries rather than scans.
"""

from __future__ import annotations

from django.db import models


class SandboxHelpdeskRecord(models.Model):
    helpdesk = models.CharField(max_length=20)
    account = models.CharField(max_length=200)  # the emulated account: subdomain, org, token owner
    collection = models.CharField(max_length=50)  # "tickets", "users", "comments" …
    key = models.CharField(max_length=300, blank=True)
    parent = models.BigIntegerField(null=True, blank=True)  # e.g. the ticket of a comment
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["helpdesk", "account", "collection", "key"], name="sandbox_hd_key"),
            models.Index(fields=["helpdesk", "account", "collection", "parent"], name="sandbox_hd_parent"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.helpdesk} {self.collection} {self.pk}"


class SandboxHelpdeskBucket(models.Model):
    """A token bucket of an emulated helpdesk's documented rate limit (per account or per key)."""

    key = models.CharField(max_length=300, unique=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
