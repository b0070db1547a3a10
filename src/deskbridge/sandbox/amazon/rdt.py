"""Restricted Data Tokens (amazon.md §3): which resources are restricted, issuing RDTs and checking them.

A restricted resource is an HTTP method, a path and (for getOrder and getOrderItems) the kinds of
personal data wanted. The sandbox knows the restricted operations it serves, the Orders v0
fallbacks; the path names one order, or every order of the seller with the generic `{orderId}`
segment (as the model's own examples do). An RDT is issued for one seller and application, lasts
one hour, dies with the seller's authorization, and opens only the resources it lists.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from deskbridge.sandbox.amazon.models import (
    SandboxAccessToken,
    SandboxRestrictedDataToken,
    token_digest,
)
from deskbridge.sandbox.amazon.roles import TAX_ROLES, Role, roles_of
from deskbridge.sandbox.amazon.tokens import TokenProblem

RDT_PREFIX = "Atz.sprdt|"
RDT_SECONDS = 3600  # the model's expiresIn
MAX_RESOURCES = 50  # the model: "Maximum: 50"
GENERIC_ORDER = "{orderId}"
DATA_ELEMENTS = ("buyerInfo", "shippingAddress", "buyerTaxInformation")
# Roles that make a data element or an operation's data visible (amazon.md §3; developer docs,
# "Get authorization to access PII for bulk orders": shipping address needs Direct-to-Consumer
# Delivery, buyer information Tax Remittance or Tax Invoicing).
ELEMENT_ROLES: dict[str, frozenset[Role]] = {
    "buyerInfo": TAX_ROLES,
    "shippingAddress": frozenset({Role.DIRECT_TO_CONSUMER_DELIVERY}),
    "buyerTaxInformation": frozenset({Role.TAX_INVOICING}),
}


@dataclass(frozen=True)
class RestrictedOperation:
    """An operation whose data needs an RDT: its path after /orders/v0/orders/{orderId}."""

    name: str
    suffix: str
    data_elements: tuple[str, ...]  # the dataElements it takes (and then requires); () for none
    roles: frozenset[Role] = frozenset()  # for operations without dataElements: any one of these

    def path(self, order: str = GENERIC_ORDER) -> str:
        return f"/orders/v0/orders/{order}{self.suffix}"


RESTRICTED_OPERATIONS = (
    RestrictedOperation("getOrder", "", DATA_ELEMENTS),
    RestrictedOperation("getOrderItems", "/orderItems", ("buyerInfo",)),
    RestrictedOperation("getOrderAddress", "/address", (), frozenset({Role.DIRECT_TO_CONSUMER_DELIVERY})),
    RestrictedOperation("getOrderBuyerInfo", "/buyerInfo", (), TAX_ROLES),
)
_ORDER_PATH = re.compile(r"/orders/v0/orders/(?P<order>[^/?#]+)(?P<suffix>/[A-Za-z]+)?")


class ResourceError(ValueError):
    """A restrictedResources entry the Tokens API refuses; the message says why."""


class RoleError(ValueError):
    """The application lacks a role that the requested data needs."""


def restricted_operation(path: str) -> tuple[RestrictedOperation, str] | None:
    """The restricted operation a path belongs to, and the order it names (or GENERIC_ORDER)."""
    match = _ORDER_PATH.fullmatch(path)
    if match is None:
        return None
    suffix = match.group("suffix") or ""
    operation = next((op for op in RESTRICTED_OPERATIONS if op.suffix == suffix), None)
    return (operation, match.group("order")) if operation else None


def check_resource(resource: Any, index: int, application_id: str) -> dict[str, Any]:
    """One restrictedResources entry, checked against the model and the application's roles."""
    where = f"restrictedResources[{index}]"
    if not isinstance(resource, dict):
        raise ResourceError(f"{where} must be an object with method, path and (for some paths) dataElements.")
    unknown = sorted(set(resource) - {"method", "path", "dataElements"})
    if unknown:
        raise ResourceError(f"{where} has properties the model does not define: {', '.join(unknown)}.")
    for required in ("method", "path"):
        if required not in resource:
            raise ResourceError(f"{where}.{required} is required.")
    method, path = resource["method"], resource["path"]
    if not isinstance(method, str) or method not in ("GET", "PUT", "POST", "DELETE"):
        raise ResourceError(f"{where}.method must be one of GET, PUT, POST, DELETE.")
    if not isinstance(path, str) or not path:
        raise ResourceError(f"{where}.path must be a resource path such as /orders/v0/orders/{{orderId}}.")
    found = restricted_operation(path)
    if found is None:
        served = ", ".join(op.path() for op in RESTRICTED_OPERATIONS)
        raise ResourceError(
            f"{where}.path {path} is not a restricted resource of the sandbox; it serves: {served}."
        )
    operation, _order = found
    if method != "GET":
        raise ResourceError(f"{where}: {operation.name} ({path}) is called with GET, not {method}.")
    elements = resource.get("dataElements")
    if operation.data_elements:
        if elements is None:
            raise ResourceError(
                f"{where}.dataElements is required for {operation.name}: "
                f"one or more of {', '.join(operation.data_elements)}."
            )
        if not isinstance(elements, list) or not elements or not all(isinstance(e, str) for e in elements):
            raise ResourceError(f"{where}.dataElements must be a non-empty list of strings.")
        wrong = [e for e in elements if e not in operation.data_elements]
        if wrong:
            raise ResourceError(
                f"{where}.dataElements {', '.join(wrong)} not valid for {operation.name}; "
                f"use {', '.join(operation.data_elements)}."
            )
    elif elements is not None:
        raise ResourceError(
            f"{where}.dataElements applies only to getOrder and getOrderItems, not {operation.name}."
        )
    roles = roles_of(application_id)
    for needed in [ELEMENT_ROLES[e] for e in elements or ()] + ([operation.roles] if operation.roles else []):
        if not roles & needed:
            raise RoleError(
                f"{where} needs one of the roles {', '.join(sorted(needed))}, which the application "
                f"does not have."
            )
    checked: dict[str, Any] = {"method": method, "path": path}
    if elements is not None:
        checked["dataElements"] = sorted(set(elements))
    return checked


def issue_restricted_data_token(access_token: SandboxAccessToken, resources: Iterable[dict[str, Any]]) -> str:
    """A new RDT for the access token's seller and application, for the (checked) resources."""
    token = RDT_PREFIX + secrets.token_urlsafe(64)
    now = timezone.now()
    SandboxRestrictedDataToken.objects.create(
        token_digest=token_digest(token),
        refresh_token=access_token.refresh_token,
        resources=list(resources),
        issued_at=now,
        expires_at=now + timedelta(seconds=RDT_SECONDS),
    )
    return token


def find_restricted_data_token(token: str) -> SandboxRestrictedDataToken | TokenProblem:
    row = (
        SandboxRestrictedDataToken.objects.select_related("refresh_token__seller")
        .filter(token_digest=token_digest(token))
        .first()
    )
    if row is None or row.refresh_token.revoked_at is not None:
        return TokenProblem.INVALID
    if timezone.now() >= row.expires_at:
        return TokenProblem.EXPIRED
    return row


def granted_elements(rdt: SandboxRestrictedDataToken, method: str, path: str) -> frozenset[str] | None:
    """The dataElements the RDT grants for this request (empty for operations that take none),
    or None when it does not list the resource at all."""
    found = restricted_operation(path)
    if found is None:
        return None
    operation, order = found
    granted: set[str] | None = None
    for resource in rdt.resources:
        listed = restricted_operation(resource["path"])
        if resource["method"] != method or listed is None or listed[0] != operation:
            continue
        if listed[1] in (order, GENERIC_ORDER):
            granted = (granted or set()) | set(resource.get("dataElements", ()))
    return None if granted is None else frozenset(granted)
