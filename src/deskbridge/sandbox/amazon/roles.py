"""The SP-API roles each sandbox application holds: what decides which personal data Amazon shows it.

The sandbox application has the roles a helpdesk bridge can justify, and none of the restricted
(PII) roles: Amazon grants those only for shipping, tax invoicing or tax remittance, and deskbridge
must work without buyer names and addresses (amazon.md §3). Tests that need a restricted role
grant it for a while with `granted_roles`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from deskbridge.sandbox.amazon.app import SANDBOX_APP_ID


class Role(StrEnum):
    """Role names as the Solution Provider Portal shows them. Amazon's pages also call the
    Direct-to-Consumer Delivery role "Direct-to-Consumer Shipping"; it is one role."""

    INVENTORY_AND_ORDER_TRACKING = "Inventory and Order Tracking"
    BUYER_COMMUNICATION = "Buyer Communication"
    DIRECT_TO_CONSUMER_DELIVERY = "Direct-to-Consumer Delivery (Restricted)"
    TAX_INVOICING = "Tax Invoicing (Restricted)"
    TAX_REMITTANCE = "Tax Remittance (Restricted)"


TAX_ROLES = frozenset({Role.TAX_INVOICING, Role.TAX_REMITTANCE})

APPLICATION_ROLES: dict[str, frozenset[Role]] = {
    SANDBOX_APP_ID: frozenset({Role.INVENTORY_AND_ORDER_TRACKING, Role.BUYER_COMMUNICATION}),
}


def roles_of(application_id: str) -> frozenset[Role]:
    return APPLICATION_ROLES.get(application_id, frozenset())


@contextmanager
def granted_roles(*roles: Role, application_id: str = SANDBOX_APP_ID) -> Iterator[None]:
    """The application holds these roles as well, until the block ends (as after a role request)."""
    before = APPLICATION_ROLES.get(application_id, frozenset())
    APPLICATION_ROLES[application_id] = before | frozenset(roles)
    try:
        yield
    finally:
        APPLICATION_ROLES[application_id] = before
