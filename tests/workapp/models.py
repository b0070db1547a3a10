"""Concrete models for testing the abstract machinery: a work row with scripted behaviour, a secret."""

from __future__ import annotations

import time
from pathlib import Path

from django.db import models

from deskbridge.core.secrets import EncryptedTextField
from deskbridge.core.tenancy import TenantModel
from deskbridge.pipeline.workrows import WorkRow


class Chore(WorkRow):
    """process() does what `script` says: "ok", "fail" (always raises), "fail-once", or "block"."""

    kind = "chore"
    script = models.CharField(max_length=20, default="ok")
    # Every start of process() appends a line here, so tests can count attempts from outside.
    trace_path = models.CharField(max_length=500, blank=True)

    def process(self) -> None:
        if self.trace_path:
            with Path(self.trace_path).open("a") as trace:
                trace.write(f"start {self.pk} attempt {self.attempts}\n")
        if self.script == "fail" or (self.script == "fail-once" and self.attempts == 1):
            raise RuntimeError("scripted failure")
        if self.script == "block" and self.attempts == 1:
            time.sleep(3600)  # the test kills the worker while it sits here
        Effect.objects.get_or_create(chore=self)


class Effect(models.Model):
    """The one side effect a Chore has; unique per chore, as a real step's external id would be."""

    chore = models.OneToOneField(Chore, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"effect of chore {self.chore_id}"


class Vault(TenantModel):
    label = models.CharField(max_length=50)
    secret = EncryptedTextField(null=True)
