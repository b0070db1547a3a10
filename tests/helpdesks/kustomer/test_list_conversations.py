"""The emulated Kustomer's `GET /v1/conversations` ("Get conversations"): the org's conversations,
paged with page and pageSize, meta and links as Kustomer's other lists are; Bearer API key with the
conversation.read role."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

import pytest
from django.test import Client

from deskbridge.sandbox.helpdesks.kustomer import seed
from deskbridge.sandbox.helpdesks.kustomer.store import Org, now, object_id

_orgs = itertools.count(1)


class Api:
    """The emulated org's API through Django's test client, as `https://{org}.api.kustomerapp.com`."""

    def __init__(self, org: str, key: str) -> None:
        self.base, self.client, self.key = f"/sandbox/kustomer/{org}", Client(), key

    def get(self, path: str, key: str | None = None) -> Any:
        return self.client.get(self.base + path, HTTP_AUTHORIZATION=f"Bearer {key or self.key}")

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.client.post(
            self.base + path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {self.key}"
        )
        assert answer.status_code == 201, answer.content
        return dict(answer.json()["data"])


def new_org() -> Api:
    name = f"listing{next(_orgs)}"
    return Api(name, seed.create_account(name)["api_key"])


def conversations(api: Api, count: int) -> list[str]:
    customer = api.post("/v1/customers", {"name": "Daniel", "externalId": secrets.token_hex(6)})
    return [
        api.post("/v1/conversations", {"customer": customer["id"], "name": f"Order {n}"})["id"]
        for n in range(count)
    ]


@pytest.mark.django_db
def test_the_orgs_conversations_come_page_by_page_until_links_next_is_null() -> None:
    api = new_org()
    made = conversations(api, 5)
    other = new_org()
    conversations(other, 1)  # another org's: never listed here

    first = api.get("/v1/conversations?pageSize=2")
    assert first.status_code == 200, first.content
    assert first["x-ratelimit-limit"] == "1000"
    page = first.json()
    assert page["meta"] == {"page": 1, "pageSize": 2, "total": 5, "totalPages": 3}
    assert page["links"] == {
        "self": "/v1/conversations?page=1&pageSize=2",
        "first": "/v1/conversations?page=1&pageSize=2",
        "prev": None,
        "next": "/v1/conversations?page=2&pageSize=2",
        "last": "/v1/conversations?page=3&pageSize=2",
    }
    # Each entry is the conversation as GET /v1/conversations/{id} shows it.
    assert page["data"][0] == api.get(f"/v1/conversations/{made[0]}").json()["data"]
    assert page["data"][0]["type"] == "conversation"
    assert page["data"][0]["relationships"]["customer"]["data"]["type"] == "customer"

    listed, link = [], "/v1/conversations?pageSize=2"
    while link:
        answer = api.get(link).json()
        listed += [entry["id"] for entry in answer["data"]]
        link = answer["links"]["next"]
    assert listed == made
    assert answer["meta"]["page"] == 3 and answer["links"]["prev"] == "/v1/conversations?page=2&pageSize=2"

    whole = api.get("/v1/conversations").json()  # pageSize 100 unless asked
    assert whole["meta"] == {"page": 1, "pageSize": 100, "total": 5, "totalPages": 1}
    assert [entry["id"] for entry in whole["data"]] == made
    assert whole["links"]["next"] is None

    beyond = api.get("/v1/conversations?page=4&pageSize=2").json()
    assert beyond["data"] == [] and beyond["links"]["next"] is None


@pytest.mark.django_db
def test_an_org_without_conversations_lists_none() -> None:
    answer = new_org().get("/v1/conversations").json()
    assert answer["data"] == []
    assert answer["meta"] == {"page": 1, "pageSize": 100, "total": 0, "totalPages": 1}


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["page=0", "pageSize=0", "pageSize=101", "page=two", "pageSize=1.5"])
def test_bad_paging_is_refused_with_a_reason(query: str) -> None:
    answer = new_org().get(f"/v1/conversations?{query}")
    assert answer.status_code == 400
    (problem,) = answer.json()["errors"]
    assert "page" in problem["message"]


@pytest.mark.django_db
def test_listing_takes_a_bearer_key_with_the_conversation_read_role() -> None:
    api = new_org()
    conversations(api, 1)
    org_name = api.base.rsplit("/", 1)[-1]

    missing = api.client.get(f"{api.base}/v1/conversations")
    assert missing.status_code == 401
    assert api.get("/v1/conversations", key="not-a-key").status_code == 401

    org = Org(org_name)
    user = org.records.all("users")[0]
    narrow = secrets.token_urlsafe(40)
    roles = ["org.permission.conversation.create", "org.permission.customer.read"]
    org.records.create(
        "api_keys",
        {"name": "narrow", "user": object_id(user), "roles": roles, "createdAt": now()},
        key=narrow,
    )
    refused = api.get("/v1/conversations", key=narrow)
    assert refused.status_code == 403
    assert "org.permission.conversation.read" in refused.json()["errors"][0]["message"]

    other = new_org()  # a key of another org opens nothing here
    assert api.get("/v1/conversations", key=other.key).status_code == 401
