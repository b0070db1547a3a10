"""The emulated Gorgias REST API: account, users, customers, tickets, messages, custom fields,
HTTP integrations and uploads, as developers.gorgias.com and helpdesk-payloads/gorgias show them."""

from __future__ import annotations

import base64
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from deskbridge.sandbox.helpdesks.gorgias import schema
from deskbridge.sandbox.helpdesks.gorgias.account import GorgiasAccount, now
from deskbridge.sandbox.helpdesks.gorgias.api import (
    ApiError,
    admin_only,
    endpoint,
    invalid,
    json_body,
    not_found,
    page,
    query,
)
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskRecord

Result = tuple[int, Any]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DATA_TYPES = {"text": (str,), "number": (int, float), "boolean": (bool,)}


def _checked(fields: dict[str, schema.F], data: Any, msg: str) -> dict[str, Any]:
    errors = schema.validate(fields, data)
    if errors:
        raise invalid(msg, errors)
    return data


def _record(account: GorgiasAccount, collection: str, pk: Any) -> SandboxHelpdeskRecord:
    record = account.get(collection, pk)
    if record is None:
        raise not_found()
    return record


# -- account and users ------------------------------------------------------------------------------
def get_account(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    found = account.records.find("account", account.domain)
    assert found is not None
    return 200, found.data


def get_user(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int) -> Result:
    found = user if pk == 0 else account.user(pk=pk)  # 0: the user the credentials belong to
    if found is None:
        raise not_found()
    return 200, found


def list_users(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    params = query(request, {"email", "external_id", "search"})
    records = [
        r
        for r in account.records.all("users")
        if (not params.get("email") or r.data["email"].lower() == params["email"].lower())
        and (not params.get("external_id") or r.data.get("external_id") == params["external_id"])
    ]
    return page(request, records, lambda r: r.data, params, ("created_datetime", "name", "email"))


# -- customers ------------------------------------------------------------------------------------
def list_customers(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    params = query(
        request, {"email", "external_id", "language", "timezone", "channel_type", "channel_address"}
    )
    records = [
        r
        for r in account.records.all("customers")
        if (not params.get("email") or (r.data.get("email") or "").lower() == params["email"].lower())
        and (not params.get("external_id") or r.data.get("external_id") == params["external_id"])
    ]
    return page(request, records, lambda r: r.data, params, ("created_datetime", "name"))


def new_customer(account: GorgiasAccount, body: dict[str, Any]) -> dict[str, Any]:
    email = body.get("email")
    if email is not None and "@" not in email:
        raise invalid("Failed to create customer", {"email": ["Not a valid email address."]})
    if email and account.customer(email=email):
        raise ApiError(409, "The resource already exists.")
    stamp = now()
    name = (
        body.get("name") or " ".join(p for p in (body.get("firstname"), body.get("lastname")) if p) or email
    )
    channels = [
        {"id": i + 1, "type": c["type"], "address": c["address"], "preferred": c.get("preferred", False)}
        for i, c in enumerate(body.get("channels") or [])
    ]
    return account.create(
        "customers",
        {
            "created_datetime": stamp,
            "updated_datetime": stamp,
            "email": email,
            "name": name,
            "firstname": body.get("firstname") or "",
            "lastname": body.get("lastname") or "",
            "external_id": body.get("external_id"),
            "channels": channels,
            "data": body.get("data"),
            "language": body.get("language"),
            "timezone": body.get("timezone"),
            "integrations": {},
        },
        key=body.get("external_id") or "",
    )


def create_customer(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    body = _checked(
        schema.CUSTOMER, json_body(request, "Failed to create customer"), "Failed to create customer"
    )
    return 201, new_customer(account, body)


def get_customer(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int) -> Result:
    return 200, _record(account, "customers", pk).data


# -- messages -------------------------------------------------------------------------------------
def message_sender(account: GorgiasAccount, body: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Who wrote a validated message, by Gorgias's rules: incoming messages come from a customer
    (created from an unknown sender email) and have no receiver; outgoing ones and internal notes
    come from a user. Raises the 400 with the offending field otherwise."""

    def refuse(field: str, text: str) -> ApiError:
        errors: dict[str, Any] = {field: [text]}
        for part in reversed([p for p in prefix.split(".") if p]):
            errors = {part: errors}
        return invalid("Failed to create message", errors)

    if not (body.get("body_text") or body.get("body_html")):
        raise refuse("body_text", "Missing data for required field.")
    if body["channel"] == "internal-note" and not body["from_agent"]:
        raise refuse("from_agent", "Internal notes are always sent by an agent.")
    if body["channel"] != "internal-note" and not body.get("source"):
        raise refuse("source", "Missing data for required field.")
    ref = body["sender"]
    if not body["from_agent"]:
        if body.get("receiver"):
            raise refuse("receiver", "Receiver should not be set for incoming messages.")
        if "id" in ref:
            customer = account.customer(pk=ref["id"])
        else:
            customer = account.customer(email=ref.get("email", ""), external_id=ref.get("external_id") or "")
        if customer is None and ref.get("email") and "id" not in ref:
            customer = new_customer(account, {"email": ref["email"], "name": ref.get("name")})
        if customer is None:
            raise refuse("sender", "The sender of an incoming message must be an existing customer.")
        return customer
    sender = account.user(pk=ref["id"]) if "id" in ref else account.user(email=ref.get("email", ""))
    if sender is None:
        raise refuse("sender", "The sender of an outgoing message must be a user.")
    return sender


def list_ticket_messages(
    request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int
) -> Result:
    params = query(request, set())
    ticket = _record(account, "tickets", pk)
    records = account.records.children("messages", ticket.pk)
    return page(request, records, lambda r: r.data, {"order_by": "created_datetime:asc", **params})


def list_messages(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    params = query(request, {"ticket_id"})
    ticket_id = params.get("ticket_id", "")
    if ticket_id and not ticket_id.isdigit():
        raise invalid("Invalid parameters", {"ticket_id": ["Not a valid integer."]})
    records = (
        account.records.children("messages", int(ticket_id)) if ticket_id else account.records.all("messages")
    )
    return page(request, records, lambda r: r.data, params)


def create_message(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int) -> Result:
    ticket = _record(account, "tickets", pk)
    body = _checked(
        schema.MESSAGE, json_body(request, "Failed to create message"), "Failed to create message"
    )
    sender = message_sender(account, body)
    return 201, account.add_message(ticket, body, sender)


def get_message(
    request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int, message: int
) -> Result:
    record = _record(account, "messages", message)
    if record.parent != pk:
        raise not_found()
    return 200, record.data


# -- tickets --------------------------------------------------------------------------------------
def list_tickets(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    params = query(request, {"customer_id", "external_id", "trashed", "view_id", "rule_id", "ticket_ids"})
    records = [
        r
        for r in account.records.all("tickets")
        if (not params.get("external_id") or r.data.get("external_id") == params["external_id"])
        and (not params.get("customer_id") or str(r.data.get("customer_id")) == params["customer_id"])
    ]

    def item(record: SandboxHelpdeskRecord) -> dict[str, Any]:
        data = account.ticket(record)
        data.pop("messages")
        return data

    return page(request, records, item, params, ("created_datetime", "updated_datetime"))


def set_field_values(
    account: GorgiasAccount,
    ticket: SandboxHelpdeskRecord,
    values: list[dict[str, Any]],
    msg: str,
    at: str = "",
) -> None:
    """Replace all of a ticket's custom field values (the documented replace-all semantics)."""
    errors: dict[str, Any] = {}
    for index, item in enumerate(values):
        field = account.get("custom-fields", item["id"])
        if field is None or field.data["object_type"] != "Ticket" or field.data.get("deactivated_datetime"):
            errors[str(index)] = {"id": ["Custom field not found."]}
        elif item["value"] is not None and not isinstance(
            item["value"], DATA_TYPES[field.data["definition"]["data_type"]]
        ):
            errors[str(index)] = {"value": [f"Not a valid {field.data['definition']['data_type']} value."]}
    if errors:
        raise invalid(msg, {at: errors} if at else errors)
    for record in account.records.children("ticket-field-values", ticket.pk):
        record.delete()
    for item in values:
        if item["value"] is not None:
            account.records.create(
                "ticket-field-values",
                {"field_id": item["id"], "value": item["value"]},
                key=str(item["id"]),
                parent=ticket.pk,
            )


def create_ticket(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    msg = "Failed to create ticket"
    body = _checked(schema.TICKET_CREATE, json_body(request, msg), msg)
    senders = [message_sender(account, m, f"messages.{i}") for i, m in enumerate(body["messages"])]
    first = body["messages"][0]
    ref = body.get("customer")
    if ref:
        customer = (
            account.customer(pk=ref["id"])
            if "id" in ref
            else account.customer(email=ref.get("email", ""), external_id=ref.get("external_id") or "")
        )
        if customer is None:
            raise invalid(msg, {"customer": ["Customer not found."]})
    elif not first["from_agent"]:
        customer = senders[0]
    else:
        raise invalid(msg, {"customer": ["Missing data for required field."]})
    stamp = now()
    status = body.get("status", "open")
    ticket_data = {
        "external_id": body.get("external_id"),
        "channel": body.get("channel", first["channel"]),
        "via": body.get("via", "api"),
        "from_agent": body.get("from_agent", first["from_agent"]),
        "status": status,
        "priority": body.get("priority", "normal"),
        "subject": body.get("subject") or first.get("subject"),
        "customer_id": customer["id"],
        "assignee_user": body.get("assignee_user"),
        "assignee_team": body.get("assignee_team"),
        "tags": [account.tag(t["name"]) for t in body.get("tags") or []],
        "language": body.get("language"),
        "meta": body.get("meta"),
        "spam": body.get("spam", False),
        "is_unread": True,
        "created_datetime": stamp,
        "opened_datetime": None,
        "last_message_datetime": None,
        "last_received_message_datetime": None,
        "updated_datetime": stamp,
        "closed_datetime": stamp if status == "closed" else None,
        "snooze_datetime": None,
        "trashed_datetime": None,
    }
    created = account.create("tickets", ticket_data, key=body.get("external_id") or "")
    ticket = _record(account, "tickets", created["id"])
    set_field_values(account, ticket, body.get("custom_fields") or [], msg, "custom_fields")
    for message, sender in zip(body["messages"], senders, strict=True):
        account.add_message(ticket, message, sender)
    ticket.refresh_from_db()
    account.fire(ticket, "ticket-created")
    return 201, account.ticket(ticket)


def get_ticket(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int) -> Result:
    return 200, account.ticket(_record(account, "tickets", pk))


def update_ticket(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int) -> Result:
    msg = "Failed to update ticket"
    ticket = _record(account, "tickets", pk)
    body = _checked(schema.TICKET_UPDATE, json_body(request, msg), msg)
    changes: dict[str, Any] = {
        k: v for k, v in body.items() if k not in ("tags", "custom_fields", "customer")
    }
    if "tags" in body:
        changes["tags"] = [account.tag(t["name"]) for t in body["tags"]]
    if "customer" in body:
        ref = body["customer"]
        customer = (
            account.customer(pk=ref["id"]) if "id" in ref else account.customer(email=ref.get("email", ""))
        )
        if customer is None:
            raise invalid(msg, {"customer": ["Customer not found."]})
        changes["customer_id"] = customer["id"]
    if "custom_fields" in body:
        set_field_values(account, ticket, body["custom_fields"], msg, "custom_fields")
    stamp = now()
    if body.get("status") == "closed" and ticket.data["status"] != "closed":
        changes["closed_datetime"] = stamp
    elif body.get("status") == "open":
        changes["closed_datetime"] = None
    account.save(ticket, **changes, updated_datetime=stamp)
    account.fire(ticket, "ticket-updated")
    return 200, account.ticket(ticket)


# -- custom fields ----------------------------------------------------------------------------------
def list_custom_fields(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    params = query(request, {"object_type", "search", "archived"}, required={"object_type"})
    if params["object_type"] not in ("Ticket", "Customer"):
        raise invalid("Invalid parameters", {"object_type": ["Must be one of: Ticket, Customer."]})
    archived = params.get("archived", "").lower()
    if archived not in ("", "true", "false"):
        raise invalid("Invalid parameters", {"archived": ["Not a valid boolean."]})
    search = params.get("search", "").lower()
    records = [
        r
        for r in account.records.all("custom-fields")
        if r.data["object_type"] == params["object_type"]
        and (not archived or bool(r.data.get("deactivated_datetime")) == (archived == "true"))
        and search in r.data["label"].lower()
    ]
    return page(request, records, lambda r: r.data, params, ("priority",))


def create_custom_field(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    admin_only(user)
    msg = "Failed to create custom field"
    body = _checked(schema.CUSTOM_FIELD_CREATE, json_body(request, msg), msg)
    if not body["label"].strip():
        raise invalid(msg, {"label": ["Shorter than minimum length 1."]})
    stamp = now()
    data = {
        "external_id": body.get("external_id"),
        "object_type": body["object_type"],
        "label": body["label"],
        "description": body.get("description"),
        "priority": body.get("priority") or 0,
        "required": bool(body.get("required")),
        "managed_type": body.get("managed_type"),
        "definition": body["definition"],
        "created_datetime": stamp,
        "updated_datetime": stamp,
        "deactivated_datetime": None,
    }
    return 201, account.create("custom-fields", data, key=body.get("external_id") or "")


def get_ticket_fields(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int) -> Result:
    return 200, account.field_values(_record(account, "tickets", pk).pk)


def put_ticket_fields(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int) -> Result:
    msg = "Failed to update ticket custom fields"
    ticket = _record(account, "tickets", pk)
    body = json_body(request, msg)
    errors = schema.validate({"items": schema.list_of(schema.CUSTOM_FIELD_VALUE)}, {"items": body})
    if errors:
        raise invalid(
            msg, errors["items"] if isinstance(errors["items"], dict) else {"_schema": errors["items"]}
        )
    set_field_values(account, ticket, body, msg)
    account.save(ticket, updated_datetime=now())
    return 200, account.field_values(ticket.pk)


# -- integrations ---------------------------------------------------------------------------------
def list_integrations(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    params = query(request, {"type"})
    records = [
        r
        for r in account.records.all("integrations")
        if not params.get("type") or r.data["type"] == params["type"]
    ]
    return page(request, records, lambda r: r.data, params)


def _http_config(body: dict[str, Any], current: dict[str, Any] | None, msg: str) -> dict[str, Any]:
    http = {**(current or {}), **body["http"]} if "http" in body else dict(current or {})
    if not http.get("url"):
        raise invalid(msg, {"http": {"url": ["Missing data for required field."]}})
    http.setdefault("method", "POST")
    http.setdefault("headers", {})
    http.setdefault("form", None)
    http.setdefault("request_content_type", "application/json")
    http.setdefault("response_content_type", "application/json")
    http.setdefault("triggers", {})
    if any(not isinstance(v, str) for v in (http["headers"] or {}).values()):
        raise invalid(msg, {"http": {"headers": ["Header values must be strings."]}})
    return http


def create_integration(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    admin_only(user)
    msg = "Failed to create integration"
    body = _checked(schema.INTEGRATION_CREATE, json_body(request, msg), msg)
    if "http" not in body:
        raise invalid(msg, {"http": ["Missing data for required field."]})
    stamp = now()
    data = {
        "name": body["name"],
        "type": body["type"],
        "description": body.get("description"),
        "http": _http_config(body, None, msg),
        "created_datetime": stamp,
        "updated_datetime": stamp,
        "deactivated_datetime": None,
    }
    return 201, account.create("integrations", data)


def get_integration(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int) -> Result:
    return 200, _record(account, "integrations", pk).data


def update_integration(
    request: HttpRequest, account: GorgiasAccount, user: dict[str, Any], pk: int
) -> Result:
    admin_only(user)
    msg = "Failed to update integration"
    record = _record(account, "integrations", pk)
    body = _checked(schema.INTEGRATION_UPDATE, json_body(request, msg), msg)
    changes = {k: v for k, v in body.items() if k != "http"}
    return 200, account.save(
        record, **changes, http=_http_config(body, record.data["http"], msg), updated_datetime=now()
    )


# -- files ----------------------------------------------------------------------------------------
def upload(request: HttpRequest, account: GorgiasAccount, user: dict[str, Any]) -> Result:
    params = query(request, {"type"}, required={"type"})
    if params["type"] not in ("attachment", "profile_picture", "widget_picture"):
        raise invalid(
            "Invalid parameters", {"type": ["Must be one of: attachment, profile_picture, widget_picture."]}
        )
    if not request.FILES:
        raise invalid("Failed to upload files", {"_schema": ["No file was sent."]})
    uploaded = []
    for part in [f for name in request.FILES for f in request.FILES.getlist(name)]:
        content = part.read()
        if len(content) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "File too large.")
        stored = account.create(
            "files",
            {
                "name": part.name,
                "content_type": part.content_type or "application/octet-stream",
                "size": len(content),
                "content": base64.b64encode(content).decode(),
            },
        )
        url = request.build_absolute_uri(
            f"/sandbox/gorgias/{account.domain}/files/{stored['id']}/{part.name}"
        )
        uploaded.append(
            {"url": url, "name": part.name, "size": len(content), "content_type": stored["content_type"]}
        )
    return 201, uploaded


def download(request: HttpRequest, domain: str, pk: int, name: str) -> HttpResponse:
    """A file's public address, as Gorgias's upload host serves attachments."""
    record = GorgiasAccount(domain).get("files", pk)
    if record is None or record.data["name"] != name:
        raise Http404
    return HttpResponse(base64.b64decode(record.data["content"]), content_type=record.data["content_type"])


account_view = endpoint(GET=get_account)
user_view = endpoint(GET=get_user)
users_view = endpoint(GET=list_users)
customers_view = endpoint(GET=list_customers, POST=create_customer)
customer_view = endpoint(GET=get_customer)
tickets_view = endpoint(GET=list_tickets, POST=create_ticket)
ticket_view = endpoint(GET=get_ticket, PUT=update_ticket)
ticket_messages_view = endpoint(GET=list_ticket_messages, POST=create_message)
ticket_message_view = endpoint(GET=get_message)
messages_view = endpoint(GET=list_messages)
ticket_fields_view = endpoint(GET=get_ticket_fields, PUT=put_ticket_fields)
custom_fields_view = endpoint(GET=list_custom_fields, POST=create_custom_field)
integrations_view = endpoint(GET=list_integrations, POST=create_integration)
integration_view = endpoint(GET=get_integration, PUT=update_integration)
upload_view = endpoint(POST=upload)
