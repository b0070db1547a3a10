"""Amazon wants a new authorization every 365 days: remind the people who can give it, in time."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from deskbridge.amazon.models import AUTHORIZATION_LIFETIME, REMIND_BEFORE, SellerAccount
from deskbridge.core import jobs
from deskbridge.core.logs import get_logger
from deskbridge.core.models import Membership, Role

log = get_logger(__name__)
# Days before expiry at which a reminder goes out (each once per authorization).
REMIND_AT = (30, 7, 1)


def due_stage(days_left: int) -> int | None:
    """The smallest reminder stage that `days_left` has reached, e.g. 12 days → 30, 6 → 7."""
    reached = [stage for stage in REMIND_AT if days_left <= stage]
    return min(reached) if reached else None


@jobs.periodic(minute="17")
def remind_expiring_authorizations() -> int:
    """Email owners and admins when an account's authorization reaches 30, 7 and 1 days left."""
    window_start = timezone.now() - (AUTHORIZATION_LIFETIME - REMIND_BEFORE)
    sent = 0
    candidates = SellerAccount.objects.filter(
        disconnected_at__isnull=True, authorized_at__lte=window_start
    ).select_related("organisation")
    for account in candidates:
        stage = due_stage(max(account.days_left or 0, 0))
        if stage is None or (account.expiry_reminded_at_days and account.expiry_reminded_at_days <= stage):
            continue
        updated = SellerAccount.objects.filter(
            pk=account.pk, expiry_reminded_at_days=account.expiry_reminded_at_days
        ).update(expiry_reminded_at_days=stage)
        if updated:  # another worker did not get there first
            _send(account)
            sent += 1
    return sent


def _send(account: SellerAccount) -> None:
    link = settings.PUBLIC_URL + reverse("amazon_account", args=[account.pk])
    managers = Membership.objects.filter(
        organisation_id=account.organisation_id, role__in=[Role.OWNER, Role.ADMIN]
    ).select_related("user")
    for membership in managers:
        user = membership.user
        with translation.override(user.language or settings.LANGUAGE_CODE):
            context = {"account": account, "days": account.days_left, "link": link}
            subject = render_to_string("amazon/reminder_subject.txt", context).strip()
            body = render_to_string("amazon/reminder_email.txt", context)
        send_mail(subject, body, None, [user.email])
    log.info("authorization reminder sent", account=account.pk, days_left=account.days_left)
