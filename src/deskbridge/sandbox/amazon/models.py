"""The sandbox Amazon's state: sellers and their users, issued OAuth codes and tokens, quotas, settings."""

from __future__ import annotations

import base64
import hashlib

from django.contrib.auth.hashers import check_password
from django.db import models, transaction
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.sandbox.amazon.app import SANDBOX_APP_ID


def token_digest(token: str) -> str:
    """Codes and tokens are stored as SHA-256 digests: the database never holds a usable one."""
    return hashlib.sha256(token.encode()).hexdigest()


class SandboxSeller(models.Model):
    """A selling partner account in one region, as Seller Central and the Sellers API know it."""

    selling_partner_id = models.CharField(max_length=14, unique=True)
    region = models.CharField(max_length=2, choices=[(r.value, r.value) for r in marketplaces.Region])
    store_name = models.CharField(max_length=100)
    business_name = models.CharField(max_length=200)
    business_name_non_latin = models.CharField(max_length=200, blank=True)
    business_type = models.CharField(max_length=30, default="PRIVATE_LIMITED")
    selling_plan = models.CharField(max_length=20, default="PROFESSIONAL")
    company_registration_number = models.CharField(max_length=50, blank=True)
    address_line1 = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    state_or_province_code = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20)
    country_code = models.CharField(max_length=2)
    primary_contact_name = models.CharField(max_length=200)

    class Meta:
        ordering = ["selling_partner_id"]

    def __str__(self) -> str:
        return f"{self.store_name} ({self.selling_partner_id})"

    @transaction.atomic
    def revoke_app_authorization(self, application_id: str = SANDBOX_APP_ID) -> int:
        """Like removing the app in Seller Central's Manage Your Apps: every refresh token (and the
        access tokens made from them) stops working at once. Returns how many refresh tokens died."""
        now = timezone.now()
        live = SandboxRefreshToken.objects.filter(
            seller=self, application_id=application_id, revoked_at__isnull=True
        )
        SandboxAccessToken.objects.filter(refresh_token__in=live, revoked_at__isnull=True).update(
            revoked_at=now
        )
        return live.update(revoked_at=now)

    def authorized_application_ids(self) -> list[str]:
        return sorted(
            set(self.refresh_tokens.filter(revoked_at__isnull=True).values_list("application_id", flat=True))
        )


class SandboxSellerUser(models.Model):
    """Someone who signs in to a seller's Seller Central: the primary account owner, or a user
    the owner added (who may not authorize apps)."""

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="users")
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    password = models.CharField(max_length=200)  # a Django password hash
    is_owner = models.BooleanField(default=False)
    phone_last_digits = models.CharField(max_length=4)

    class Meta:
        ordering = ["seller", "-is_owner", "email"]

    def __str__(self) -> str:
        return self.email

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)


class SandboxParticipation(models.Model):
    """A marketplace in the seller's region, and whether the seller sells there."""

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="participations")
    marketplace_id = models.CharField(max_length=20)
    is_participating = models.BooleanField(default=True)
    has_suspended_listings = models.BooleanField(default=False)
    default_currency_code = models.CharField(max_length=3)
    default_language_code = models.CharField(max_length=10)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "marketplace_id"], name="sandbox_participation_once")
        ]

    def __str__(self) -> str:
        return f"{self.seller_id}:{self.marketplace_id}"

    @property
    def marketplace(self) -> marketplaces.Marketplace:
        found = marketplaces.by_id(self.marketplace_id)
        if found is None:
            raise LookupError(f"marketplace {self.marketplace_id} is not in the catalog")
        return found


class SandboxAuthorizationCode(models.Model):
    """An spapi_oauth_code handed to the app's redirect URI: single use, five minutes."""

    code_digest = models.CharField(max_length=64, unique=True)
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="+")
    application_id = models.CharField(max_length=100)
    redirect_uri = models.CharField(max_length=2000)
    issued_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.seller_id} ({'used' if self.used_at else 'unused'})"


class SandboxRefreshToken(models.Model):
    """An LWA refresh token (Atzr|…) for one seller and one application, until revoked."""

    token_digest = models.CharField(max_length=64, unique=True)
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="refresh_tokens")
    application_id = models.CharField(max_length=100)
    issued_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token of {self.seller_id} for {self.application_id}"


class SandboxAccessToken(models.Model):
    """An LWA access token (Atza|…): one hour, for the refresh token's seller and application."""

    token_digest = models.CharField(max_length=64, unique=True)
    refresh_token = models.ForeignKey(SandboxRefreshToken, on_delete=models.CASCADE, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"access token until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class SandboxRateBucket(models.Model):
    """A token bucket of the SP-API usage plan, per seller, application and operation."""

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="+")
    application_id = models.CharField(max_length=100)
    operation = models.CharField(max_length=100)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "application_id", "operation"], name="sandbox_rate_bucket_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} of {self.seller_id}: {self.tokens:.2f}"


class NotificationKind(models.TextChoices):
    BUYER_MESSAGES = "buyer_messages", "Buyer Messages"
    DELIVERY_FAILURES = "delivery_failures", "Delivery Failures"


class SandboxNotificationPreference(models.Model):
    """Notification Preferences → Messaging: one notification type in one marketplace (locale)."""

    seller = models.ForeignKey(
        SandboxSeller, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    marketplace_id = models.CharField(max_length=20)
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    enabled = models.BooleanField(default=False)
    addresses = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "marketplace_id", "kind"], name="sandbox_notification_preference_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} in {self.marketplace_id}"


class SandboxApprovedSender(models.Model):
    """Messaging Permissions: an address the seller approved to send buyer messages from."""

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="approved_senders")
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPROVED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "email"], name="sandbox_approved_sender_once")
        ]

    def __str__(self) -> str:
        return self.email


def approved_senders(selling_partner_id: str) -> set[str]:
    """The addresses Amazon's relay accepts replies from, for one seller (lower-cased)."""
    return {
        email.lower()
        for email in SandboxApprovedSender.objects.filter(
            seller__selling_partner_id=selling_partner_id, status=SandboxApprovedSender.Status.APPROVED
        ).values_list("email", flat=True)
    }


def notification_addresses(selling_partner_id: str, marketplace_id: str, kind: str) -> list[str]:
    """Where Amazon sends one kind of notification for a seller's marketplace ([] when opted out)."""
    preference = SandboxNotificationPreference.objects.filter(
        seller__selling_partner_id=selling_partner_id, marketplace_id=marketplace_id, kind=kind, enabled=True
    ).first()
    return list(preference.addresses) if preference else []


class FulfillmentStatus(models.TextChoices):
    """An order's status as Orders v2026-01-01 spells it (v0 has its own spelling, e.g. Canceled)."""

    PENDING_AVAILABILITY = "PENDING_AVAILABILITY"
    PENDING = "PENDING"
    UNSHIPPED = "UNSHIPPED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"
    UNFULFILLABLE = "UNFULFILLABLE"


class FulfilledBy(models.TextChoices):
    AMAZON = "AMAZON"
    MERCHANT = "MERCHANT"


class SandboxOrder(models.Model):
    """An order as Amazon keeps it, personal data included; the Orders APIs decide what a caller sees.

    The columns are what searches filter on; `details` holds the rest in the shape of Orders
    v2026-01-01's Order (every section filled), plus a "v0" object with what only v0 reports."""

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="orders")
    order_id = models.CharField(max_length=19, unique=True)
    marketplace_id = models.CharField(max_length=20)
    created_time = models.DateTimeField(db_index=True)
    last_updated_time = models.DateTimeField(db_index=True)
    fulfillment_status = models.CharField(max_length=30, choices=FulfillmentStatus.choices)
    fulfilled_by = models.CharField(max_length=10, choices=FulfilledBy.choices)
    buyer_email = models.EmailField(db_index=True)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_time", "order_id"]

    def __str__(self) -> str:
        return self.order_id


class SandboxRestrictedDataToken(models.Model):
    """A Restricted Data Token (Atz.sprdt|…): one hour, for the listed resources of one seller."""

    token_digest = models.CharField(max_length=64, unique=True)
    refresh_token = models.ForeignKey(SandboxRefreshToken, on_delete=models.CASCADE, related_name="+")
    # [{"method": "GET", "path": "/orders/v0/orders/{orderId}/address", "dataElements": [...]}, …]
    resources = models.JSONField(default=list)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"restricted data token until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class SandboxBuyerAlias(models.Model):
    """A buyer's relay alias (amazon.md §12.2): one per buyer and seller, at one marketplace's relay
    domain. The relay delivers to known aliases only, and checks the sender against that seller."""

    alias = models.CharField(max_length=254, unique=True)  # lower-case, without a "+<case id>" part
    selling_partner_id = models.CharField(max_length=30)
    marketplace_id = models.CharField(max_length=20)
    # The buyer opted out of unsolicited seller messages (amazon.md §12.12).
    opted_out = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alias"]
        verbose_name_plural = "sandbox buyer aliases"

    def __str__(self) -> str:
        return self.alias

    @staticmethod
    def normalise(address: str) -> str:
        """alias+case@domain → alias@domain, lower-case: the "+<case id>" still reaches the buyer."""
        local, _, domain = address.strip().strip("<>").lower().rpartition("@")
        return f"{local.partition('+')[0]}@{domain}"

    @classmethod
    def remember(cls, alias: str, selling_partner_id: str, marketplace_id: str) -> SandboxBuyerAlias:
        found, _ = cls.objects.get_or_create(
            alias=cls.normalise(alias),
            defaults={"selling_partner_id": selling_partner_id, "marketplace_id": marketplace_id},
        )
        return found

    @classmethod
    def find(cls, address: str) -> SandboxBuyerAlias | None:
        """The alias an address reaches: one a buyer message came from, or a sandbox order's buyer."""
        alias = cls.normalise(address)
        found = SandboxBuyerAlias.objects.filter(alias=alias).first()
        if found is None:
            order = SandboxOrder.objects.select_related("seller").filter(buyer_email__iexact=alias).first()
            if order is not None:
                found = SandboxBuyerAlias.remember(
                    alias, order.seller.selling_partner_id, order.marketplace_id
                )
        return found

    @classmethod
    def set_opted_out(cls, address: str, opted_out: bool = True) -> SandboxBuyerAlias:
        """Mark a buyer as opted out of unsolicited messages (or back in); LookupError if unknown."""
        found = cls.find(address)
        if found is None:
            raise LookupError(f"{address} is not a buyer alias the sandbox Amazon knows")
        if found.opted_out != opted_out:
            found.opted_out = opted_out
            found.save(update_fields=["opted_out"])
        return found

    @property
    def marketplace(self) -> marketplaces.Marketplace | None:
        return marketplaces.by_id(self.marketplace_id)


class SandboxRelayMessage(models.Model):
    """A message the sandbox relay accepted at SMTP for one buyer alias, exactly as received, and
    whether it reached the buyer or was refused afterwards (with a delivery-failure notice)."""

    class Status(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        REFUSED = "refused", "Refused"

    class Reason(models.TextChoices):
        # The same codes as deskbridge.amazon.mail.FailureReason.
        UNAUTHORIZED_SENDER = "unauthorized_sender", "Unauthorized sender"
        OPTED_OUT = "opted_out", "Buyer opted out"
        CONTENT_REJECTED = "content_rejected", "Content not allowed"

    mail_from = models.CharField(max_length=998, blank=True)
    rcpt_to = models.CharField(max_length=998)
    raw = models.BinaryField()
    subject = models.CharField(max_length=998, blank=True)
    selling_partner_id = models.CharField(max_length=30)
    marketplace_id = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    notice_to = models.CharField(max_length=998, blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    notice_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.status} message to {self.rcpt_to}"

    def as_json(self) -> dict[str, object]:
        """The outbox entry: the envelope and the whole message as received (text; base64 beside
        it when the bytes are not UTF-8)."""
        data = bytes(self.raw)
        entry: dict[str, object] = {
            "id": self.pk,
            "mail_from": self.mail_from,
            "rcpt_to": self.rcpt_to,
            "raw": data.decode("utf-8", errors="replace"),
            "status": self.status,
            "reason": self.reason,
            "received_at": self.received_at.isoformat(),
        }
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            entry["raw_base64"] = base64.b64encode(data).decode("ascii")
        return entry
