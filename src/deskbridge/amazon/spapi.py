"""The Selling Partner API client: one thin httpx client per seller account (reference: amazon.md §2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from deskbridge.amazon import endpoints, lwa

if TYPE_CHECKING:
    from deskbridge.amazon.models import SellerAccount


class SpApiError(Exception):
    """An SP-API call failed; `code` is from Amazon's error body (Unauthorized, QuotaExceeded, …)."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.request_id = status, code, message, request_id


@dataclass(frozen=True)
class Participation:
    marketplace_id: str
    country_code: str
    name: str
    is_participating: bool
    has_suspended_listings: bool
    store_name: str


class SpApi:
    """Calls SP-API for one seller account, with its own access token and region endpoint."""

    def __init__(self, account: SellerAccount, timeout: float = 20) -> None:
        self.account = account
        self.base = endpoints.spapi(account.region)
        self.timeout = timeout

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {
            "x-amz-access-token": lwa.access_token(self.account),
            "user-agent": lwa.USER_AGENT,
            "accept": "application/json",
        }
        try:
            response = httpx.get(self.base + path, params=params, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SpApiError(0, "Unreachable", f"SP-API did not answer ({type(exc).__name__})") from exc
        request_id = response.headers.get("x-amzn-RequestId", "")
        try:
            body = response.json()
        except ValueError:
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
