"""Authorization expiry: reminders at 30, 7 and 1 days, each once; status on the account."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from deskbridge.amazon.models import SellerAccount
from deskbridge.amazon.reminders import due_stage, remind_expiring_authorizations

pytestmark = pytest.mark.django_db


SELLERS = itertools.count(1)


def account_with_days_left(tenant, days: float) -> SellerAccount:
    return SellerAccount.objects.create(
        organisation=tenant.organisation,
        selling_partner_id=f"A2SELLER{next(SELLERS):06d}",
        region="EU",
        refresh_token="Atzr|x",
        authorized_at=timezone.now() - timedelta(days=365 - days),
    )


@pytest.mark.parametrize(("days", "stage"), [(45, None), (30, 30), (12, 30), (7, 7), (3, 7), (1, 1), (0, 1)])
def test_the_stage_reached(days, stage):
    assert due_stage(days) == stage


def test_owners_and_admins_are_reminded_once_per_stage(tenant):
    account = account_with_days_left(tenant, 20.5)
    assert remind_expiring_authorizations() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([tenant.owner.email, tenant.admin.email])
    assert "20 days" in mail.outbox[0].subject
    assert f"/amazon/{account.pk}/" in mail.outbox[0].body
    assert remind_expiring_authorizations() == 0  # not again at the same stage

    SellerAccount.objects.filter(pk=account.pk).update(authorized_at=timezone.now() - timedelta(days=359))
    assert remind_expiring_authorizations() == 1  # the 7-day reminder
    assert len(mail.outbox) == 4


def test_no_reminder_far_from_expiry_or_after_disconnecting(tenant):
    account_with_days_left(tenant, 100)
    gone = account_with_days_left(tenant, 5)
    gone.disconnect()
    assert remind_expiring_authorizations() == 0
    assert mail.outbox == []


def test_status_follows_the_year(tenant):
    assert account_with_days_left(tenant, 200).status == "connected"
    assert account_with_days_left(tenant, 10).status == "expiring"
    expired = account_with_days_left(tenant, -1)
    assert expired.status == "needs_reauthorization"
    refused = account_with_days_left(tenant, 200)
    refused.authorization_error = "invalid_grant"
    assert refused.status == "needs_reauthorization"


def test_a_reminder_speaks_the_users_language(tenant):
    tenant.owner.language = "zh-hans"
    tenant.owner.save()
    account_with_days_left(tenant, 20.5)
    remind_expiring_authorizations()
    chinese = next(m for m in mail.outbox if m.to == [tenant.owner.email])
    english = next(m for m in mail.outbox if m.to == [tenant.admin.email])
    assert chinese.subject != english.subject
