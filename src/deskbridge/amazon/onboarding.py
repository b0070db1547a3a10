"""Connecting a seller: finish the consent round-trip, store the tokens, learn the marketplaces."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q

from deskbridge.amazon import buyers, lwa, marketplaces
from deskbridge.amazon.models import (
    AuthorizationRequest,
    MarketplaceConnection,
    OrderProblem,
    OrderSearch,
    OrderSnapshot,
    SellerAccount,
    default_forwarding_address,
)
from deskbridge.amazon.spapi import SpApi, SpApiError
from deskbridge.core import jobs
from deskbridge.core.logs import get_logger

log = get_logger(__name__)


class AuthorizationProblem(Exception):
    """The consent round-trip cannot finish; `kind` names the page that explains it."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind)
        self.kind, self.detail = kind, detail


@dataclass
class Connected:
    account: SellerAccount
    not_participating: list[str] = field(default_factory=list)  # marketplace ids
    sellers_api_error: str = ""


def check_callback(request_obj: AuthorizationRequest | None, user: object, session: object) -> None:
    """Refuse a callback whose state is unknown, someone else's, stale, or already used."""
    if request_obj is None:
        raise AuthorizationProblem("unknown_state")
    if not request_obj.belongs_to(user, session):
        raise AuthorizationProblem("foreign_state")
    if request_obj.used_at is not None:
        raise AuthorizationProblem("used_state")
    if request_obj.expired:
        raise AuthorizationProblem("expired_state")


def complete(request_obj: AuthorizationRequest, code: str, selling_partner_id: str) -> Connected:
    """Exchange the code, store the authorization, then ask the Sellers API where the seller sells."""
    if not request_obj.use():
        raise AuthorizationProblem("used_state")
    if request_obj.account and request_obj.account.selling_partner_id != selling_partner_id:
        raise AuthorizationProblem("other_seller", request_obj.account.selling_partner_id)
    taken = SellerAccount.objects.filter(
        selling_partner_id=selling_partner_id, region=request_obj.region, disconnected_at__isnull=True
    ).exclude(organisation_id=request_obj.organisation_id)
    if taken.exists():
        raise AuthorizationProblem("taken")
    try:
        tokens = lwa.exchange_code(code)
    except lwa.LwaError as exc:
        log.warning("authorization code refused", error=exc.error, status=exc.status)
        raise AuthorizationProblem(
            "expired_code" if exc.error == "invalid_grant" else "lwa", exc.error
        ) from exc

    try:
        with transaction.atomic():
            account = (
                request_obj.account
                or SellerAccount.objects.filter(
                    organisation_id=request_obj.organisation_id,
                    selling_partner_id=selling_partner_id,
                    region=request_obj.region,
                    disconnected_at__isnull=True,
                ).first()
                or SellerAccount(
                    organisation_id=request_obj.organisation_id,
                    selling_partner_id=selling_partner_id,
                    region=request_obj.region,
                )
            )
            account.store_authorization(tokens.refresh_token, tokens.access_token, tokens.expires_in)
            if request_obj.helpdesk_kind:
                account.helpdesk_kind = request_obj.helpdesk_kind
                account.helpdesk_channel = request_obj.helpdesk_channel
            account.save()
            add_marketplaces(account, request_obj.marketplace_ids)
    except IntegrityError as exc:  # another organisation connected the same seller a moment ago
        raise AuthorizationProblem("taken") from exc
    wake_orders_waiting_for_a_token(account)
    return confirm_marketplaces(account)


# What snapshots.fetch records when Login with Amazon could not give an access token (transient).
LWA_UNANSWERED = "Login with Amazon"


def wake_orders_waiting_for_a_token(account: SellerAccount) -> tuple[int, int]:
    """The account has fresh tokens: fetch now the orders that waited for a usable one, and wake
    the messages postponed for them, rather than at the next periodic pass or backoff.

    Returns (orders fetched again, messages woken)."""
    from deskbridge.pipeline import enrich  # the pipeline builds on this app, not the other way
    from deskbridge.pipeline.models import InboundMessage
    from deskbridge.pipeline.workrows import WorkState, wake_now

    token_problems = Q(problem=OrderProblem.AUTHORIZATION) | Q(
        problem=OrderProblem.TRANSIENT, problem_detail__startswith=LWA_UNANSWERED
    )
    waiting = OrderSnapshot.objects.filter(token_problems, account=account)
    pks = list(waiting.values_list("pk", flat=True))
    # The backoff was for the token, which is there now.
    OrderSnapshot.objects.filter(pk__in=pks).update(next_fetch_at=None, reserved_at=None)
    wanted = list(
        OrderSnapshot.objects.filter(pk__in=pks, wanted_since__isnull=False).values_list("pk", flat=True)
    )
    for pk in wanted:
        jobs.enqueue(enrich.REFRESH_JOB, pk)
    messages = list(
        InboundMessage.objects.filter(
            state=WorkState.RETRY, conversation_message__conversation__order_snapshot__in=pks
        ).values_list("pk", flat=True)
    )
    woken = wake_now(InboundMessage, messages)
    search = OrderSearch.objects.filter(account=account, wanted_since__isnull=False).first()
    if search is not None and buyers.search_due(search):
        jobs.enqueue(enrich.SEARCH_JOB, account.pk)
    if wanted or woken:
        log.info("orders waiting for a token woken", account=account.pk, orders=len(wanted), messages=woken)
    return len(wanted), woken


def add_marketplaces(account: SellerAccount, marketplace_ids: list[str]) -> list[MarketplaceConnection]:
    """Add marketplaces of the account's region (no new authorization needed), each with its address."""
    added = []
    for marketplace_id in marketplace_ids:
        marketplace = marketplaces.by_id(marketplace_id)
        if marketplace is None or marketplace.region != account.region_enum:
            continue
        connection, _ = MarketplaceConnection.objects.get_or_create(
            account=account,
            marketplace_id=marketplace.id,
            defaults={
                "organisation_id": account.organisation_id,
                "forwarding_address": default_forwarding_address(marketplace, account.selling_partner_id),
            },
        )
        added.append(connection)
    return added


def confirm_marketplaces(account: SellerAccount) -> Connected:
    """Sellers API: record where the seller participates and the store name. Failure only warns."""
    result = Connected(account)
    try:
        participations = {p.marketplace_id: p for p in SpApi(account).marketplace_participations()}
    except (SpApiError, lwa.LwaError) as exc:
        log.warning("marketplace participations unavailable", error=str(exc))
        result.sellers_api_error = str(exc)
        return result
    names = {p.store_name for p in participations.values() if p.store_name}
    if names and not account.store_name:
        account.store_name = sorted(names)[0]
        account.save(update_fields=["store_name"])
    for connection in account.marketplaces.all():
        found = participations.get(connection.marketplace_id)
        connection.participating = bool(found and found.is_participating)
        connection.suspended_listings = bool(found and found.has_suspended_listings)
        connection.save(update_fields=["participating", "suspended_listings"])
        if not connection.participating:
            result.not_participating.append(connection.marketplace_id)
    return result
