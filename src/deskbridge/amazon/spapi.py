"""The Selling Partner API client: one thin httpx client, used for one seller account at a time
(reference: amazon.md §2, §6, §7).

Every call carries the account's own LWA access token (cached on the account, refreshed early by
deskbridge.amazon.lwa) and goes to the account's regional endpoint. The connection pool is shared,
nothing else is: headers are built per request and the pool keeps no cookies, so one seller's
token or session can never travel with another's call.

Rate-limited operations take a token from our copy of Amazon's bucket first
(deskbridge.amazon.ratelimit); when it is empty the call is not made and `Throttled` says when the
reserved token is due. Errors come back as `SpApiError`: `transient` ones (429, 5xx, timeouts) are
worth retrying later, the other 4xx are not.

Orders API v0 is not called: v2026-01-01's getOrder returns in one call everything an agent sees
(items, prices, shipments, flags; personal data by the application's roles, without an RDT), and
v0 is to be removed on 2027-03-27 (amazon.md §5, §6). The one thing only v0 has, getOrders'
BuyerEmail filter (1 call a minute), is a restricted operation whose answer without a Restricted
Data Token is undocumented and which the sandbox does not emulate; see deskbridge.amazon.buyers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings

from deskbridge.amazon import endpoints, lwa, ratelimit
from deskbridge.amazon.orders import INCLUDED_DATA, Order, SearchPage, parse_order, parse_search
from deskbridge.amazon.ratelimit import BucketKey

if TYPE_CHECKING:
    from datetime import datetime

    from deskbridge.amazon.models import SellerAccount

ORDERS = "/orders/2026-01-01/orders"


class SpApiError(Exception):
    """An SP-API call failed; `code` is from Amazon's error body (Unauthorized, QuotaExceeded, …)."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.request_id = status, code, message, request_id

    @property
    def throttled(self) -> bool:
        return self.status == 429

    @property
    def transient(self) -> bool:
        """Worth trying again later: throttled, Amazon's own failure, or no answer at all."""
        return self.status in (0, 429) or self.status >= 500


class Throttled(Exception):
    """Our bucket for the operation is empty: the call was not made. A token is reserved for the
    caller `wait` seconds from now; it calls again then with `reserved=True`."""

    def __init__(self, operation: str, wait: float) -> None:
        super().__init__(f"{operation}: no token for {wait:.1f} s")
        self.operation, self.wait = operation, wait


@dataclass(frozen=True)
class Participation:
    marketplace_id: str
    country_code: str
    name: str
    is_participating: bool
    has_suspended_listings: bool
    store_name: str


_local = threading.local()


def http_client() -> httpx.Client:
    """The process's connection pool (one per thread: httpx clients are not meant to be shared
    across threads); it never stores cookies."""
    client = getattr(_local, "client", None)
    if client is None:
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        client = httpx.Client(cookies=jar, follow_redirects=False, transport=transport())
        _local.client = client
    return client


def transport() -> httpx.BaseTransport | None:
    """Tests replace this to see or fake what goes over the wire."""
    return None


class SpApi:
    """Calls SP-API for one seller account, with its own access token and region endpoint."""

    def __init__(self, account: SellerAccount, timeout: float | None = None) -> None:
        self.account = account
        self.base = endpoints.spapi(account.region)
        self.timeout = timeout or settings.SPAPI_TIMEOUT_SECONDS

    def bucket(self, operation: str) -> BucketKey:
        return BucketKey(
            self.account.selling_partner_id, self.account.region, settings.AMAZON_APP_ID, operation
        )

    def _send(self, path: str, params: dict[str, Any] | None) -> httpx.Response:
        headers = {
            "x-amz-access-token": lwa.access_token(self.account),
            "user-agent": lwa.USER_AGENT,
            "accept": "application/json",
        }
        try:
            return http_client().get(self.base + path, params=params, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SpApiError(0, "Unreachable", f"SP-API did not answer ({type(exc).__name__})") from exc

    def _forget_access_token(self) -> None:
        """Amazon refused the cached access token (revoked with the authorization): the next
        call refreshes it, which tells whether the refresh token still works."""
        account = self.account
        type(account).objects.filter(pk=account.pk).update(access_token=None, access_token_expires_at=None)
        account.access_token, account.access_token_expires_at = None, None

    def call(
        self,
        operation: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        reserved: bool = False,
        reserve: bool = True,
    ) -> dict[str, Any]:
        """GET `path`, spending a token of `operation`'s bucket (unless one was `reserved`). When
        the bucket is empty, `reserve` keeps the next token for the caller (see Throttled)."""
        key = self.bucket(operation)
        if not reserved:
            wait = ratelimit.acquire(key, reserve=reserve)
            if wait > 0:
                raise Throttled(operation, wait)
        cached = bool(self.account.access_token)
        response = self._send(path, params)
        if response.status_code == 403 and cached:
            self._forget_access_token()
            response = self._send(path, params)
        ratelimit.observed_rate(key, response.headers.get("x-amzn-RateLimit-Limit"))
        if response.status_code == 429:
            ratelimit.throttled(key)
        return self._body(response)

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """An operation we call rarely, outside the buckets (the Sellers API at onboarding)."""
        return self._body(self._send(path, params))

    @staticmethod
    def _body(response: httpx.Response) -> dict[str, Any]:
        request_id = response.headers.get("x-amzn-RequestId", "")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 400:
            first = (body.get("errors") or [{}])[0]
            raise SpApiError(
                response.status_code,
                str(first.get("code") or response.headers.get("x-amzn-ErrorType") or "Error"),
                str(first.get("message") or response.reason_phrase),
                request_id,
            )
        return dict(body)

    # Orders API v2026-01-01 ------------------------------------------------------------------------

    def get_order(
        self, order_id: str, included: tuple[str, ...] = INCLUDED_DATA, *, reserved: bool = False
    ) -> Order:
        """getOrder: one order with the sections an agent needs, in one call."""
        body = self.call(
            "orders_2026-01-01.getOrder",
            f"{ORDERS}/{order_id}",
            {"includedData": ",".join(included)},
            reserved=reserved,
        )
        try:
            return parse_order(body["order"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SpApiError(
                200, "UnreadableOrder", f"getOrder answered an order we cannot read ({exc})"
            ) from exc

    def search_orders(
        self,
        *,
        last_updated_after: datetime,
        marketplace_ids: list[str] | None = None,
        included: tuple[str, ...] = ("BUYER", "FULFILLMENT"),
        page_token: str = "",
    ) -> SearchPage:
        """searchOrders by update time (about one call per three minutes: never once per message).
        An empty bucket raises Throttled without reserving: the periodic search comes back."""
        params: dict[str, Any] = {
            "lastUpdatedAfter": last_updated_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "includedData": ",".join(included),
            "maxResultsPerPage": 100,
        }
        if marketplace_ids:
            params["marketplaceIds"] = ",".join(marketplace_ids)
        if page_token:
            params["paginationToken"] = page_token
        body = self.call("orders_2026-01-01.searchOrders", ORDERS, params, reserve=False)
        try:
            return parse_search(body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SpApiError(
                200, "UnreadableOrders", f"searchOrders answered orders we cannot read ({exc})"
            ) from exc

    # Sellers API ---------------------------------------------------------------------------------

    def marketplace_participations(self) -> list[Participation]:
        """Sellers API getMarketplaceParticipations: where the seller sells, and the store name."""
        payload = self.get("/sellers/v1/marketplaceParticipations").get("payload") or []
        return [
            Participation(
                marketplace_id=item["marketplace"]["id"],
                country_code=item["marketplace"].get("countryCode", ""),
                name=item["marketplace"].get("name", ""),
                is_participating=bool(item["participation"]["isParticipating"]),
                has_suspended_listings=bool(item["participation"].get("hasSuspendedListings")),
                store_name=item.get("storeName", ""),
            )
            for item in payload
        ]
