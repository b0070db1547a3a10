"""The HTTP core every connector shares: auth headers, timeouts, rate limits, errors, pagination.

Errors come out as one of four exceptions, by what the caller should do:
`RateLimited` (wait `retry_after` seconds, then try again), `Unavailable` (5xx, timeouts: retry with
backoff), `AuthenticationFailed` (401/403: the connection needs its owner; retrying will not help)
and `Rejected` (any other 4xx: the request itself is wrong; the reason is the helpdesk's own words).

Rate limits are kept on our side too, as a token bucket per connection shared by every process
(the same buckets as the SP-API's, deskbridge.amazon.ratelimit): a call that would exceed the
helpdesk's documented limit is not sent; it raises RateLimited with the time its token is due, and
the pipeline postpones the work row to then. Nothing here sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings

from deskbridge.amazon.ratelimit import store
from deskbridge.core.logs import get_logger

log = get_logger(__name__)


class HelpdeskError(Exception):
    retryable = False

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class AuthenticationFailed(HelpdeskError):
    """401 or 403: wrong or revoked credentials, or a role without the permission."""


class Rejected(HelpdeskError):
    """A 4xx other than 401/403/429: the helpdesk refused this request as it stands."""


class NotFound(Rejected):
    """404."""


class RateLimited(HelpdeskError):
    retryable = True


class Unavailable(HelpdeskError):
    """5xx, a timeout or a broken connection."""

    retryable = True


@dataclass(frozen=True)
class RateLimit:
    """A documented limit as `requests` per `seconds` (Gorgias: 40 per 20 s; Zendesk: 700 per 60 s)."""

    requests: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def reason_of(response: httpx.Response) -> str:
    """The helpdesk's explanation from an error body, short and single-line."""
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip()
        return " ".join(text.split())[:300] or response.reason_phrase
    parts: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            for item in value[:5]:
                collect(item)
        elif isinstance(value, dict):
            for key in (
                "error",
                "title",
                "description",
                "message",
                "detail",
                "details",
                "errors",
                "_embedded",
            ):
                if key in value:
                    collect(value[key])
            for key in ("field", "path", "source"):
                if isinstance(value.get(key), str):
                    parts.append(f"({value[key]})")
        if isinstance(value, dict) and isinstance(value.get("details"), dict):
            # Zendesk's 422: {"details": {"status": [{"description": "Status: closed prevents …"}]}}
            for item in value["details"].values():
                collect(item)

    collect(body)
    text = " ".join(" ".join(parts).split())
    return (text or json.dumps(body, ensure_ascii=False))[:300]


def retry_after_of(response: httpx.Response) -> float | None:
    """Seconds to wait, from Retry-After (seconds or a date) or Help Scout's X-RateLimit-Retry-After."""
    for header in ("retry-after", "x-ratelimit-retry-after"):
        value = response.headers.get(header)
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        from django.utils import timezone

        return max(0.0, (moment - timezone.now()).total_seconds())
    return None


class HelpdeskHTTP:
    """One connection's client: base URL, auth, our side of its rate limit, and error mapping."""

    def __init__(
        self,
        base_url: str,
        *,
        limit_key: str,
        limit: RateLimit | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.limit = limit
        self.limit_key = f"helpdesk:{limit_key}"
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=auth,
            headers={"Accept": "application/json", "User-Agent": "deskbridge", **(headers or {})},
            timeout=settings.HELPDESK_TIMEOUT_SECONDS,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def _take_token(self) -> None:
        if self.limit is None:
            return
        wait = store().take(self.limit_key, self.limit.rate, float(self.limit.requests), False)
        if wait > 0:
            raise RateLimited(f"our side of the rate limit: next request in {wait:.1f} s", retry_after=wait)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request (path relative to the base URL, or absolute for pagination links on
        the same host: the connection's credentials never go anywhere else)."""
        if "://" in path and httpx.URL(path).host != self.client.base_url.host:
            raise Rejected(f"{method} {path}: not this helpdesk's host; credentials not sent")
        self._take_token()
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise Unavailable(f"{method} {path}: timed out") from exc
        except httpx.TransportError as exc:
            raise Unavailable(f"{method} {path}: {exc.__class__.__name__}") from exc
        status = response.status_code
        if status < 400:
            return response
        reason = f"{method} {path}: {status} {reason_of(response)}"
        if status == 429:
            if self.limit is not None:
                store().drain(self.limit_key, self.limit.rate, float(self.limit.requests))
            raise RateLimited(reason, status, retry_after_of(response) or 10.0)
        if status >= 500:
            raise Unavailable(reason, status, retry_after_of(response))
        if status in (401, 403):
            raise AuthenticationFailed(reason, status)
        if status == 404:
            raise NotFound(reason, status)
        raise Rejected(reason, status)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise Unavailable(f"{method} {path}: {response.status_code} answer is not JSON") from exc

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.json("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.json("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.json("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.json("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.json("DELETE", path, **kwargs)

    def paginate(
        self,
        path: str,
        items: Callable[[Any], list[Any]],
        next_page: Callable[[Any], str | None],
        params: Mapping[str, Any] | None = None,
        max_pages: int = 50,
    ) -> Iterator[Any]:
        """Every item of a listing: `items` picks them out of a page, `next_page` gives the next
        page's URL (absolute or relative) or None. Stops after `max_pages` (a runaway cursor)."""
        url: str | None = path
        request_params: Mapping[str, Any] | None = params
        for _ in range(max_pages):
            if url is None:
                return
            page = self.get(url, params=request_params)
            yield from items(page)
            url, request_params = next_page(page), None
        log.warning("pagination stopped at the page limit", path=path, pages=max_pages)
