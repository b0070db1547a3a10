"""The sandbox Zendesk refuses what Zendesk refuses, with Zendesk's status codes and bodies."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from django.test import Client

from deskbridge.sandbox.helpdesks.zendesk import seed, store
from tests.helpdesks.zendesk.conftest import fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def zd() -> tuple[str, dict[str, str]]:
    name = f"strict-{uuid.uuid4().hex[:8]}"
    return name, seed.create_account(name)


def auth(config: dict[str, str], email: str = "") -> dict[str, str]:
    raw = f"{email or config['email']}/token:{config['api_token']}"
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw.encode()).decode()}


def call(client: Client, method: str, url: str, config: dict[str, str], body: Any = None, **extra: Any):  # type: ignore[no-untyped-def]
    kwargs: dict[str, Any] = {**auth(config), **extra}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method.lower())(url, **kwargs)


def test_wrong_or_missing_credentials_get_zendesks_401(client: Client, zd) -> None:  # type: ignore[no-untyped-def]
    name, config = zd
    expected = fixture("error-401.json")
    for headers in ({}, auth({**config, "api_token": "wrong"}), {"HTTP_AUTHORIZATION": "Bearer x"}):
        response = client.get(f"/sandbox/zendesk/{name}/api/v2/users/me.json", **headers)
        assert response.status_code == expected["status"] and response.json() == expected["body"]
    password = base64.b64encode(f"{config['email']}:{config['api_token']}".encode()).decode()
    assert (
        client.get(
            f"/sandbox/zendesk/{name}/api/v2/users/me", HTTP_AUTHORIZATION=f"Basic {password}"
        ).status_code
        == 401
    )
    ok = call(client, "GET", f"/sandbox/zendesk/{name}/api/v2/users/me", config)  # without .json too
    assert ok.status_code == 200 and ok.json()["user"]["role"] == "admin"
    assert ok["X-Rate-Limit"] == "700" and int(ok["X-Rate-Limit-Remaining"]) < 700


def test_unknown_records_and_accounts_get_404(client: Client, zd) -> None:  # type: ignore[no-untyped-def]
    name, config = zd
    response = call(client, "GET", f"/sandbox/zendesk/{name}/api/v2/tickets/999999999.json", config)
    assert response.status_code == 404 and response.json() == fixture("error-404.json")["body"]
    nowhere = call(client, "GET", "/sandbox/zendesk/no-such-shop/api/v2/users/me.json", config)
    assert nowhere.status_code == 404 and "No help desk" in nowhere.json()["error"]["title"]


@pytest.mark.parametrize(
    ("ticket", "attribute", "error"),
    [
        ({"subject": "no comment"}, "comment", "BlankValue"),
        ({"comment": {"body": "hi"}, "subjet": "typo"}, "subjet", "UnknownAttribute"),
        ({"comment": {"body": "hi"}, "requester_id": "12"}, "requester_id", "InvalidValue"),
        ({"comment": {"body": "hi", "public": "yes"}}, "comment", "InvalidValue"),
        ({"comment": {"body": "   "}}, "comment", "BlankValue"),
        ({"comment": {"body": "hi"}, "status": "done"}, "status", "InvalidValue"),
        (
            {"comment": {"body": "hi"}, "custom_fields": [{"id": 1, "value": "x"}]},
            "custom_fields",
            "InvalidValue",
        ),
        (
            {"comment": {"body": "hi"}, "requester": {"name": "X", "email": "not an email"}},
            "requester",
            "InvalidValue",
        ),
    ],
)
def test_malformed_tickets_get_a_422_naming_the_attribute(
    client: Client, zd, ticket, attribute, error
) -> None:  # type: ignore[no-untyped-def]
    name, config = zd
    response = call(
        client, "POST", f"/sandbox/zendesk/{name}/api/v2/tickets.json", config, {"ticket": ticket}
    )
    assert response.status_code == 422
    body = response.json()
    assert set(body) == set(fixture("error-422.json")["body"]) and body["error"] == "RecordInvalid"
    assert body["details"][attribute][0]["error"] == error
    assert store.records(name).all("tickets") == []


def test_bodies_must_be_json_with_the_wrapper(client: Client, zd) -> None:  # type: ignore[no-untyped-def]
    name, config = zd
    url = f"/sandbox/zendesk/{name}/api/v2/tickets.json"
    assert call(client, "POST", url, config, {"comment": {"body": "no wrapper"}}).status_code == 422
    raw = client.post(url, data="{oops", content_type="application/json", **auth(config))
    assert raw.status_code == 400
    form = client.post(url, data={"ticket": "x"}, **auth(config))
    assert form.status_code == 415


def test_agents_cannot_change_admin_settings_and_triggers_are_checked(client: Client, zd) -> None:  # type: ignore[no-untyped-def]
    name, config = zd
    agent = {
        **config,
        "email": f"agent@{name}.example.com",
        "api_token": seed._token(name, f"agent@{name}.example.com"),
    }
    assert (
        call(client, "GET", f"/sandbox/zendesk/{name}/api/v2/users/me.json", agent).json()["user"]["role"]
        == "agent"
    )
    request = fixture("trigger-create.request.json")
    assert (
        call(client, "POST", f"/sandbox/zendesk/{name}/api/v2/triggers.json", agent, request).status_code
        == 403
    )
    hook = fixture("webhook-create.request.json")
    assert call(client, "POST", f"/sandbox/zendesk/{name}/api/v2/webhooks", agent, hook).status_code == 403
    # The reference's trigger names a webhook this account does not have.
    missing = call(client, "POST", f"/sandbox/zendesk/{name}/api/v2/triggers.json", config, request)
    assert (
        missing.status_code == 422
        and "does not exist" in missing.json()["details"]["actions"][0]["description"]
    )
    created = call(client, "POST", f"/sandbox/zendesk/{name}/api/v2/webhooks", config, hook)
    assert created.status_code == 201
    made = created.json()["webhook"]
    expected = fixture("webhook-create.response.json")["webhook"]
    assert set(made) == set(expected) and len(made["id"]) == 26 and "data" not in made["authentication"]
    request["trigger"]["actions"][0]["value"][0] = made["id"]
    assert (
        call(client, "POST", f"/sandbox/zendesk/{name}/api/v2/triggers.json", config, request).status_code
        == 201
    )
    request["trigger"]["conditions"]["all"].append({"field": "made_up", "operator": "is", "value": "x"})
    bad = call(client, "POST", f"/sandbox/zendesk/{name}/api/v2/triggers.json", config, request)
    assert bad.status_code == 422 and "made_up" in bad.json()["details"]["conditions"][0]["description"]
    secret = call(
        client, "GET", f"/sandbox/zendesk/{name}/api/v2/webhooks/{made['id']}/signing_secret", config
    )
    assert set(secret.json()["signing_secret"]) == set(
        fixture("webhook-signing-secret.response.json")["signing_secret"]
    )


def test_the_rate_limit_answers_429_as_zendesk_does(client: Client, zd) -> None:  # type: ignore[no-untyped-def]
    name, config = zd
    account = store.account(name)
    account.data["rate_limit"] = 2
    account.save()
    url = f"/sandbox/zendesk/{name}/api/v2/tickets.json"
    listing = call(client, "GET", url, config)
    assert listing.status_code == 200 and listing["ratelimit-limit"] == "2" and "ratelimit-reset" in listing
    call(client, "GET", url, config)
    limited = call(client, "GET", url, config)
    expected = fixture("error-429.json")
    assert limited.status_code == 429 and limited.content.decode() == expected["body"]
    assert limited["Content-Type"].startswith("text/plain") and int(limited["Retry-After"]) >= 1
    assert limited["X-Rate-Limit-Remaining"] == "0"


def test_the_agent_page_lists_tickets_and_takes_a_reply_with_csrf(zd) -> None:  # type: ignore[no-untyped-def]
    name, config = zd
    client = Client(enforce_csrf_checks=True)
    body = {"ticket": {"subject": "Where is my order?", "comment": {"body": "Hello"}, "tags": ["deskbridge"]}}
    created = call(client, "POST", f"/sandbox/zendesk/{name}/api/v2/tickets.json", config, body)
    assert created.status_code == 201  # the API needs no CSRF token
    ticket_id = created.json()["ticket"]["id"]
    page = client.get(seed.page_url(name))
    assert (
        page.status_code == 200
        and b"Where is my order?" in page.content
        and b'name="viewport"' in page.content
    )
    url = f"/sandbox/zendesk/{name}/tickets/{ticket_id}/reply"
    assert client.post(url, {"text": "no token"}).status_code == 403
    token = page.cookies["csrftoken"].value
    answered = client.post(
        url, {"text": "Arrives tomorrow", "visibility": "internal", "csrfmiddlewaretoken": token}
    )
    assert answered.status_code == 302
    [shown] = seed.tickets(name)
    assert shown["messages"][-1] == {
        "id": shown["messages"][-1]["id"],
        "author": "agent",
        "public": False,
        "text": "Arrives tomorrow",
        "attachments": [],
    }
