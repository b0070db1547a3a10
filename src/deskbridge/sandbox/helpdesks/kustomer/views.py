"""The emulated Kustomer API's resources: customers, conversations, messages, notes, users, custom
attribute metadata and outbound webhooks, with the fields the developer docs list for each."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, JsonResponse

from deskbridge.sandbox.helpdesks.kustomer.api import (
    BadRequest,
    Caller,
    Handler,
    Rule,
    an_id,
    check,
    custom_attributes,
    document,
    error,
    found,
    ids,
    page_of,
    per_customer_limit,
    strings,
    timestamp,
)
from deskbridge.sandbox.helpdesks.kustomer.store import TYPES, Org, now, object_id

CHANNELS = (
    "email",
    "sms",
    "chat",
    "facebook",
    "twitter-dm",
    "twitter-tweet",
    "voice",
    "instagram",
    "whatsapp",
)
EVENTS = tuple(
    f"kustomer.{kind}.{verb}"
    for kind in ("customer", "conversation", "message", "user", "team", "tag")
    for verb in ("create", "update")
)
MAX_WEBHOOKS = 5  # "You can set up to 5 outbound user-created webhooks" (Kustomer Help Center)
METADATA_RESOURCES = ("company", "conversation", "customer", "message")


# -- who we are ---------------------------------------------------------------------------------
def current_token(request: HttpRequest, caller: Caller, body: Any) -> JsonResponse:
    key = caller.org.records.find("api_keys", request.headers["Authorization"].split(" ", 1)[1].strip())
    assert key is not None
    return document(
        {
            "type": "token",
            "id": object_id(key),
            "attributes": {
                "name": key.data.get("name", ""),
                "roles": sorted(caller.roles),
                "org": caller.org.org_id(),
                "orgName": caller.org.name,
                "user": caller.user_id,
                "createdAt": key.data.get("createdAt"),
            },
        }
    )


def read_by_id(collection: str) -> Handler:
    """GET /v1/<collection>/{id}: the object, or 404."""

    def handler(request: HttpRequest, caller: Caller, body: Any, **path: str) -> JsonResponse:
        (value,) = path.values()
        record = caller.org.get(collection, value)
        if record is None:
            return error(404, "not_found", f"No {TYPES[collection]} with id {value}.")
        return document(caller.org.render(collection, record))

    return handler


def read_by_external_id(collection: str) -> Handler:
    """GET /v1/<collection>/externalId={externalId}: the object, or 404."""

    def handler(request: HttpRequest, caller: Caller, body: Any, external_id: str) -> JsonResponse:
        record = caller.org.records.find(collection, external_id)
        if record is None:
            return error(404, "not_found", f"No {TYPES[collection]} with externalId {external_id}.")
        return document(caller.org.render(collection, record))

    return handler


# -- customers ----------------------------------------------------------------------------------
def _typed_list(fields: tuple[str, ...]) -> Any:
    def items(value: Any, pointer: str) -> None:
        for index, item in enumerate(value):
            if (
                not isinstance(item, dict)
                or set(item) - {*fields, "type", "verified"}
                or fields[0] not in item
            ):
                raise BadRequest(f"items must be objects with {fields[0]} and type", f"{pointer}/{index}")

    return items


CUSTOMER = {
    "name": Rule(str, max_length=256),
    "externalId": Rule(str, max_length=256),
    "emails": Rule(list, check=_typed_list(("email",))),
    "phones": Rule(list, check=_typed_list(("phone",))),
    "tags": Rule(list, check=strings),
    "locale": Rule(str),
    "timeZone": Rule(str),
    "company": Rule(str, check=an_id),
    "custom": Rule(dict, check=custom_attributes),
}


def create_customer(request: HttpRequest, caller: Caller, body: dict[str, Any]) -> JsonResponse:
    attributes = check(body, CUSTOMER)
    org, external = caller.org, attributes.get("externalId")
    if external and org.records.find("customers", external):
        raise BadRequest(
            f"externalId {external} is already in use", "/data/attributes/externalId", 409, "duplicate"
        )
    stamp = now()
    record = org.records.create(
        "customers",
        {
            "name": attributes.get("name", ""),
            "displayName": attributes.get("name", ""),
            "externalId": external,
            "emails": [{**e, "verified": False} for e in attributes.get("emails", [])],
            "phones": [{**p, "verified": False} for p in attributes.get("phones", [])],
            "tags": attributes.get("tags", []),
            "custom": attributes.get("custom", {}),
            "createdAt": stamp,
            "updatedAt": stamp,
        },
        key=external or "",
    )
    return document(org.render("customers", record), status=201)


# -- conversations ------------------------------------------------------------------------------
CONVERSATION_UPDATE = {
    "name": Rule(str, max_length=256),
    "externalId": Rule(str, max_length=256),
    "status": Rule(str, choices=("open", "snoozed", "done")),
    "priority": Rule(int, choices=(1, 2, 3, 4, 5)),
    "tags": Rule(list, check=strings),
    "assignedUsers": Rule(list, max_length=10, check=ids),
    "assignedTeams": Rule(list, max_length=10, check=ids),
    "queue": Rule(dict),
    "custom": Rule(dict, check=custom_attributes),
    "defaultLang": Rule(str),
    "replyChannel": Rule(str),
}
CONVERSATION = {
    **CONVERSATION_UPDATE,
    "customer": Rule(str, required=True, check=an_id),
    "direction": Rule(str, choices=("in", "out")),
    "importedAt": Rule(str, check=timestamp),
}


def _new_conversation(org: Org, attributes: dict[str, Any], customer_id: str) -> Any:
    found(org, "customers", customer_id, "/data/attributes/customer")
    external = attributes.get("externalId")
    if external and org.records.find("conversations", external):
        raise BadRequest(
            f"externalId {external} is already in use", "/data/attributes/externalId", 409, "duplicate"
        )
    stamp = now()
    record = org.records.create(
        "conversations",
        {
            "name": attributes.get("name", ""),
            "externalId": external,
            "status": attributes.get("status", "open"),
            "priority": attributes.get("priority", 3),
            "direction": attributes.get("direction", "in"),
            "tags": attributes.get("tags", []),
            "assignedUsers": attributes.get("assignedUsers", []),
            "assignedTeams": attributes.get("assignedTeams", []),
            "custom": attributes.get("custom", {}),
            "channels": [],
            "messageCount": 0,
            "outboundMessageCount": 0,
            "noteCount": 0,
            "createdAt": stamp,
            "updatedAt": stamp,
            "_customer": customer_id,
        },
        key=external or "",
    )
    return record


def list_conversations(request: HttpRequest, caller: Caller, body: Any) -> JsonResponse:
    """GET /v1/conversations ("Get conversations"): the org's conversations, page by page (page,
    pageSize ≤ 100), with meta and links; links.next is null on the last page."""
    records = caller.org.records.all("conversations")
    return page_of(request, caller.org, "conversations", records, "conversations")


def create_conversation(request: HttpRequest, caller: Caller, body: dict[str, Any]) -> JsonResponse:
    attributes = check(body, CONVERSATION)
    record = _new_conversation(caller.org, attributes, attributes["customer"])
    return document(caller.org.render("conversations", record), status=201)


def update_conversation(
    request: HttpRequest, caller: Caller, body: dict[str, Any], conversation_id: str
) -> JsonResponse:
    record = caller.org.get("conversations", conversation_id)
    if record is None:
        return error(404, "not_found", f"Conversation {conversation_id} not found.")
    attributes = check(body, CONVERSATION_UPDATE)
    if "custom" in attributes:
        attributes["custom"] = {**record.data.get("custom", {}), **attributes["custom"]}
    if attributes.get("status") == "done" and record.data.get("status") != "done":
        attributes["closedAt"] = now()
    caller.org.touch(record, **attributes)
    return document(caller.org.render("conversations", record))


# -- messages -----------------------------------------------------------------------------------
def _attachment_refs(value: Any, pointer: str) -> None:
    for index, item in enumerate(value):
        where = f"{pointer}/{index}"
        if not isinstance(item, dict) or set(item) != {"_id", "name", "contentType", "contentLength"}:
            raise BadRequest("attachments are {_id, name, contentType, contentLength}", where)
        an_id(item["_id"], f"{where}/_id")


MESSAGE = {
    "conversation": Rule(str, check=an_id),
    "app": Rule(str, required=True, max_length=256),
    "channel": Rule(str, required=True, choices=CHANNELS),
    "direction": Rule(str, required=True, choices=("in", "out")),
    "externalId": Rule(str, max_length=256),
    "body": Rule(str, max_length=100_000),
    "preview": Rule(str, max_length=1024),
    "subject": Rule(str, max_length=1024),
    "meta": Rule(dict),
    "attachments": Rule(list, max_length=50, check=_attachment_refs),
    "importedAt": Rule(str, check=timestamp),
    "sentAt": Rule(str, check=timestamp),
    "auto": Rule(bool),
    "lang": Rule(str),
}


def _post_message(org: Org, caller: Caller, attributes: dict[str, Any], conversation: Any) -> JsonResponse:
    for index, ref in enumerate(attributes.get("attachments", [])):
        stored = org.get("attachments", ref["_id"])
        if stored is None or not stored.data.get("uploaded"):
            raise BadRequest("attachment was not uploaded", f"/data/attributes/attachments/{index}/_id")
    if not (attributes.get("body") or attributes.get("preview") or attributes.get("attachments")):
        raise BadRequest('"body" is required', "/data/attributes/body")
    limited = per_customer_limit(org, conversation.data["_customer"], attributes)
    if limited:
        return limited
    message = org.create_message(conversation, attributes, caller.user_id)
    return document(org.render("messages", message), status=201)


def create_message_by_customer(
    request: HttpRequest, caller: Caller, body: dict[str, Any], customer_id: str
) -> JsonResponse:
    org = caller.org
    customer = org.get("customers", customer_id)
    if customer is None:
        return error(404, "not_found", f"Customer {customer_id} not found.")
    attributes = check(body, MESSAGE)
    if "conversation" in attributes:
        conversation = found(
            org, "conversations", attributes["conversation"], "/data/attributes/conversation"
        )
        if conversation.data["_customer"] != customer_id:
            raise BadRequest("conversation belongs to another customer", "/data/attributes/conversation")
    else:  # Kustomer opens a conversation for a message that names none
        conversation = _new_conversation(org, {"direction": attributes["direction"]}, customer_id)
    return _post_message(org, caller, attributes, conversation)


def conversation_messages(
    request: HttpRequest, caller: Caller, body: Any, conversation_id: str
) -> JsonResponse:
    org = caller.org
    conversation = org.get("conversations", conversation_id)
    if conversation is None:
        return error(404, "not_found", f"Conversation {conversation_id} not found.")
    if request.method == "GET":
        records = org.records.children("messages", conversation.pk)
        return page_of(request, org, "messages", records, f"conversations/{conversation_id}/messages")
    attributes = check(body, {key: rule for key, rule in MESSAGE.items() if key != "conversation"})
    return _post_message(org, caller, attributes, conversation)


# -- notes --------------------------------------------------------------------------------------
NOTE = {
    "conversation": Rule(str, required=True, check=an_id),
    "body": Rule(str, required=True, max_length=10_240),
    "userMentions": Rule(list, max_length=20),
}


def _post_note(org: Org, caller: Caller, attributes: dict[str, Any], conversation: Any) -> JsonResponse:
    if not attributes["body"]:
        raise BadRequest('"body" must have at least 1 character', "/data/attributes/body")
    limited = per_customer_limit(org, conversation.data["_customer"], attributes)
    if limited:
        return limited
    note = org.create_note(conversation, attributes["body"], caller.user_id)
    return document(org.render("notes", note), status=201)


def create_note(request: HttpRequest, caller: Caller, body: dict[str, Any]) -> JsonResponse:
    attributes = check(body, NOTE)
    conversation = found(
        caller.org, "conversations", attributes["conversation"], "/data/attributes/conversation"
    )
    return _post_note(caller.org, caller, attributes, conversation)


def conversation_notes(request: HttpRequest, caller: Caller, body: Any, conversation_id: str) -> JsonResponse:
    org = caller.org
    conversation = org.get("conversations", conversation_id)
    if conversation is None:
        return error(404, "not_found", f"Conversation {conversation_id} not found.")
    if request.method == "GET":
        records = org.records.children("notes", conversation.pk)
        return page_of(request, org, "notes", records, f"conversations/{conversation_id}/notes")
    attributes = check(body, {key: rule for key, rule in NOTE.items() if key != "conversation"})
    attributes["conversation"] = conversation_id
    return _post_note(org, caller, attributes, conversation)


# -- custom attribute metadata ------------------------------------------------------------------
def _properties(value: Any, pointer: str) -> None:
    custom_attributes(dict.fromkeys(value), pointer)
    for name, options in value.items():
        if not isinstance(options, dict) or set(options) - {"displayName", "description", "enumeration"}:
            raise BadRequest("takes displayName, description and enumeration", f"{pointer}/{name}")
        if not isinstance(options.get("displayName", ""), str):
            raise BadRequest("displayName must be a string", f"{pointer}/{name}/displayName")


TYPE_OF_SUFFIX = {
    "Str": "string",
    "Txt": "text",
    "Num": "number",
    "At": "date",
    "Bool": "boolean",
    "Url": "url",
}


def metadata(request: HttpRequest, caller: Caller, body: Any, resource: str) -> JsonResponse:
    org = caller.org
    if resource not in METADATA_RESOURCES and not resource.startswith("kobject."):
        return error(404, "not_found", f"No metadata for {resource}.")
    record = org.records.find("metadata", resource)
    if record is None:
        record = org.records.create("metadata", {"properties": {}}, key=resource)
    if request.method == "PUT":
        attributes = check(
            body,
            {
                "properties": Rule(dict, check=_properties),
                "standardProperties": Rule(dict),
                "relationships": Rule(dict),
                "validations": Rule(list),
            },
        )
        properties = dict(record.data["properties"])
        for name, options in attributes.get("properties", {}).items():
            suffix = next(s for s in TYPE_OF_SUFFIX if name.endswith(s))
            properties[name] = {
                **properties.get(name, {}),
                "type": TYPE_OF_SUFFIX[suffix],
                **options,
                "modifiedBy": caller.user_id,
                "modifiedAt": now(),
            }
        org.touch(record, properties=properties)
    return document(
        {
            "type": "metadata",
            "id": object_id(record),
            "attributes": {"name": resource, "properties": record.data["properties"]},
        }
    )


# -- outbound webhooks --------------------------------------------------------------------------
def _webhook_url(value: Any, pointer: str) -> None:
    parts = urlsplit(value)
    loopback = False
    try:
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    # Kustomer requires https; the sandbox also takes plain http to this machine (demo, tests).
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise BadRequest('"url" must be an https:// URL', pointer)


def _headers(value: Any, pointer: str) -> None:
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"name", "value"}:
            raise BadRequest("headers are {name, value} objects", f"{pointer}/{index}")


def _events(value: Any, pointer: str) -> None:
    for index, item in enumerate(value):
        if item not in EVENTS:
            raise BadRequest(f"unknown event {item}", f"{pointer}/{index}")


WEBHOOK = {
    "name": Rule(str, required=True, max_length=255),
    "url": Rule(str, required=True, check=_webhook_url),
    "events": Rule(list, required=True, max_length=12, check=_events),
    "headers": Rule(list, check=_headers),
    "enabled": Rule(bool),
}


def _render_webhook(org: Org, record: Any, with_token: bool) -> dict[str, Any]:
    rendered = org.render("outbound_webhooks", record)
    if not with_token:
        rendered["attributes"].pop("token", None)
    rendered.pop("relationships")
    return rendered


def outbound_webhooks(request: HttpRequest, caller: Caller, body: Any) -> JsonResponse:
    org = caller.org
    hooks = org.records.all("outbound_webhooks")
    if request.method == "GET":
        return JsonResponse({"data": [_render_webhook(org, hook, with_token=False) for hook in hooks]})
    attributes = check(body, WEBHOOK)
    if not attributes["events"]:
        raise BadRequest('"events" must name at least one event', "/data/attributes/events")
    if len(hooks) >= MAX_WEBHOOKS:
        raise BadRequest(f"an org has at most {MAX_WEBHOOKS} outbound webhooks", "/data/attributes")
    stamp = now()
    record = org.records.create(
        "outbound_webhooks",
        {
            "name": attributes["name"],
            "url": attributes["url"],
            "events": attributes["events"],
            "headers": attributes.get("headers", []),
            "enabled": attributes.get("enabled", True),
            "token": secrets.token_hex(16),
            "createdAt": stamp,
            "updatedAt": stamp,
        },
    )
    return document(_render_webhook(org, record, with_token=True), status=201)


def outbound_webhook(request: HttpRequest, caller: Caller, body: Any, webhook_id: str) -> JsonResponse:
    org = caller.org
    record = org.get("outbound_webhooks", webhook_id)
    if record is None:
        return error(404, "not_found", f"Outbound webhook {webhook_id} not found.")
    if request.method == "PUT":
        org.touch(
            record, **check(body, {key: Rule(rule.kind, check=rule.check) for key, rule in WEBHOOK.items()})
        )
    return document(_render_webhook(org, record, with_token=True))
