"""Connected Amazon seller accounts, their marketplaces, forwarding addresses and consent round-trips."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskbridge.amazon import marketplaces
from deskbridge.amazon.marketplaces import REGION_LABELS, Marketplace, Region
from deskbridge.core.secrets import EncryptedTextField
from deskbridge.core.tenancy import TenantModel

AUTHORIZATION_LIFETIME = timedelta(days=365)
REMIND_BEFORE = timedelta(days=30)
SILENT_AFTER = timedelta(days=7)
STATE_LIFETIME = timedelta(minutes=10)
REGION_CHOICES = [(r.value, REGION_LABELS[r]) for r in Region]


class AccountStatus(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    EXPIRING = "expiring", _("Authorization expires soon")
    NEEDS_REAUTHORIZATION = "needs_reauthorization", _("Needs re-authorization")
    DISCONNECTED = "disconnected", _("Disconnected")


class SellerAccount(TenantModel):
    """One Seller Central authorization: a selling partner in one region (NA, EU or FE)."""

    selling_partner_id = models.CharField(_("seller ID"), max_length=32)
    region = models.CharField(_("region"), max_length=2, choices=REGION_CHOICES)
    store_name = models.CharField(_("store name"), max_length=200, blank=True)
    refresh_token = EncryptedTextField(null=True, blank=True)
    access_token = EncryptedTextField(null=True, blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    # Set when Amazon refuses our refresh token (invalid_grant): the seller must authorize again.
    authorization_error = models.CharField(max_length=200, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    # The last expiry reminder sent for this authorization (30, 7 or 1 days before); None: none yet.
    expiry_reminded_at_days = models.PositiveSmallIntegerField(null=True, blank=True)
    helpdesk_kind = models.CharField(_("helpdesk"), max_length=30, blank=True)
    helpdesk_channel = models.CharField(_("helpdesk channel or brand"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["selling_partner_id", "region"],
                condition=Q(disconnected_at__isnull=True),
                name="one_live_authorization_per_seller_region",
            )
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.store_name or self.selling_partner_id

    @property
    def region_enum(self) -> Region:
        return Region(self.region)

    @property
    def expires_at(self) -> Any:
        return self.authorized_at + AUTHORIZATION_LIFETIME if self.authorized_at else None

    @property
    def days_left(self) -> int | None:
        return None if self.expires_at is None else (self.expires_at - timezone.now()).days

    @property
    def status(self) -> str:
        if self.disconnected_at:
            return AccountStatus.DISCONNECTED
        if self.authorization_error or not self.refresh_token or timezone.now() >= self.expires_at:
            return AccountStatus.NEEDS_REAUTHORIZATION
        if timezone.now() >= self.expires_at - REMIND_BEFORE:
            return AccountStatus.EXPIRING
        return AccountStatus.CONNECTED

    def get_status_display(self) -> str:
        return str(AccountStatus(self.status).label)

    def store_authorization(self, refresh_token: str, access_token: str, expires_in: int) -> None:
        now = timezone.now()
        self.refresh_token = refresh_token
        self.access_token = access_token
        self.access_token_expires_at = now + timedelta(seconds=expires_in)
        self.authorized_at = now
        self.authorization_error = ""
        self.expiry_reminded_at_days = None
        self.disconnected_at = None

    def disconnect(self) -> None:
        """Forget every token; the row stays so its history (and addresses) can be shown."""
        self.refresh_token = self.access_token = None
        self.access_token_expires_at = None
        self.disconnected_at = timezone.now()
        self.save()


class AddressStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for the first message")
    RECEIVING = "receiving", _("Receiving")
    SILENT = "silent", _("No message for more than 7 days")


class MarketplaceConnection(TenantModel):
    """A marketplace of a connected account, and the address Amazon forwards its messages to."""

    account = models.ForeignKey(SellerAccount, on_delete=models.CASCADE, related_name="marketplaces")
    marketplace_id = models.CharField(max_length=20)
    # From the Sellers API: None until it answered; False warns that the seller does not sell there.
    participating = models.BooleanField(null=True)
    suspended_listings = models.BooleanField(default=False)
    # Stored lower-case, so the unique index makes addresses unique case-insensitively.
    forwarding_address = models.CharField(_("forwarding address"), max_length=254, unique=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["account", "marketplace_id"], name="one_connection_per_marketplace"
            )
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.forwarding_address

    @property
    def marketplace(self) -> Marketplace:
        found = marketplaces.by_id(self.marketplace_id)
        assert found is not None, self.marketplace_id
        return found

    @property
    def address_status(self) -> str:
        if self.last_message_at is None:
            return AddressStatus.WAITING
        if timezone.now() - self.last_message_at > SILENT_AFTER:
            return AddressStatus.SILENT
        return AddressStatus.RECEIVING

    def get_address_status_display(self) -> str:
        return str(AddressStatus(self.address_status).label)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.forwarding_address = self.forwarding_address.strip().lower()
        super().save(*args, **kwargs)


def default_forwarding_address(marketplace: Marketplace, selling_partner_id: str) -> str:
    """amz-<country>-<marketplace id>-<seller id>@<inbound domain>, lower-case.

    If that address is taken (the seller was connected to another organisation before, which
    keeps its addresses), a number is added: amz-de-…-a2…-2@….
    """
    local = f"amz-{marketplace.country_code}-{marketplace.id}-{selling_partner_id}".lower()
    candidate, n = local, 1
    while MarketplaceConnection.objects.filter(
        forwarding_address=f"{candidate}@{settings.INBOUND_DOMAIN}"
    ).exists():
        n += 1
        candidate = f"{local}-{n}"
    return f"{candidate}@{settings.INBOUND_DOMAIN}"


BINDING_KEY = "amazon_authorization_binding"


def session_binding(session: Any) -> str:
    """A random value kept in the browser's session (it survives session-key rotation at log-in)."""
    if not session.get(BINDING_KEY):
        session[BINDING_KEY] = secrets.token_urlsafe(32)
    return str(session[BINDING_KEY])


def _fingerprint(binding: str) -> str:
    return hashlib.sha256(binding.encode()).hexdigest()


class AuthorizationRequest(TenantModel):
    """One consent round-trip: the OAuth `state`, bound to a user's session, short-lived, used once."""

    state = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_fingerprint = models.CharField(max_length=64)
    region = models.CharField(max_length=2, choices=REGION_CHOICES)
    marketplace_ids = models.JSONField(default=list)
    helpdesk_kind = models.CharField(max_length=30, blank=True)
    helpdesk_channel = models.CharField(max_length=200, blank=True)
    # Set when re-authorizing an account that exists.
    account = models.ForeignKey(
        SellerAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"authorization request {self.pk}"

    @classmethod
    def start(cls, *, organisation: Any, user: Any, session: Any, **fields: Any) -> AuthorizationRequest:
        return cls.objects.create(
            organisation=organisation,
            user=user,
            session_fingerprint=_fingerprint(session_binding(session)),
            state=secrets.token_urlsafe(32),
            **fields,
        )

    def belongs_to(self, user: Any, session: Any) -> bool:
        binding = session.get(BINDING_KEY)
        return (
            self.user_id == user.pk
            and bool(binding)
            and secrets.compare_digest(self.session_fingerprint, _fingerprint(binding))
        )

    @property
    def expired(self) -> bool:
        return timezone.now() - self.created_at > STATE_LIFETIME

    def use(self) -> bool:
        """Mark the state used; False if it already was (a replayed redirect)."""
        taken = type(self).objects.filter(pk=self.pk, used_at__isnull=True).update(used_at=timezone.now())
        return bool(taken)

    @property
    def marketplace_list(self) -> list[Marketplace]:
        return [m for m in (marketplaces.by_id(i) for i in self.marketplace_ids) if m is not None]


class RateBucket(models.Model):
    """One SP-API token bucket on our side (deskbridge.amazon.ratelimit), when Redis does not hold them.

    `key` names the seller, region, application and operation; `tokens` below zero are tokens
    reserved for postponed calls; `rate` is set when Amazon's x-amzn-RateLimit-Limit differs from
    the documented one."""

    key = models.CharField(max_length=200, unique=True)
    tokens = models.FloatField()
    stamp = models.FloatField()  # seconds since the epoch when `tokens` was computed
    rate = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.2f}"


class OrderProblem(models.TextChoices):
    NONE = "", _("Available")
    TRANSIENT = "transient", _("Amazon did not answer in time")
    AUTHORIZATION = "authorization", _("The account needs re-authorization")
    NOT_FOUND = "not_found", _("Amazon does not know the order")
    REFUSED = "refused", _("Amazon refused the request")


class OrderSnapshot(TenantModel):
    """One Amazon order of one seller account as Orders API v2026-01-01 last returned it.

    Every conversation about the order shares it, so that many messages cost one call. The row is
    also how fetches coalesce: `lease_until` is held by the one worker fetching it (claimed like a
    work row), `reserved_at` is the time a rate-limit token was reserved for its next fetch, and
    `next_fetch_at` the backoff after a failure. `version` grows whenever what an agent would see
    changes (new data, or a new reason why there is none)."""

    account = models.ForeignKey(SellerAccount, on_delete=models.CASCADE, related_name="order_snapshots")
    order_id = models.CharField(max_length=19)
    marketplace_id = models.CharField(max_length=20, blank=True)
    # The Order object of getOrder, with the personal data the application's roles show (no more).
    data = models.JSONField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    problem = models.CharField(max_length=20, choices=OrderProblem.choices, blank=True)
    problem_detail = models.CharField(max_length=500, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    next_fetch_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    reserved_at = models.DateTimeField(null=True, blank=True)
    # Set while a conversation waits for (newer) data; the background refresh looks for these.
    wanted_since = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        constraints = [models.UniqueConstraint(fields=["account", "order_id"], name="one_snapshot_per_order")]

    def __str__(self) -> str:
        return f"order {self.order_id}"


class BuyerOrder(TenantModel):
    """An order of the account and the buyer's relay alias, as searchOrders showed them: how a
    message without an order number finds its order (deskbridge.amazon.buyers)."""

    account = models.ForeignKey(SellerAccount, on_delete=models.CASCADE, related_name="buyer_orders")
    buyer_alias = models.CharField(max_length=254, db_index=True)  # lower-case
    order_id = models.CharField(max_length=19)
    created_time = models.DateTimeField()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["account", "order_id"], name="one_buyer_order_per_order")
        ]
        ordering = ["-created_time"]

    def __str__(self) -> str:
        return f"order {self.order_id}"


class OrderSearch(TenantModel):
    """Where the account's searchOrders stands: at most one call per plan interval, each one
    starting where the last complete search ended (`covered_until`), or at its next page."""

    account = models.OneToOneField(SellerAccount, on_delete=models.CASCADE, related_name="order_search")
    searched_at = models.DateTimeField(null=True, blank=True)
    covered_until = models.DateTimeField(null=True, blank=True)
    page_token = models.TextField(blank=True)
    # Whether Amazon shows buyer emails to this application (the Direct-to-Consumer Delivery role):
    # None until a search answered with an order that could show one.
    emails_visible = models.BooleanField(null=True)
    # Set while a conversation without an order number waits for a search.
    wanted_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"order search of {self.account_id}"


class ReplyPolicy(TenantModel):
    """How hard each of Amazon's content rules is enforced on an organisation's replies: a rule set to
    "block" stops the reply, "warn" sends it and tells the agent (amazon.md §13.3). One row per
    organisation; rules it does not name follow `relay.DEFAULT_POLICY`."""

    rules = models.JSONField(_("rules"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="one_reply_policy_per_organisation")
        ]
        verbose_name = _("reply policy")
        verbose_name_plural = _("reply policies")

    def __str__(self) -> str:
        return f"reply policy of organisation {self.organisation_id}"

    def effective_rules(self) -> dict[str, str]:
        """DEFAULT_POLICY with this row's valid choices over it; unknown rules and values are ignored."""
        from deskbridge.amazon.relay import DEFAULT_POLICY, SEVERITIES

        rules = dict(DEFAULT_POLICY)
        if isinstance(self.rules, dict):
            rules.update({k: v for k, v in self.rules.items() if k in DEFAULT_POLICY and v in SEVERITIES})
        return rules

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from deskbridge.amazon.relay import DEFAULT_POLICY, SEVERITIES

        if not isinstance(self.rules, dict):
            raise ValidationError({"rules": _("Rules must map a rule to “block” or “warn”.")})
        for rule, severity in self.rules.items():
            if rule not in DEFAULT_POLICY:
                raise ValidationError({"rules": _("Unknown rule: %(rule)s.") % {"rule": rule}})
            if severity not in SEVERITIES:
                raise ValidationError(
                    {"rules": _("The rule %(rule)s must be “block” or “warn”.") % {"rule": rule}}
                )

    @classmethod
    def rules_for(cls, organisation: Any) -> dict[str, str]:
        """The rules an organisation's replies are checked with: its own choices, else Amazon's defaults."""
        policy = cls.objects.for_org(organisation).first()
        if policy is None:
            from deskbridge.amazon.relay import DEFAULT_POLICY

            return dict(DEFAULT_POLICY)
        return policy.effective_rules()
