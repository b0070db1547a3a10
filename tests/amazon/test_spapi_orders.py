"""The SP-API client's Orders calls against the sandbox over loopback: tokens, endpoints, tenants,
the rate-limit buckets, 429s, errors that are worth retrying and those that are not."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from deskbridge.amazon import lwa, ratelimit
from deskbridge.amazon.models import AccountStatus, SellerAccount
from deskbridge.amazon.spapi import SpApi, SpApiError, Throttled
from deskbridge.sandbox.amazon.models import SandboxSeller
from tests.amazon.orders_support import EU, GET_ORDER, NA, authorize, set_emulator_tokens
from tests.conftest import make_tenant


def test_get_order_asks_once_with_the_accounts_token_at_its_regional_endpoint(
    eu_account, sandbox_orders, wire
):
    order_id = sandbox_orders[EU]["shipped"]
    order = SpApi(eu_account).get_order(order_id)
    assert order.order_id == order_id and order.status == "SHIPPED"
    (request,) = wire.calls()
    assert request.url.path.endswith(f"/spapi/eu/orders/2026-01-01/orders/{order_id}")
    assert request.url.params["includedData"] == "BUYER,RECIPIENT,FULFILLMENT,PACKAGES,PROCEEDS,CANCELLATION"
    assert request.headers["x-amz-access-token"] == eu_account.access_token
    assert request.headers["user-agent"].startswith("deskbridge/")
    assert "cookie" not in request.headers


def test_one_sellers_token_never_travels_with_anothers_call(sandbox_orders, wire):
    eu = authorize(None, organisation=make_tenant().organisation, seller_id=EU)
    na = authorize(None, organisation=make_tenant().organisation, seller_id=NA)
    for _ in range(2):
        SpApi(eu).get_order(sandbox_orders[EU]["unshipped"])
        SpApi(na).get_order(sandbox_orders[NA]["unshipped"])
    requests = wire.calls()
    assert [r.url.path.split("/spapi/")[1][:2] for r in requests] == ["eu", "na", "eu", "na"]
    assert [r.headers["x-amz-access-token"] for r in requests] == [eu.access_token, na.access_token] * 2
    # An order of another seller is not found with this seller's token (and nothing leaks).
    with pytest.raises(SpApiError) as raised:
        SpApi(na).get_order(sandbox_orders[EU]["shipped"])
    assert (raised.value.status, raised.value.code, raised.value.transient) == (404, "NotFound", False)


def test_an_empty_bucket_reserves_the_next_token_instead_of_calling(eu_account, sandbox_orders, wire):
    key = SpApi(eu_account).bucket(GET_ORDER)
    capacity = ratelimit.PLANS[GET_ORDER].capacity
    for _ in range(int(capacity)):
        assert ratelimit.acquire(key) == 0
    with pytest.raises(Throttled) as first:
        SpApi(eu_account).get_order(sandbox_orders[EU]["shipped"])
    with pytest.raises(Throttled) as second:
        SpApi(eu_account).get_order(sandbox_orders[EU]["shipped"])
    assert 1.5 < first.value.wait <= 2.01  # 0.5 requests per second
    assert 3.5 < second.value.wait <= 4.01  # the next token, not the same one
    assert wire.calls() == []
    # A reserved token is spent without asking the bucket again.
    assert SpApi(eu_account).get_order(sandbox_orders[EU]["shipped"], reserved=True).status == "SHIPPED"
    assert wire.throttled() == 0


def test_a_429_empties_our_bucket_and_is_worth_retrying(eu_account, sandbox_orders, wire):
    set_emulator_tokens(EU, 0)
    with pytest.raises(SpApiError) as raised:
        SpApi(eu_account).get_order(sandbox_orders[EU]["shipped"])
    assert (raised.value.status, raised.value.code) == (429, "QuotaExceeded")
    assert raised.value.throttled and raised.value.transient
    tokens, _ = ratelimit.level(SpApi(eu_account).bucket(GET_ORDER))
    assert tokens <= 0.1
    with pytest.raises(Throttled):
        SpApi(eu_account).get_order(sandbox_orders[EU]["shipped"])


def test_amazons_rate_header_replaces_the_documented_rate(eu_account, monkeypatch):
    from tests.amazon.orders_support import watch_the_wire

    wire = watch_the_wire(monkeypatch)
    body = {"errors": [{"code": "NotFound", "message": "The resource specified does not exist."}]}
    wire.fail = lambda request: httpx.Response(404, json=body, headers={"x-amzn-RateLimit-Limit": "2.0"})
    key = SpApi(eu_account).bucket(GET_ORDER)
    assert ratelimit.level(key)[1] == 0.5
    with pytest.raises(SpApiError):
        SpApi(eu_account).get_order("302-0000000-0000000")
    assert ratelimit.level(key)[1] == 2.0
    ratelimit.throttled(key)  # empty now
    assert 0.3 < ratelimit.acquire(key) <= 0.5  # a token every half second now


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (
            lambda r: httpx.Response(503, json={"errors": [{"code": "ServiceUnavailable", "message": "x"}]}),
            503,
        ),
        (lambda r: httpx.Response(500, text="<html>oops</html>"), 500),
        (lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)), 0),
    ],
    ids=["503", "500-html", "timeout"],
)
def test_amazons_failures_and_timeouts_are_transient(eu_account, monkeypatch, answer, status):
    from tests.amazon.orders_support import watch_the_wire

    watch_the_wire(monkeypatch).fail = answer
    with pytest.raises(SpApiError) as raised:
        SpApi(eu_account).get_order("302-0000000-0000000")
    assert raised.value.status == status and raised.value.transient


def test_a_revoked_authorization_is_noticed_on_the_first_refused_call(eu_account, sandbox_orders, wire):
    assert eu_account.access_token_expires_at > timezone.now() + timedelta(minutes=30)  # cached, live
    SandboxSeller.objects.get(selling_partner_id=EU).revoke_app_authorization()
    with pytest.raises(lwa.LwaError) as raised:
        SpApi(eu_account).get_order(sandbox_orders[EU]["shipped"])
    assert raised.value.error == "invalid_grant"
    eu_account.refresh_from_db()
    assert eu_account.status == AccountStatus.NEEDS_REAUTHORIZATION
    assert eu_account.access_token is None  # the refused one is forgotten
    authorize(eu_account)
    assert SellerAccount.objects.get(pk=eu_account.pk).status == AccountStatus.CONNECTED
    assert SpApi(eu_account).get_order(sandbox_orders[EU]["shipped"]).status == "SHIPPED"


def test_search_orders_pages_by_update_time(eu_account, sandbox_orders, wire):
    page = SpApi(eu_account).search_orders(last_updated_after=timezone.now() - timedelta(days=30))
    assert {o.order_id for o in page.orders} == set(sandbox_orders[EU].values())
    assert page.next_token == "" and page.before is not None
    (request,) = wire.calls("searchOrders")
    assert request.url.params["includedData"] == "BUYER,FULFILLMENT"
    # Without the Direct-to-Consumer Delivery role no order shows the buyer's email.
    assert all(o.buyer_email == "" for o in page.orders)
