"""The emulated Zendesk REST API under /sandbox/zendesk/<subdomain>/api/v2/: API-token auth, the
account's rate limit, strict request bodies and Zendesk's own error bodies."""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskBucket, SandboxHelpdeskRecord
from deskbridge.sandbox.helpdesks.state import take_token
from deskbridge.sandbox.helpdesks.zendesk import store, tickets, validation
from deskbridge.sandbox.helpdesks.zendesk.validation import Invalid

Record = SandboxHelpdeskRecord


class BadRequest(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("description") or body.get("error"))
        self.status, self.body = status, body


@dataclass
class Ctx:
    sub: str
    user: Record
    account: Record
    base_url: str

    @property
    def admin(self) -> bool:
        return self.user.data["role"] == "admin"


def error(status: int, name: str, description: str = "") -> JsonResponse:
    body: dict[str, Any] = {"error": name}
    if description:
        body["description"] = description
    return JsonResponse(body, status=status)


def not_found() -> JsonResponse:
    return error(404, "RecordNotFound", "Not found")


def forbidden() -> JsonResponse:
    return error(
        403,
        "Forbidden",
        "You do not have access to this page. Please contact the account owner of this help desk for further help.",
    )


def no_helpdesk(sub: str) -> JsonResponse:
    return JsonResponse(
        {
            "error": {
                "title": f"No help desk at {sub}.zendesk.com",
                "message": "There is no help desk configured at this address. This means that the address is "
                "available and that you can claim it at http://www.zendesk.com/signup",
            }
        },
        status=404,
    )


def _user_of(request: HttpRequest, sub: str) -> Record | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, _, token = decoded.partition(":")
    if not username.endswith("/token") or not token:
        return None  # password authentication is off for the API on this account
    return store.authenticate(sub, username.removesuffix("/token"), token)


def _rate_headers(response: HttpResponse, sub: str, limit: int, listing: bool) -> None:
    bucket = SandboxHelpdeskBucket.objects.filter(key=f"zendesk:{sub}").first()
    remaining = str(max(0, int(bucket.tokens)) if bucket else limit)
    response["X-Rate-Limit"] = str(limit)
    response["X-Rate-Limit-Remaining"] = remaining
    if listing:
        response["ratelimit-limit"] = str(limit)
        response["ratelimit-remaining"] = remaining
        response["ratelimit-reset"] = "60"


def endpoint(*, listing: bool = False) -> Callable[..., Callable[..., HttpResponse]]:
    """Account, auth, rate limit and error mapping around one API view."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, sub: str, **kwargs: Any) -> HttpResponse:
            account = store.account(sub)
            if account is None:
                return no_helpdesk(sub)
            user = _user_of(request, sub)
            if user is None:
                return JsonResponse({"error": "Couldn't authenticate you"}, status=401)
            if user.data["role"] == "end-user" or not user.data.get("active", True):
                return forbidden()
            limit = store.rate_limit(account)
            wait = take_token(f"zendesk:{sub}", limit, 60.0)
            if wait > 0:
                response = HttpResponse(
                    "Number of allowed API requests per minute exceeded",
                    status=429,
                    content_type="text/plain",
                )
                response["Retry-After"] = str(max(1, math.ceil(wait)))
                response["X-Rate-Limit"] = str(limit)
                response["X-Rate-Limit-Remaining"] = "0"
                return response
            ctx = Ctx(sub, user, account, request.build_absolute_uri(f"/sandbox/zendesk/{sub}").rstrip("/"))
            try:
                response = view(request, ctx, **kwargs)
            except Invalid as exc:
                response = JsonResponse(
                    {
                        "error": "RecordInvalid",
                        "description": "Record validation errors",
                        "details": exc.details,
                    },
                    status=422,
                )
            except BadRequest as exc:
                response = JsonResponse(exc.body, status=exc.status)
            _rate_headers(response, sub, limit, listing)
            return response

        return wrapper

    return decorate


def body_of(request: HttpRequest, spec: validation.Spec) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise BadRequest(
            415,
            {"error": "UnsupportedMediaType", "description": "Send JSON with Content-Type: application/json"},
        )
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise BadRequest(
            400, {"error": "InvalidJSON", "description": "The request body is not valid JSON"}
        ) from None
    validation.validate(spec, body)
    return body


def _page_size(request: HttpRequest) -> int | None:
    raw = request.GET.get("page[size]")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise BadRequest(
            400, {"error": "InvalidPaginationParameter", "description": "page[size] must be 1 to 100"}
        )
    return int(raw)


def listing(request: HttpRequest, items: list[dict[str, Any]], key: str) -> JsonResponse:
    """Cursor pagination when page[size] is given, offset pagination (100 a page) otherwise."""
    size = _page_size(request)
    path = request.build_absolute_uri(request.path)
    others = {k: v for k, v in request.GET.items() if not k.startswith("page")}
    if size is None:
        raw = request.GET.get("page", "1")
        number = int(raw) if raw.isdigit() and int(raw) >= 1 else 1
        chunk = items[(number - 1) * 100 : number * 100]
        more = len(items) > number * 100
        return JsonResponse(
            {
                key: chunk,
                "next_page": f"{path}?{urlencode({**others, 'page': number + 1})}" if more else None,
                "previous_page": f"{path}?{urlencode({**others, 'page': number - 1})}"
                if number > 1
                else None,
                "count": len(items),
            }
        )
    after = request.GET.get("page[after]", "")
    start = 0
    if after:
        try:
            last = int(base64.urlsafe_b64decode(after.encode()).decode())
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise BadRequest(
                400, {"error": "InvalidPaginationParameter", "description": "page[after] is not a cursor"}
            ) from None
        start = next((i for i, item in enumerate(items) if _order(item) > last), len(items))
    chunk = items[start : start + size]
    more = start + size < len(items)
    cursor = base64.urlsafe_b64encode(str(_order(chunk[-1])).encode()).decode() if chunk else None
    first = base64.urlsafe_b64encode(str(_order(chunk[0])).encode()).decode() if chunk else None
    return JsonResponse(
        {
            key: chunk,
            "meta": {"has_more": more, "after_cursor": cursor, "before_cursor": first},
            "links": {
                "next": f"{path}?{urlencode({**others, 'page[size]': size, 'page[after]': cursor})}"
                if more
                else None,
                "prev": f"{path}?{urlencode({**others, 'page[size]': size, 'page[before]': first})}"
                if start
                else None,
            },
        }
    )


def _order(item: dict[str, Any]) -> int:
    return int(item["_order"]) if "_order" in item else int(item["id"])


def _ticket(ctx: Ctx, ticket_id: str) -> Record | None:
    return store.records(ctx.sub).get("tickets", ticket_id)


# -- users -----------------------------------------------------------------------------------------
@endpoint()
def users_me(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    if request.method != "GET":
        return error(404, "InvalidEndpoint", "Not found")
    return JsonResponse({"user": store.user_json(ctx.sub, ctx.user, ctx.base_url)})


@endpoint()
def user_show(request: HttpRequest, ctx: Ctx, user_id: str) -> HttpResponse:
    user = store.records(ctx.sub).get("users", user_id)
    if request.method != "GET":
        return error(404, "InvalidEndpoint", "Not found")
    return JsonResponse({"user": store.user_json(ctx.sub, user, ctx.base_url)}) if user else not_found()


def _valid_email(value: str) -> bool:
    local, _, domain = value.partition("@")
    return bool(local) and "." in domain and " " not in value


@endpoint()
def users_create_or_update(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    if request.method != "POST":
        return error(404, "InvalidEndpoint", "Not found")
    given = body_of(request, validation.USER_UPSERT)["user"]
    if given.get("email") and not _valid_email(given["email"]):
        raise tickets.invalid("email", "Email is not properly formatted")
    if given.get("role", "end-user") != "end-user" and not ctx.admin:
        return forbidden()
    found = store.find_user(ctx.sub, email=given.get("email", ""), external_id=given.get("external_id") or "")
    if found is None:
        user = store.create_user(ctx.sub, given)
        return JsonResponse({"user": store.user_json(ctx.sub, user, ctx.base_url)}, status=201)
    for key in ("name", "email", "external_id", "role", "verified", "notes", "locale_id", "tags"):
        if key in given:
            found.data[key] = given[key]
    found.data["updated_at"] = store.now()
    found.key = store.user_key(found.data.get("email") or "", found.data.get("external_id") or "")
    found.save(update_fields=["data", "key", "updated_at"])
    return JsonResponse({"user": store.user_json(ctx.sub, found, ctx.base_url)})


# -- tickets ---------------------------------------------------------------------------------------
@endpoint(listing=True)
def tickets_collection(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    db = store.records(ctx.sub)
    if request.method == "GET":
        external_id = request.GET.get("external_id")
        records = (
            db.all("tickets")
            if external_id is None
            else [t for t in db.all("tickets") if t.data.get("external_id") == external_id]
        )
        return listing(request, [tickets.ticket_json(t, ctx.base_url) for t in records], "tickets")
    if request.method != "POST":
        return error(404, "InvalidEndpoint", "Not found")
    fields = body_of(request, validation.TICKET_CREATE)["ticket"]
    if fields.get("requester", {}).get("email") and not _valid_email(fields["requester"]["email"]):
        raise tickets.invalid("requester", "Requester: Email is not properly formatted")
    ticket = tickets.create_ticket(ctx.sub, ctx.user, fields, ctx.base_url)
    audit = db.children("audits", ticket.pk)[-1]
    response = JsonResponse(
        {"ticket": tickets.ticket_json(ticket, ctx.base_url), "audit": tickets.audit_json(audit)}, status=201
    )
    response["Location"] = f"{ctx.base_url}/api/v2/tickets/{ticket.pk}.json"
    return response


@endpoint()
def ticket_item(request: HttpRequest, ctx: Ctx, ticket_id: str) -> HttpResponse:
    ticket = _ticket(ctx, ticket_id)
    if ticket is None:
        return not_found()
    if request.method == "GET":
        return JsonResponse({"ticket": tickets.ticket_json(ticket, ctx.base_url)})
    if request.method != "PUT":
        return error(404, "InvalidEndpoint", "Not found")
    changes = body_of(request, validation.TICKET_UPDATE)["ticket"]
    audit = tickets.update_ticket(ctx.sub, ctx.user, ticket, changes, ctx.base_url)
    ticket.refresh_from_db()
    body: dict[str, Any] = {"ticket": tickets.ticket_json(ticket, ctx.base_url)}
    if audit is not None:
        body["audit"] = tickets.audit_json(audit)
    return JsonResponse(body)


@endpoint(listing=True)
def ticket_comments(request: HttpRequest, ctx: Ctx, ticket_id: str) -> HttpResponse:
    ticket = _ticket(ctx, ticket_id)
    if ticket is None:
        return not_found()
    if request.method != "GET":
        return error(404, "InvalidEndpoint", "Not found")
    comments = [
        tickets.comment_json(c, ctx.base_url) for c in store.records(ctx.sub).children("comments", ticket.pk)
    ]
    if request.GET.get("sort_order") == "desc":
        comments.reverse()
        for i, c in enumerate(comments):
            c["_order"] = i
        page = listing(request, comments, "comments")
        data = json.loads(page.content)
        for c in data["comments"]:
            c.pop("_order", None)
        return JsonResponse(data)
    return listing(request, comments, "comments")


@endpoint(listing=True)
def ticket_audits(request: HttpRequest, ctx: Ctx, ticket_id: str) -> HttpResponse:
    ticket = _ticket(ctx, ticket_id)
    if ticket is None:
        return not_found()
    if request.method != "GET":
        return error(404, "InvalidEndpoint", "Not found")
    audits = [tickets.audit_json(a) for a in store.records(ctx.sub).children("audits", ticket.pk)]
    return listing(request, audits, "audits")


@endpoint()
def uploads(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    if request.method != "POST":
        return error(404, "InvalidEndpoint", "Not found")
    name = request.GET.get("filename", "")
    if not name:
        raise tickets.invalid("filename", "Filename can't be blank", "BlankValue")
    content = request.body
    if not content:
        raise tickets.invalid("uploads", "The uploaded file is empty", "BlankValue")
    token = secrets.token_urlsafe(18)
    db = store.records(ctx.sub)
    record = db.create("uploads", {}, key=token)
    upload = {
        "id": record.pk,
        "token": token,
        "file_name": name,
        "content_type": (request.content_type or "application/binary").split(";")[0],
        "size": len(content),
        "content_b64": base64.b64encode(content).decode(),
        "used": False,
    }
    record.data = upload
    record.save(update_fields=["data", "updated_at"])
    attachment = tickets.attachment_json(upload, ctx.base_url)
    return JsonResponse(
        {
            "upload": {
                "token": token,
                "expires_at": None,
                "attachment": attachment,
                "attachments": [attachment],
            }
        },
        status=201,
    )


def attachment_content(request: HttpRequest, sub: str, token: str) -> HttpResponse:
    """The bytes of an uploaded file (Zendesk serves these at the content_url it shows)."""
    upload = store.records(sub).find("uploads", token)
    if upload is None or request.method != "GET":
        return not_found()
    response = HttpResponse(
        base64.b64decode(upload.data["content_b64"]), content_type=upload.data["content_type"]
    )
    response["Content-Disposition"] = f'attachment; filename="{upload.data["file_name"]}"'
    return response


# -- ticket fields ---------------------------------------------------------------------------------
def field_json(record: Record, base_url: str) -> dict[str, Any]:
    data = record.data
    return {
        "id": record.pk,
        "url": f"{base_url}/api/v2/ticket_fields/{record.pk}.json",
        "type": data["type"],
        "title": data["title"],
        "raw_title": data["title"],
        "description": data.get("description", ""),
        "raw_description": data.get("description", ""),
        "agent_description": data.get("agent_description"),
        "position": data.get("position", 9999),
        "active": data.get("active", True),
        "required": data.get("required", False),
        "collapsed_for_agents": False,
        "regexp_for_validation": None,
        "title_in_portal": data["title"],
        "raw_title_in_portal": data["title"],
        "visible_in_portal": data.get("visible_in_portal", False),
        "editable_in_portal": data.get("editable_in_portal", False),
        "required_in_portal": False,
        "tag": None,
        "removable": True,
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
    }


@endpoint(listing=True)
def ticket_fields(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    db = store.records(ctx.sub)
    if request.method == "GET":
        return listing(
            request, [field_json(f, ctx.base_url) for f in db.all("ticket_fields")], "ticket_fields"
        )
    if request.method != "POST":
        return error(404, "InvalidEndpoint", "Not found")
    if not ctx.admin:
        return forbidden()
    given = body_of(request, validation.TICKET_FIELD_CREATE)["ticket_field"]
    stamp = store.now()
    record = db.create(
        "ticket_fields", {**given, "created_at": stamp, "updated_at": stamp}, key=given["title"]
    )
    return JsonResponse({"ticket_field": field_json(record, ctx.base_url)}, status=201)


# -- webhooks --------------------------------------------------------------------------------------
def webhook_json(record: Record) -> dict[str, Any]:
    data = record.data
    body = {
        key: data[key]
        for key in (
            "name",
            "status",
            "subscriptions",
            "endpoint",
            "http_method",
            "request_format",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
        )
    }
    body["id"] = record.key
    if data.get("description"):
        body["description"] = data["description"]
    if data.get("authentication"):
        body["authentication"] = {k: v for k, v in data["authentication"].items() if k != "data"}
    return body


def _check_webhook(given: dict[str, Any]) -> None:
    if not given["endpoint"].startswith(("http://", "https://")):
        raise tickets.invalid("endpoint", "Endpoint must be an http or https URL")
    events = given["subscriptions"]
    if events != ["conditional_ticket_events"] and not all(e.startswith("zen:event-type:") for e in events):
        raise tickets.invalid(
            "subscriptions", "Subscriptions: use conditional_ticket_events or zen:event-type names"
        )
    if any(e.startswith("zen:event-type:") for e in events) and (
        given["http_method"],
        given["request_format"],
    ) != ("POST", "json"):
        raise tickets.invalid(
            "http_method", "Event subscriptions need http_method POST and request_format json"
        )


@endpoint(listing=True)
def webhooks_collection(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    if not ctx.admin:
        return forbidden()
    db = store.records(ctx.sub)
    if request.method == "GET":
        contains = request.GET.get("filter[name_contains]", "").lower()
        hooks = [
            dict(webhook_json(h), _order=h.pk)
            for h in db.all("webhooks")
            if contains in h.data["name"].lower()
        ]
        page = json.loads(listing(request, hooks, "webhooks").content)
        for hook in page["webhooks"]:
            hook.pop("_order")
        return JsonResponse(page)
    if request.method != "POST":
        return error(404, "InvalidEndpoint", "Not found")
    given = body_of(request, validation.WEBHOOK)["webhook"]
    _check_webhook(given)
    stamp = store.now()
    data = {
        **given,
        "secret": base64.b64encode(secrets.token_bytes(32)).decode(),
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": str(ctx.user.pk),
        "updated_by": str(ctx.user.pk),
    }
    record = db.create("webhooks", data, key=tickets.ulid())
    return JsonResponse({"webhook": webhook_json(record)}, status=201)


@endpoint()
def webhook_item(request: HttpRequest, ctx: Ctx, webhook_id: str) -> HttpResponse:
    if not ctx.admin:
        return forbidden()
    hook = store.records(ctx.sub).find("webhooks", webhook_id)
    if hook is None:
        return not_found()
    if request.method == "GET":
        return JsonResponse({"webhook": webhook_json(hook)})
    if request.method == "PUT":
        given = body_of(request, validation.WEBHOOK)["webhook"]
        _check_webhook(given)
        hook.data.update(given, updated_at=store.now(), updated_by=str(ctx.user.pk))
        hook.save(update_fields=["data", "updated_at"])
        return HttpResponse(status=204)
    if request.method == "DELETE":
        hook.delete()
        return HttpResponse(status=204)
    return error(404, "InvalidEndpoint", "Not found")


@endpoint()
def webhook_secret(request: HttpRequest, ctx: Ctx, webhook_id: str) -> HttpResponse:
    if not ctx.admin:
        return forbidden()
    hook = store.records(ctx.sub).find("webhooks", webhook_id)
    if hook is None:
        return not_found()
    if request.method == "POST":
        hook.data["secret"] = base64.b64encode(secrets.token_bytes(32)).decode()
        hook.save(update_fields=["data", "updated_at"])
    elif request.method != "GET":
        return error(404, "InvalidEndpoint", "Not found")
    return JsonResponse(
        {"signing_secret": {"algorithm": "SHA256", "secret": hook.data["secret"]}},
        status=201 if request.method == "POST" else 200,
    )


# -- triggers --------------------------------------------------------------------------------------
def trigger_json(record: Record, base_url: str) -> dict[str, Any]:
    data = record.data
    return {
        "id": record.pk,
        "url": f"{base_url}/api/v2/triggers/{record.pk}.json",
        "title": data["title"],
        "raw_title": data["title"],
        "description": data.get("description"),
        "active": data.get("active", True),
        "position": data.get("position", record.pk),
        "default": False,
        "category_id": data.get("category_id", "1"),
        "conditions": {"all": data["conditions"].get("all", []), "any": data["conditions"].get("any", [])},
        "actions": data["actions"],
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
    }


@endpoint(listing=True)
def triggers_collection(request: HttpRequest, ctx: Ctx) -> HttpResponse:
    db = store.records(ctx.sub)
    if request.method == "GET":
        return listing(request, [trigger_json(t, ctx.base_url) for t in db.all("triggers")], "triggers")
    if request.method != "POST":
        return error(404, "InvalidEndpoint", "Not found")
    if not ctx.admin:
        return forbidden()
    given = body_of(request, validation.TRIGGER)["trigger"]
    tickets.check_trigger(ctx.sub, given)
    stamp = store.now()
    record = db.create("triggers", {**given, "created_at": stamp, "updated_at": stamp}, key=given["title"])
    return JsonResponse({"trigger": trigger_json(record, ctx.base_url)}, status=201)


@endpoint()
def trigger_item(request: HttpRequest, ctx: Ctx, trigger_id: str) -> HttpResponse:
    record = store.records(ctx.sub).get("triggers", trigger_id)
    if record is None:
        return not_found()
    if request.method == "GET":
        return JsonResponse({"trigger": trigger_json(record, ctx.base_url)})
    if request.method != "PUT":
        return error(404, "InvalidEndpoint", "Not found")
    if not ctx.admin:
        return forbidden()
    given = body_of(request, validation.TRIGGER)["trigger"]
    tickets.check_trigger(ctx.sub, given)
    record.data.update(given, updated_at=store.now())
    record.key = record.data["title"]
    record.save(update_fields=["data", "key", "updated_at"])
    return JsonResponse({"trigger": trigger_json(record, ctx.base_url)})
