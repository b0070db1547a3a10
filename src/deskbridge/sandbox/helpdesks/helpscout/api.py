"""The emulated Mailbox API 2.0 (/sandbox/helpscout/v2/…): Help Scout's paths, bodies and answers.

Every call needs `Authorization: Bearer <token>` from the token endpoint (deskbridge.sandbox.
helpdesks.helpscout.oauth); a missing, unknown or expired token is a 401. The account's
per-minute limit is enforced as Help Scout does, a write (POST, PUT, PATCH, DELETE) costing two
requests: every answer carries X-RateLimit-Limit-Minute and X-RateLimit-Remaining-Minute, and a
429 adds X-RateLimit-Retry-After. Creates answer 201 with `Resource-ID` and `Location` and no
body; updates 204; lists are HAL pages (`_embedded`, `page`, `_links`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt

from deskbridge.sandbox.helpdesks.helpscout import store
from deskbridge.sandbox.helpdesks.helpscout.validation import (
    DATE,
    Invalid,
    Spec,
    array,
    bad_request,
    boolean,
    check,
    email_address,
    error,
    integer,
    obj,
    text,
    timestamp,
    vnd_error,
    web_url,
)
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskBucket, SandboxHelpdeskRecord
from deskbridge.sandbox.helpdesks.state import Records, take_token

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STATUSES = ("active", "spam", "open", "closed", "pending")
PHOTO_TYPES = (
    "unknown",
    "gravatar",
    "twitter",
    "facebook",
    "googleprofile",
    "googleplus",
    "linkedin",
    "instagram",
)


def _one_customer(value: dict[str, Any]) -> str:
    return (
        "" if value.get("id") is not None or value.get("email") else "must contain a customer id or an email"
    )


def _base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "must be base64-encoded"
    return ""


CUSTOMER_REF = obj(
    {
        "id": integer(),
        "email": text(check=email_address),
        "firstName": text(min_length=1, max_length=40),
        "lastName": text(min_length=1, max_length=40),
        "phone": text(),
        "photoUrl": text(max_length=200),
        "photoType": text(choices=PHOTO_TYPES),
        "jobTitle": text(max_length=60),
        "location": text(max_length=60),
        "background": text(max_length=200),
        "organization": text(max_length=60),
        "gender": text(),
        "age": text(),
    },
    check=_one_customer,
)
ATTACHMENT = obj(
    {
        "fileName": text(required=True, min_length=1),
        "mimeType": text(required=True, min_length=1),
        "data": text(required=True, check=_base64),
    }
)
ADDRESSES = array(text(check=email_address))
THREAD_IN_CONVERSATION = obj(
    {
        "type": text(required=True, choices=("customer", "reply", "note", "chat", "phone")),
        "customer": CUSTOMER_REF,
        "text": text(required=True, min_length=1),
        "imported": boolean(),
        "createdAt": text(check=timestamp),
        "attachments": array(ATTACHMENT),
        "cc": ADDRESSES,
        "bcc": ADDRESSES,
        "draft": boolean(),
        "user": integer(),
    }
)
FIELD_VALUE = obj({"id": integer(required=True), "value": text(required=True)})
CONVERSATION = {
    "subject": text(required=True, min_length=1),
    "customer": Spec(CUSTOMER_REF.types, required=True, fields=CUSTOMER_REF.fields, check=CUSTOMER_REF.check),
    "mailboxId": integer(required=True),
    "type": text(required=True, choices=("email", "chat", "phone")),
    "status": text(required=True, choices=STATUSES),
    "createdAt": text(check=timestamp),
    "closedAt": text(check=timestamp),
    "threads": array(THREAD_IN_CONVERSATION, required=True, min_length=1),
    "tags": array(text(min_length=1)),
    "fields": array(FIELD_VALUE),
    "assignTo": integer(nullable=True),
    "imported": boolean(),
    "autoReply": boolean(),
    "user": integer(),
}
REQUIRED_CUSTOMER = Spec(
    CUSTOMER_REF.types, required=True, fields=CUSTOMER_REF.fields, check=CUSTOMER_REF.check
)
CUSTOMER_THREAD = {
    "customer": REQUIRED_CUSTOMER,
    "text": text(required=True, min_length=1),
    "imported": boolean(),
    "cc": ADDRESSES,
    "bcc": ADDRESSES,
    "createdAt": text(check=timestamp),
    "attachments": array(ATTACHMENT),
}
NOTE = {
    "text": text(required=True, min_length=1),
    "user": integer(),
    "status": text(choices=("active", "closed", "inbox_predefined", "open", "pending", "spam")),
    "imported": boolean(),
    "createdAt": text(check=timestamp),
    "attachments": array(ATTACHMENT),
}
REPLY = {
    "customer": REQUIRED_CUSTOMER,
    "text": text(required=True, min_length=1),
    "draft": boolean(),
    "imported": boolean(),
    "status": text(choices=("active", "all", "closed", "open", "pending", "spam")),
    "user": integer(),
    "cc": ADDRESSES,
    "bcc": ADDRESSES,
    "assignTo": integer(nullable=True),
    "createdAt": text(check=timestamp),
    "attachments": array(ATTACHMENT),
}
CUSTOMER = {
    "firstName": text(min_length=1, max_length=40),
    "lastName": text(min_length=1, max_length=40),
    "photoUrl": text(max_length=200),
    "photoType": text(choices=PHOTO_TYPES),
    "jobTitle": text(max_length=60),
    "location": text(max_length=60),
    "background": text(max_length=200),
    "age": text(),
    "gender": text(choices=("male", "female", "unknown", "Male", "Female", "Unknown")),
    "organization": text(max_length=60),
    "organizationId": integer(),
    "emails": array(
        obj({"type": text(required=True, choices=("home", "work", "other")), "value": text(required=True)})
    ),
}
WEBHOOK = {
    "url": text(required=True, check=web_url),
    "events": array(text(choices=store.EVENTS), required=True, min_length=1),
    "secret": text(required=True, min_length=1, max_length=40),
    "notification": boolean(),
    "payloadVersion": text(choices=("V2",)),
    "label": text(),
    "mailboxIds": array(integer()),
}
FIELDS_UPDATE = {"fields": array(FIELD_VALUE, required=True)}
TAGS_UPDATE = {"tags": array(text(min_length=1), required=True)}
PATCH = {
    "op": text(required=True, choices=("replace", "remove")),
    "path": text(
        required=True,
        choices=("/subject", "/status", "/mailboxId", "/primaryCustomer.id", "/assignTo", "/draft"),
    ),
    "value": Spec((str, int, bool), nullable=True),
}


@dataclass
class Call:
    """One authenticated API call: whose account, which user, and the parsed JSON body."""

    account: str
    user: SandboxHelpdeskRecord
    body: Any
    request: HttpRequest

    @property
    def rec(self) -> Records:
        return store.records(self.account)


def _spend(account: str, cost: int) -> tuple[float, int, int]:
    """Take `cost` tokens of the account's minute bucket: (seconds to wait, limit, remaining)."""
    limit = store.rate_limit(account)
    key = f"helpscout:{account}"
    wait = 0.0
    for _ in range(cost):
        wait = take_token(key, limit, 60.0)
        if wait:
            break
    bucket = SandboxHelpdeskBucket.objects.filter(key=key).first()
    remaining = max(0, math.floor(bucket.tokens)) if bucket else limit
    return wait, limit, remaining


def endpoint(**handlers: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view answering the given methods (GET=…, POST=…) the way every Mailbox API call is answered."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        handler = handlers.get(request.method or "")
        if handler is None:
            refused = vnd_error(405, f"Request method '{request.method}' not supported")
            refused["Allow"] = ", ".join(handlers)
            return refused
        authorization = str(request.headers.get("Authorization") or "")
        found = (
            store.token_account(authorization[7:].strip()) if authorization.startswith("Bearer ") else None
        )
        if found is None:
            return vnd_error(401, "Invalid or expired access token: authenticate with a Bearer token")
        account, user = found
        wait, limit, remaining = _spend(account, 2 if request.method in WRITES else 1)
        if wait:
            response: HttpResponse = JsonResponse({"message": "API rate limit exceeded"}, status=429)
            response["X-RateLimit-Retry-After"] = str(max(1, math.ceil(wait)))
        else:
            response = _answer(request, handler, account, user, kwargs)
        response["X-RateLimit-Limit-Minute"] = str(limit)
        response["X-RateLimit-Remaining-Minute"] = str(remaining)
        return response

    return view


def _answer(
    request: HttpRequest,
    handler: Callable[..., HttpResponse],
    account: str,
    user: SandboxHelpdeskRecord,
    kwargs: dict[str, Any],
) -> HttpResponse:
    body: Any = None
    if request.method in ("POST", "PUT", "PATCH"):
        if not (request.content_type or "").startswith("application/json"):
            return vnd_error(415, f"Content type '{request.content_type}' not supported")
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return bad_request([error("", "Malformed JSON request body", kind="MalformedJson")])
    try:
        with transaction.atomic():
            return handler(Call(account, user, body, request), **kwargs)
    except Invalid as exc:
        return bad_request(exc.errors)


def validate(body: Any, fields: dict[str, Spec]) -> dict[str, Any]:
    errors = check(body, fields)
    if errors:
        raise Invalid(errors)
    return dict(body)


def not_found() -> HttpResponse:
    return vnd_error(404, "Resource not found")


def hal(data: Any, status: int = 200) -> HttpResponse:
    return JsonResponse(data, status=status, content_type="application/hal+json", safe=False)


def created(call: Call, path: str, pk: int) -> HttpResponse:
    response = HttpResponse(status=201)
    response["Resource-ID"] = str(pk)
    response["Location"] = store.api_url(path)
    return response


def no_content() -> HttpResponse:
    return HttpResponse(status=204)


def query(call: Call, allowed: dict[str, Callable[[str], str]]) -> dict[str, str]:
    """The query parameters, each checked; an unknown or malformed one is a 400."""
    errors = []
    values: dict[str, str] = {}
    for name in call.request.GET:
        value = str(call.request.GET.get(name, ""))
        if name not in allowed:
            errors.append(error(name, "Unrecognized parameter", kind="UnrecognizedParameter", source="QUERY"))
            continue
        problem = allowed[name](value)
        if problem:
            errors.append(error(name, problem, value, source="QUERY"))
        values[name] = value
    if errors:
        raise Invalid(errors)
    return values


def any_text(value: str) -> str:
    return "" if value else "may not be empty"


def number(value: str) -> str:
    return "" if re.fullmatch(r"\d+", value) else "must be a number"


def numbers(value: str) -> str:
    return "" if re.fullmatch(r"\d+(,\d+)*", value) else "must be comma-separated numbers"


def one_of(*choices: str) -> Callable[[str], str]:
    return lambda value: "" if value in choices else "Expected one of these: " + ", ".join(choices)


def hal_page(call: Call, name: str, items: list[dict[str, Any]], size: int = 50) -> HttpResponse:
    number_ = int(call.request.GET.get("page") or 1)
    pages = max(1, math.ceil(len(items) / size))
    chunk = items[(number_ - 1) * size : number_ * size]
    base = store.api_url(call.request.path.split("/sandbox/helpscout", 1)[-1])
    other = "&".join(f"{k}={v}" for k, v in call.request.GET.items() if k != "page")

    def link(n: int) -> dict[str, str]:
        return {"href": f"{base}?{other + '&' if other else ''}page={n}"}

    body: dict[str, Any] = {}
    if chunk:
        body["_embedded"] = {name: chunk}
    body["page"] = {"size": size, "totalElements": len(items), "totalPages": pages, "number": number_}
    links: dict[str, Any] = {"self": link(number_), "first": link(1), "last": link(pages)}
    if number_ < pages:
        links["next"] = link(number_ + 1)
    if number_ > 1:
        links["prev"] = link(number_ - 1)
    links["page"] = {"href": base + "{?page}", "templated": True}
    body["_links"] = links
    return hal(body)


# -- users and inboxes ---------------------------------------------------------------------


def users_me(call: Call) -> HttpResponse:
    return hal(store.render_user(call.user))


def mailboxes(call: Call) -> HttpResponse:
    query(call, {"page": number})
    return hal_page(call, "mailboxes", [store.render_mailbox(m) for m in call.rec.all("mailboxes")])


def mailbox(call: Call, mailbox_id: int) -> HttpResponse:
    found = call.rec.get("mailboxes", mailbox_id)
    return hal(store.render_mailbox(found)) if found else not_found()


def mailbox_fields(call: Call, mailbox_id: int) -> HttpResponse:
    query(call, {"page": number})
    if call.rec.get("mailboxes", mailbox_id) is None:
        return not_found()
    fields = sorted(call.rec.children("fields", mailbox_id), key=lambda f: f.data["order"])
    return hal_page(call, "fields", [store.render_field(f) for f in fields])


# -- customers ------------------------------------------------------------------------------

QUERY_TERM = re.compile(r'^\(\s*(\w+)\s*:\s*"([^"]*)"\s*\)$')


def customers(call: Call) -> HttpResponse:
    params = query(
        call,
        {
            "query": any_text,
            "mailbox": number,
            "firstName": any_text,
            "lastName": any_text,
            "modifiedSince": timestamp,
            "sortField": one_of("createdAt", "firstName", "lastName", "modifiedAt", "score"),
            "sortOrder": one_of("asc", "desc"),
            "page": number,
        },
    )
    found = call.rec.all("customers")
    if "query" in params:
        match = QUERY_TERM.match(params["query"])
        if not match or match.group(1) not in ("email", "firstName", "lastName"):
            raise Invalid([error("query", "Invalid query", params["query"], source="QUERY")])
        field, value = match.group(1), match.group(2).lower()
        if field == "email":
            found = [c for c in found if any(e["value"] == value for e in c.data.get("emails", []))]
        else:
            found = [c for c in found if str(c.data.get(field, "")).lower() == value]
    for name in ("firstName", "lastName"):
        if name in params:
            found = [c for c in found if str(c.data.get(name, "")).lower() == params[name].lower()]
    return hal_page(call, "customers", [store.render_customer(c) for c in found])


def customer_create(call: Call) -> HttpResponse:
    body = validate(call.body, CUSTOMER)
    emails = body.get("emails", [])
    for index, email in enumerate(emails):
        if email_address(email["value"]):
            raise Invalid(
                [error(f"emails[{index}].value", "not a well-formed email address", email["value"])]
            )
        if store.customer_by_email(call.account, email["value"]):
            raise Invalid([error(f"emails[{index}].value", "Email is already in use", email["value"])])
    customer = store.create_customer(call.account, body)
    return created(call, f"/v2/customers/{customer.pk}", customer.pk)


def customer(call: Call, customer_id: int) -> HttpResponse:
    found = call.rec.get("customers", customer_id)
    return hal(store.render_customer(found)) if found else not_found()


# -- conversations --------------------------------------------------------------------------


def conversation_or_none(call: Call, conversation_id: int) -> SandboxHelpdeskRecord | None:
    found = call.rec.get("conversations", conversation_id)
    return found if found and found.data["state"] != "deleted" else None


def check_field_values(call: Call, mailbox_id: int, given: list[dict[str, Any]], prefix: str) -> None:
    fields = {f.pk: f for f in call.rec.children("fields", mailbox_id)}
    errors = []
    for index, item in enumerate(given):
        path = f"{prefix}[{index}]"
        field = fields.get(item["id"])
        if field is None:
            errors.append(error(f"{path}.id", "Custom field not found in this inbox", item["id"]))
            continue
        kind, value = field.data["type"], item["value"]
        if (kind == "singleline" and len(value) > 255) or (kind == "multiline" and len(value) > 15000):
            errors.append(error(f"{path}.value", "value is too long", value))
        elif kind == "date" and value and not DATE.match(value):
            errors.append(error(f"{path}.value", "must be in YYYY-MM-DD format", value))
        elif kind == "number" and value and not re.fullmatch(r"-?\d+(\.\d+)?", value):
            errors.append(error(f"{path}.value", "must be a number", value))
    if errors:
        raise Invalid(errors)


def imported_dates(body: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    if body.get("createdAt") and not body.get("imported"):
        return [
            error(
                f"{prefix}createdAt", "createdAt is only accepted together with imported", body["createdAt"]
            )
        ]
    return []


def known_customer(call: Call, given: dict[str, Any], path: str) -> SandboxHelpdeskRecord:
    customer = store.resolve_customer(call.account, given)
    if customer is None:
        raise Invalid([error(f"{path}.id", "Customer not found", given.get("id"))])
    return customer


def conversations(call: Call) -> HttpResponse:
    params = query(
        call,
        {
            "embed": one_of("threads"),
            "mailbox": numbers,
            "folder": number,
            "status": one_of("active", "all", "closed", "open", "pending", "spam"),
            "tag": any_text,
            "assigned_to": number,
            "modifiedSince": timestamp,
            "number": number,
            "sortField": one_of(
                "createdAt",
                "customerEmail",
                "mailboxid",
                "modifiedAt",
                "number",
                "score",
                "status",
                "subject",
            ),
            "sortOrder": one_of("asc", "desc"),
            "query": any_text,
            "customFieldsByIds": lambda v: (
                "" if re.fullmatch(r"\d+:[^,]*(,\d+:[^,]*)*", v) else "id:value expected"
            ),
            "page": number,
        },
    )
    found = [c for c in call.rec.all("conversations") if c.data["state"] != "deleted"]
    status = params.get("status", "active")
    if status != "all":
        found = [c for c in found if c.data["status"] == ("active" if status == "open" else status)]
    if "mailbox" in params:
        boxes = {int(m) for m in params["mailbox"].split(",")}
        found = [c for c in found if c.data["mailboxId"] in boxes]
    if "tag" in params:
        tags = {t.strip().lower() for t in params["tag"].split(",")}
        found = [c for c in found if tags & set(c.data["tags"])]
    if "number" in params:
        found = [c for c in found if c.data["number"] == int(params["number"])]
    if "customFieldsByIds" in params:
        for pair in params["customFieldsByIds"].split(","):
            fid, value = pair.split(":", 1)
            found = [c for c in found if c.data["customFields"].get(fid) == value]
    if "query" in params:
        match = QUERY_TERM.match(params["query"])
        if not match or match.group(1) not in ("tag", "subject", "email"):
            raise Invalid([error("query", "Invalid query", params["query"], source="QUERY")])
        field, value = match.group(1), match.group(2).lower()
        if field == "tag":
            found = [c for c in found if value in c.data["tags"]]
        elif field == "subject":
            found = [c for c in found if value in c.data["subject"].lower()]
        else:
            customer = store.customer_by_email(call.account, value)
            found = [c for c in found if customer and c.data["primaryCustomer"] == customer.pk]
    found.sort(key=lambda c: c.pk, reverse=params.get("sortOrder", "desc") == "desc")
    embed = params.get("embed") == "threads"
    rendered = [store.render_conversation(call.account, c, embed) for c in found]
    return hal_page(call, "conversations", rendered, size=25)


def conversation_create(call: Call) -> HttpResponse:
    body = validate(call.body, CONVERSATION)
    errors = []
    for index, thread in enumerate(body["threads"]):
        errors.extend(
            imported_dates(
                {**thread, "imported": thread.get("imported") or body.get("imported")}, f"threads[{index}]."
            )
        )
        if thread["type"] == "customer" and not thread.get("customer") and not body.get("customer"):
            errors.append(error(f"threads[{index}].customer", "may not be null", kind="NotNull"))
    if call.rec.get("mailboxes", body["mailboxId"]) is None:
        errors.append(error("mailboxId", "Mailbox not found", body["mailboxId"]))
    if body.get("assignTo") is not None and call.rec.get("users", body["assignTo"]) is None:
        errors.append(error("assignTo", "User not found", body["assignTo"]))
    if errors:
        raise Invalid(errors)
    check_field_values(call, body["mailboxId"], body.get("fields", []), "fields")
    customer = known_customer(call, body["customer"], "customer")
    conversation = store.create_conversation(call.account, body, customer, call.user)
    return created(call, f"/v2/conversations/{conversation.pk}", conversation.pk)


def conversation(call: Call, conversation_id: int) -> HttpResponse:
    query(call, {"embed": one_of("threads")})
    found = conversation_or_none(call, conversation_id)
    if found is None:
        return not_found()
    return hal(store.render_conversation(call.account, found, call.request.GET.get("embed") == "threads"))


def conversation_update(call: Call, conversation_id: int) -> HttpResponse:
    found = conversation_or_none(call, conversation_id)
    if found is None:
        return not_found()
    body = validate(call.body, PATCH)
    path, value, data = body["path"], body.get("value"), found.data
    if body["op"] == "remove":
        if path != "/assignTo":
            raise Invalid([error("path", "Only /assignTo can be removed", path)])
        data["assignee"] = None
    elif path == "/status":
        if value not in STATUSES:
            raise Invalid(
                [error("value", "Expected one of these: " + ", ".join(STATUSES), value, kind="EnumValue")]
            )
        store.set_status(found, str(value), call.user.pk)
        store.fire(call.account, "convo.status", found)
    elif path == "/subject":
        if not isinstance(value, str) or not value:
            raise Invalid([error("value", "may not be empty", value, kind="NotEmpty")])
        data["subject"] = value
    elif path in ("/mailboxId", "/primaryCustomer.id", "/assignTo"):
        collection = {"/mailboxId": "mailboxes", "/primaryCustomer.id": "customers", "/assignTo": "users"}[
            path
        ]
        if not isinstance(value, int) or isinstance(value, bool) or call.rec.get(collection, value) is None:
            raise Invalid([error("value", "Not found", value)])
        data[
            {"/mailboxId": "mailboxId", "/primaryCustomer.id": "primaryCustomer", "/assignTo": "assignee"}[
                path
            ]
        ] = value
    elif path == "/draft" and value is not False:
        raise Invalid([error("value", "A conversation can only be published (false)", value)])
    found.save(update_fields=["data", "updated_at"])
    return no_content()


def conversation_tags(call: Call, conversation_id: int) -> HttpResponse:
    found = conversation_or_none(call, conversation_id)
    if found is None:
        return not_found()
    body = validate(call.body, TAGS_UPDATE)
    found.data["tags"] = store.normalise_tags(body["tags"])
    found.save(update_fields=["data", "updated_at"])
    store.fire(call.account, "convo.tags", found)
    return no_content()


def conversation_fields(call: Call, conversation_id: int) -> HttpResponse:
    found = conversation_or_none(call, conversation_id)
    if found is None:
        return not_found()
    body = validate(call.body, FIELDS_UPDATE)
    check_field_values(call, found.data["mailboxId"], body["fields"], "fields")
    # The list replaces every field: the ones left out are removed (Help Scout's documented rule).
    found.data["customFields"] = {str(f["id"]): f["value"] for f in body["fields"]}
    found.save(update_fields=["data", "updated_at"])
    store.fire(call.account, "convo.custom-fields", found)
    return no_content()


# -- threads ----------------------------------------------------------------------------------


def threads(call: Call, conversation_id: int) -> HttpResponse:
    query(call, {"page": number})
    found = conversation_or_none(call, conversation_id)
    if found is None:
        return not_found()
    listed = [store.render_thread(call.account, t) for t in reversed(call.rec.children("threads", found.pk))]
    return hal_page(call, "threads", listed)


THREAD_SPECS = {"customer": CUSTOMER_THREAD, "note": NOTE, "reply": REPLY}


def author(call: Call, body: dict[str, Any]) -> SandboxHelpdeskRecord:
    """The user a reply or note is by: `user`, else the token's user."""
    user = call.rec.get("users", body["user"]) if "user" in body else call.user
    if user is None:
        raise Invalid([error("user", "User not found", body["user"])])
    return user


def thread_create(kind: str) -> Callable[..., HttpResponse]:
    """POST /v2/conversations/{id}/customer, /notes or /reply: one thread of that kind."""

    def handler(call: Call, conversation_id: int) -> HttpResponse:
        found = conversation_or_none(call, conversation_id)
        if found is None:
            return not_found()
        body = validate(call.body, THREAD_SPECS[kind])
        if errors := imported_dates(body):
            raise Invalid(errors)
        customer = known_customer(call, body["customer"], "customer") if "customer" in body else None
        user = author(call, body) if kind != "customer" else None
        status = body.get("status")
        thread = store.add_thread(
            call.account,
            found,
            kind,
            body["text"],
            customer_id=customer.pk if customer else None,
            user_id=user.pk if user else None,
            imported=bool(body.get("imported")),
            draft=bool(body.get("draft")),
            status=None if status in ("inbox_predefined", "all") else status,
            created_at=body.get("createdAt"),
            attachments=body.get("attachments"),
            cc=body.get("cc"),
            bcc=body.get("bcc"),
        )
        return created(call, f"/v2/conversations/{found.pk}/threads/{thread.pk}", thread.pk)

    return handler


def thread_attachment(call: Call, conversation_id: int, thread_id: int) -> HttpResponse:
    found = conversation_or_none(call, conversation_id)
    thread = call.rec.get("threads", thread_id)
    if found is None or thread is None or thread.parent != found.pk:
        return not_found()
    errors = check(call.body, ATTACHMENT.fields or {})
    if errors:
        raise Invalid(errors)
    ids = store.save_attachments(call.account, found.pk, [call.body])
    thread.data["attachments"] = [*thread.data.get("attachments", []), *ids]
    thread.save(update_fields=["data", "updated_at"])
    return created(call, f"/v2/conversations/{found.pk}/attachments/{ids[0]}", ids[0])


def attachment_data(call: Call, conversation_id: int, attachment_id: int) -> HttpResponse:
    found = call.rec.get("attachments", attachment_id)
    if found is None or found.parent != conversation_id:
        return not_found()
    return hal({"id": found.pk, "data": found.data["data"]})


# -- webhooks ---------------------------------------------------------------------------------


def render_webhook(hook: SandboxHelpdeskRecord, with_secret: bool) -> dict[str, Any]:
    data = {k: v for k, v in hook.data.items() if with_secret or k != "secret"}
    return {"id": hook.pk, **data, "_links": {"self": {"href": store.api_url(f"/v2/webhooks/{hook.pk}")}}}


def webhook_values(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": body["url"],
        "state": "enabled",
        "events": body["events"],
        "secret": body["secret"],
        "notification": bool(body.get("notification", False)),
        "payloadVersion": body.get("payloadVersion", "V2"),
        "label": body.get("label", ""),
        "mailboxIds": body.get("mailboxIds", []),
    }


def webhooks(call: Call) -> HttpResponse:
    query(call, {"page": number})
    # The listing includes each webhook's secret (as the vendor SDK's fixture shows); GET one does not.
    return hal_page(call, "webhooks", [render_webhook(h, True) for h in call.rec.all("webhooks")])


def webhook_create(call: Call) -> HttpResponse:
    body = validate(call.body, WEBHOOK)
    hook = call.rec.create("webhooks", webhook_values(body), key=body["url"])
    return created(call, f"/v2/webhooks/{hook.pk}", hook.pk)


def webhook(call: Call, webhook_id: int) -> HttpResponse:
    found = call.rec.get("webhooks", webhook_id)
    return hal(render_webhook(found, False)) if found else not_found()


def webhook_update(call: Call, webhook_id: int) -> HttpResponse:
    found = call.rec.get("webhooks", webhook_id)
    if found is None:
        return not_found()
    body = validate(call.body, WEBHOOK)
    found.data, found.key = webhook_values(body), body["url"]
    found.save(update_fields=["data", "key", "updated_at"])
    return no_content()


def webhook_delete(call: Call, webhook_id: int) -> HttpResponse:
    found = call.rec.get("webhooks", webhook_id)
    if found is None:
        return not_found()
    found.delete()
    return no_content()


def conversation_web(request: HttpRequest, conversation_id: int, number: int = 0) -> HttpResponse:
    """Where a ticket link (secure.helpscout.net/conversation/<id>[/<number>]) lands: the inbox page."""
    found = SandboxHelpdeskRecord.objects.filter(
        helpdesk=store.HELPDESK, collection="conversations", pk=conversation_id
    ).first()
    if found is None:
        return HttpResponse("No such conversation", status=404, content_type="text/plain")
    return redirect(f"{store.API}/mailbox/{found.account}/#conversation-{found.pk}")
