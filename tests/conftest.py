"""Shared fixtures: organisations with people in them, and logged-in clients."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from django.test import Client

from deskbridge.core.models import Membership, Organisation, Role, User

PASSWORD = "correct horse battery staple 42"
_serial = itertools.count(1)


@dataclass
class Tenant:
    organisation: Organisation
    owner: User
    admin: User
    agent: User

    def client(self, role: str = Role.OWNER) -> Client:
        client = Client()
        client.force_login(getattr(self, role))
        return client


def make_tenant(name: str | None = None) -> Tenant:
    n = next(_serial)
    organisation = Organisation.objects.create(name=name or f"Shop {n}")
    people = {}
    for role in (Role.OWNER, Role.ADMIN, Role.AGENT):
        user = User.objects.create_user(f"{role}{n}@example.com", PASSWORD)
        Membership.objects.create(organisation=organisation, user=user, role=role)
        people[str(role)] = user
    return Tenant(organisation, **people)


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant()


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant()
