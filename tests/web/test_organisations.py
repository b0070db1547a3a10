"""Belonging to several organisations, or to none; the dashboard's Amazon reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deskbridge.amazon.models import SellerAccount
from deskbridge.core.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db


def test_someone_in_no_organisation_is_offered_to_start_one(tenant):
    client = tenant.client(Role.AGENT)
    Membership.objects.filter(user=tenant.agent).delete()
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("new_organisation")
    page = client.get(reverse("new_organisation")).content.decode()
    assert "You are not a member of any organisation" in page

    created = client.post(reverse("new_organisation"), {"name": "Agent's Own Shop"})
    assert created.status_code == 302
    organisation = Organisation.objects.get(name="Agent's Own Shop")
    assert organisation.memberships.get().role == Role.OWNER
    assert "Agent&#x27;s Own Shop" in client.get(reverse("dashboard")).content.decode()


def test_the_header_offers_a_switch_only_with_several_organisations(tenant, other_tenant):
    client = tenant.client()
    assert 'id="organisation-switch"' not in client.get(reverse("dashboard")).content.decode()
    Membership.objects.create(organisation=other_tenant.organisation, user=tenant.owner, role=Role.AGENT)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'id="organisation-switch"' in page and other_tenant.organisation.name in page

    client.post(reverse("switch_organisation"), {"organisation": other_tenant.organisation.pk})
    page = client.get(reverse("dashboard")).content.decode()
    assert f'<p class="lead">{other_tenant.organisation.name}</p>' in page


def test_the_dashboard_asks_for_reauthorization_when_it_is_due(tenant):
    client = tenant.client()
    account = SellerAccount.objects.create(
        organisation=tenant.organisation,
        selling_partner_id="A2SNDBXEU00001",
        region="EU",
        store_name="Lindqvist Home",
        refresh_token="Atzr|x",
        authorized_at=timezone.now() - timedelta(days=100),
    )
    assert "needs a new Amazon authorization" not in client.get(reverse("dashboard")).content.decode()
    SellerAccount.objects.filter(pk=account.pk).update(authorization_error="invalid_grant")
    page = client.get(reverse("dashboard")).content.decode()
    assert "Lindqvist Home needs a new Amazon authorization" in page
    assert reverse("amazon_account", args=[account.pk]) in page
    SellerAccount.objects.filter(pk=account.pk).update(
        authorization_error="", authorized_at=timezone.now() - timedelta(days=350)
    )
    assert (
        "The Amazon authorization of Lindqvist Home ends in 14 days."
        in client.get(reverse("dashboard")).content.decode()
    )
