"""An organisation's connection to its helpdesk: settings, encrypted secrets, and health."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskbridge.core.secrets import EncryptedTextField
from deskbridge.core.tenancy import TenantModel
from deskbridge.helpdesks import registry
from deskbridge.helpdesks.base import Account, Connector, Provisioned


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)


class Health(models.TextChoices):
    UNVERIFIED = "unverified", _("Not checked yet")
    HEALTHY = "healthy", _("Working")
    FAILING = "failing", _("Needs attention")


class HelpdeskConnection(TenantModel):
    """One helpdesk account an organisation delivers to (one per kind).

    `settings` holds what is not secret (the subdomain, ids that `provision` created); `secrets`
    holds the credentials and signing secrets as one JSON object, encrypted at rest. The webhook
    URL carries `webhook_token`, an opaque per-connection name: the endpoint finds the connection by
    it, then checks the delivery's signature with the connection's secret.
    """

    kind = models.CharField(max_length=30)
    settings = models.JSONField(default=dict, blank=True)
    secrets = EncryptedTextField(default="{}")
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token)
    account_name = models.CharField(max_length=200, blank=True)
    account_url = models.CharField(max_length=500, blank=True)
    manual_steps = models.JSONField(default=list, blank=True)
    health = models.CharField(max_length=20, choices=Health.choices, default=Health.UNVERIFIED)
    problem = models.CharField(max_length=600, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    rejected_webhooks = models.PositiveIntegerField(default=0)
    last_rejection = models.CharField(max_length=300, blank=True)
    last_rejected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["organisation", "kind"], name="one_helpdesk_per_kind")]
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.kind} connection {self.pk}"

    @classmethod
    def connect(
        cls, organisation: Any, kind: str, config: Mapping[str, str], secret_names: set[str]
    ) -> HelpdeskConnection:
        """Connect (or reconnect) the organisation's helpdesk of this kind: verify the credentials,
        provision what delivery needs, then save. Raises HelpdeskError with nothing saved when the
        helpdesk refuses. No transaction is held while the helpdesk is called (on SQLite it would
        stop every other writer, the SMTP receiver's included)."""
        connection = cls.objects.filter(organisation=organisation, kind=kind).first() or cls(
            organisation=organisation, kind=kind
        )
        connection.set_config(config, secret_names)
        connection.record_verified(connection.connector().verify())
        # Again, with the ids verify found.
        connection.record_provisioned(connection.connector().provision(connection.webhook_url))
        connection.save()
        return connection

    @property
    def webhook_url(self) -> str:
        """Where the helpdesk sends agent replies (deskbridge.web.webhooks)."""
        return settings.PUBLIC_URL + reverse("helpdesk_webhook", args=[self.kind, self.webhook_token])

    @property
    def helpdesk(self) -> registry.Helpdesk:
        return registry.BY_KIND[self.kind]

    def secret_values(self) -> dict[str, str]:
        try:
            data = json.loads(self.secrets or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def config(self) -> dict[str, str]:
        return {**{k: str(v) for k, v in self.settings.items()}, **self.secret_values()}

    def connector(self) -> Connector:
        return registry.connector_class(self.kind)(self.config(), save_secrets=self.keep_secrets)

    def keep_secrets(self, values: Mapping[str, str]) -> None:
        """Store secrets that changed while a connector worked (a refreshed OAuth token)."""
        merged = {**self.secret_values(), **values}
        self.secrets = json.dumps(merged)
        type(self).objects.filter(pk=self.pk).update(secrets=self.secrets)

    def set_config(self, config: Mapping[str, Any], secret_names: set[str]) -> None:
        self.settings = {**self.settings, **{k: v for k, v in config.items() if k not in secret_names}}
        self.secrets = json.dumps(
            {**self.secret_values(), **{k: v for k, v in config.items() if k in secret_names}}
        )

    def record_verified(self, account: Account) -> None:
        self.account_name, self.account_url = account.name, account.url
        # Ids fill in; they never replace what the user typed (a field of the connect form).
        typed = {f.name for f in registry.connector_class(self.kind).fields}
        found = {k: v for k, v in account.ids.items() if k not in typed or not self.settings.get(k)}
        self.settings = {**self.settings, **found}
        self.record_health(None)

    def record_provisioned(self, provisioned: Provisioned) -> None:
        self.settings = {**self.settings, **dict(provisioned.settings)}
        self.secrets = json.dumps({**self.secret_values(), **dict(provisioned.secrets)})
        self.manual_steps = list(provisioned.manual_steps)

    def record_health(self, problem: str | None) -> None:
        """Working (None) or needing attention (the helpdesk's reason), as of now."""
        self.health = Health.FAILING if problem else Health.HEALTHY
        self.problem = (problem or "")[:600]
        self.checked_at = timezone.now()
        if self.pk:
            type(self).objects.filter(pk=self.pk).update(
                health=self.health, problem=self.problem, checked_at=self.checked_at
            )

    def record_rejected_webhook(self, reason: str) -> None:
        now = timezone.now()
        type(self).objects.filter(pk=self.pk).update(
            rejected_webhooks=models.F("rejected_webhooks") + 1,
            last_rejection=reason[:300],
            last_rejected_at=now,
        )
