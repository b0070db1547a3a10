"""Help Scout webhooks and answers read from the vendor's own payloads (no server: a mock transport)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from deskbridge.helpdesks.base import WebhookRejected
from deskbridge.helpdesks.helpscout import webhooks
from deskbridge.helpdesks.helpscout.connector import HelpScoutConnector, HelpScoutHTTP
from deskbridge.helpdesks.helpscout.oauth import TokenAuth
from deskbridge.helpdesks.http import AuthenticationFailed, RateLimited, Rejected

from .conftest import DATA, payload

EXAMPLE = payload("webhook-signature.json")


def connector(handler: Any, **config: str) -> HelpScoutConnector:
    """A connector whose HTTP goes to `handler` (a function of the request) with a token already held."""
    values = {
        "client_id": "123abc",
        "client_secret": "fdafda",
        "access_token": "t",
        "expires_at": "9999999999",
    }
    values.update(config)
    auth = TokenAuth("https://api.helpscout.net/v2/oauth2/token", values, lambda kept: None)
    http = HelpScoutHTTP(
        "https://api.helpscout.net", limit_key="test", auth=auth, transport=httpx.MockTransport(handler)
    )
    return HelpScoutConnector(values, http=http)


def test_the_documented_example_signature():
    body = EXAMPLE["raw_body"].encode()
    assert webhooks.sign(EXAMPLE["key"], body) == EXAMPLE["X-HelpScout-Signature"]
    headers = payload("webhook-agent-reply.headers.json")
    event = webhooks.verify(EXAMPLE["key"], headers, body)
    assert event.startswith("convo.agent.reply.created:")
    # header names in any case; the same body is the same event (a retried delivery)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert webhooks.verify(EXAMPLE["key"], lowered, body) == event


@pytest.mark.parametrize(
    ("secret", "headers", "body"),
    [
        (EXAMPLE["key"], {"X-HelpScout-Signature": EXAMPLE["X-HelpScout-Signature"]}, b'{"id":124}'),
        (
            "another-secret",
            {"X-HelpScout-Signature": EXAMPLE["X-HelpScout-Signature"]},
            EXAMPLE["raw_body"].encode(),
        ),
        (EXAMPLE["key"], {}, EXAMPLE["raw_body"].encode()),
        ("", {"X-HelpScout-Signature": EXAMPLE["X-HelpScout-Signature"]}, EXAMPLE["raw_body"].encode()),
    ],
    ids=["changed body", "wrong secret", "no signature", "no secret configured"],
)
def test_a_delivery_that_does_not_match_is_rejected(secret, headers, body):
    with pytest.raises(WebhookRejected):
        HelpScoutConnector({"client_id": "a", "client_secret": "b", "webhook_secret": secret}).verify_webhook(
            headers, body
        )


def test_read_webhook_fetches_the_threads_and_keeps_only_agent_replies():
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.headers["Authorization"]))
        return httpx.Response(200, json=payload("list-threads.json"))

    body = (DATA / "webhook-agent-reply.json").read_bytes()
    [reply] = connector(answer).read_webhook(body)
    assert seen == [("GET", "/v2/conversations/123/threads", "Bearer t")]
    assert reply.ticket_id == "123" and reply.message_id == "1235"
    assert reply.text == "Sorry about that! A replacement ships tomorrow."
    assert reply.author == "Mr Robot" and reply.attachments == ()
    assert reply.created_at is not None and reply.created_at.year == 2012


def test_read_webhook_ignores_a_test_ping():
    def answer(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no call for a ping")

    assert connector(answer).read_webhook(b'{"test": true}') == []
    assert connector(answer).read_webhook(b"not json") == []


def test_the_vendors_429_is_rate_limited_with_its_retry_after():
    error = payload("error-429.json")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(error["status"], headers=error["headers"], json=error["body"])

    with pytest.raises(RateLimited) as raised:
        connector(answer).verify()
    assert raised.value.retry_after == 12.0
    assert "API rate limit exceeded" in str(raised.value)


def test_the_vendors_validation_error_is_rejected_with_its_reasons():
    error = payload("error-400-validation.json")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(error["status"], headers=error["headers"], json=error["body"])

    with pytest.raises(Rejected) as raised:
        connector(answer).add_note(type("T", (), {"id": "1"})(), "x")  # type: ignore[arg-type]
    assert "may not be empty" in str(raised.value) and "(subject)" in str(raised.value)


def test_a_token_is_fetched_with_the_documented_request_and_renewed_once_after_a_401():
    token_request = payload("oauth-token-request.json")
    calls: list[tuple[str, Any]] = []
    kept: list[dict[str, str]] = []
    tokens = iter(["first", "second"])

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/oauth2/token":
            calls.append(("token", json.loads(request.content)))
            return httpx.Response(
                200, json={**payload("oauth-token-response.json"), "access_token": next(tokens)}
            )
        calls.append(("api", request.headers["Authorization"]))
        if request.headers["Authorization"] != "Bearer second":
            return httpx.Response(401, json={"message": "expired"})
        return httpx.Response(200, json={"id": 1})

    config = {"client_id": token_request["client_id"], "client_secret": token_request["client_secret"]}
    auth = TokenAuth("https://api.helpscout.net/v2/oauth2/token", config, lambda k: kept.append(dict(k)))
    http = HelpScoutHTTP(
        "https://api.helpscout.net", limit_key="t", auth=auth, transport=httpx.MockTransport(answer)
    )
    # A token just fetched and refused: the user is inactive, another token will not help.
    with pytest.raises(AuthenticationFailed):
        http.get("/v2/users/me")
    # A token held from before and refused (revoked, expired early): renewed once.
    assert http.get("/v2/users/me") == {"id": 1}
    assert calls == [
        ("token", token_request),
        ("api", "Bearer first"),
        ("api", "Bearer first"),
        ("token", token_request),
        ("api", "Bearer second"),
    ]
    assert [k["access_token"] for k in kept] == ["first", "second"]
    assert int(kept[-1]["expires_at"]) > 0 and "refresh_token" not in kept[-1]


def test_a_refused_token_request_is_an_authentication_failure():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    auth = TokenAuth(
        "https://api.helpscout.net/v2/oauth2/token", {"client_id": "a", "client_secret": "b"}, print
    )
    http = HelpScoutHTTP(
        "https://api.helpscout.net", limit_key="t", auth=auth, transport=httpx.MockTransport(answer)
    )
    with pytest.raises(AuthenticationFailed):
        http.get("/v2/users/me")
