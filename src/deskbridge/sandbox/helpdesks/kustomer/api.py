"""How the emulated Kustomer API answers: Bearer API keys with roles, the org-wide rate limit with
its x-ratelimit-* headers, strict request bodies, and Kustomer's two error shapes.

Errors: the common shape `{"errors": [{"code", "message", "meta"}]}` (auth, 404, 429, malformed
JSON) and the JSON:API shape `{"errors": [{"status", "code", "title", "detail", "source", "meta"}]}`
for a body that breaks the schema (reference/helpdesk-payloads/kustomer/error-400*.json).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from deskbridge.sandbox.helpdesks.kustomer.store import Org
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskBucket
from deskbridge.sandbox.helpdesks.state import take_token

# Enterprise plan: 1,000 requests per minute per org (developer.kustomer.com rate limits).
ORG_LIMIT, WINDOW = 1000, 60.0
# Messages and notes: 120 per minute per customer, unless the message carries importedAt.
PER_CUSTOMER_LIMIT = 120
CUSTOM_SUFFIX = re.compile(r"^[a-z][A-Za-z0-9]*(Str|Txt|Num|At|Bool|Url)$")


class BadRequest(Exception):
    """A body that breaks the schema: answered 400 in the JSON:API error shape."""

    def __init__(self, detail: str, pointer: str = "", status: int = 400, code: str = "invalid") -> None:
        super().__init__(detail)
        self.detail, self.pointer, self.status, self.code = detail, pointer, status, code


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "message": message, "meta": {}}]}, status=status)


def invalid(exc: BadRequest) -> JsonResponse:
    entry: dict[str, Any] = {
        "status": str(exc.status),
        "code": exc.code,
        "title": "Invalid attribute" if exc.status == 400 else "Conflict",
        "detail": exc.detail,
        "meta": {},
    }
    if exc.pointer:
        entry["source"] = {"pointer": exc.pointer}
    return JsonResponse({"errors": [entry]}, status=exc.status)


@dataclass(frozen=True)
class Caller:
    org: Org
    user_id: str
    roles: frozenset[str]


Handler = Callable[..., JsonResponse]


def _bucket_headers(key: str, wait: float) -> dict[str, str]:
    bucket = SandboxHelpdeskBucket.objects.filter(key=key).first()
    remaining = int(bucket.tokens) if bucket else ORG_LIMIT
    reset = math.ceil(wait) if wait else math.ceil((ORG_LIMIT - remaining) * WINDOW / ORG_LIMIT)
    return {
        "x-ratelimit-limit": str(ORG_LIMIT),
        "x-ratelimit-remaining": str(max(0, remaining)),
        "x-ratelimit-reset": str(reset),
    }


def _caller(request: HttpRequest, org: Org) -> Caller | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token.strip():
        return None
    key = org.records.find("api_keys", token.strip())
    if key is None or not key.data.get("enabled", True):
        return None
    return Caller(org, key.data["user"], frozenset(key.data.get("roles", ())))


def endpoint(methods: Mapping[str, tuple[str, Handler]]) -> Callable[..., JsonResponse]:
    """A view for one path: `methods` maps an HTTP method to (the role it needs, the handler).
    Handlers take (request, caller, body, **path) and return a JsonResponse or raise BadRequest."""

    @csrf_exempt
    def view(request: HttpRequest, org: str, **path: str) -> JsonResponse:
        if request.method not in methods:
            return error(405, "method_not_allowed", f"{request.method} is not supported here.")
        emulated = Org(org)
        if emulated.records.find("org", org) is None:
            return error(404, "not_found", f"No Kustomer organization named {org}.")
        caller = _caller(request, emulated)
        if caller is None:
            return error(401, "unauthorized", "Missing or invalid API key.")
        role, handler = methods[str(request.method)]
        if role and role not in caller.roles:
            return error(403, "forbidden", f"This API key lacks the role {role}.")
        key = f"kustomer:{org}"
        wait = take_token(key, ORG_LIMIT, WINDOW)
        headers = _bucket_headers(key, wait)
        if wait > 0:
            response = error(429, "too_many_requests", "Rate limit exceeded.")
        else:
            response = _answer(request, caller, handler, path)
        for name, value in headers.items():
            response[name] = value
        return response

    return view


def _answer(request: HttpRequest, caller: Caller, handler: Handler, path: Mapping[str, str]) -> JsonResponse:
    body: Any = None
    if request.method in ("POST", "PUT", "PATCH"):
        if not (request.content_type or "").startswith("application/json"):
            return error(415, "unsupported_media_type", "Send the body as application/json.")
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return error(400, "bad_request", "Invalid request body or parameters.")
        if not isinstance(body, dict):
            return error(400, "bad_request", "Invalid request body or parameters.")
    try:
        return handler(request, caller, body, **path)
    except BadRequest as exc:
        return invalid(exc)


def per_customer_limit(org: Org, customer_id: str, attributes: Mapping[str, Any]) -> JsonResponse | None:
    """Kustomer's 120 messages/notes per minute per customer (importedAt is exempt)."""
    if "importedAt" in attributes:
        return None
    wait = take_token(f"kustomer:{org.name}:customer:{customer_id}", PER_CUSTOMER_LIMIT, WINDOW)
    if wait <= 0:
        return None
    response = error(429, "too_many_requests", "Rate limit exceeded for this customer.")
    response["x-ratelimit-limit"] = str(PER_CUSTOMER_LIMIT)
    response["x-ratelimit-remaining"] = "0"
    response["x-ratelimit-reset"] = str(math.ceil(wait))
    return response


# -- schema checks ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    kind: type | tuple[type, ...]
    required: bool = False
    choices: tuple[Any, ...] = ()
    max_length: int | None = None
    check: Callable[[Any, str], None] | None = None


def check(body: Mapping[str, Any], rules: Mapping[str, Rule]) -> dict[str, Any]:
    """The body when every key is known and well typed; BadRequest naming the first that is not."""
    for name in body:
        if name not in rules:
            raise BadRequest(f'"{name}" is not allowed', f"/data/attributes/{name}")
    for name, rule in rules.items():
        pointer = f"/data/attributes/{name}"
        if name not in body:
            if rule.required:
                raise BadRequest(f'"{name}" is required', pointer)
            continue
        value = body[name]
        kinds = rule.kind if isinstance(rule.kind, tuple) else (rule.kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__.replace("str", "string").replace("dict", "object") for k in kinds)
            raise BadRequest(f'"{name}" must be a {names}', pointer)
        if rule.choices and value not in rule.choices:
            raise BadRequest(f'"{name}" must be one of {", ".join(map(str, rule.choices))}', pointer)
        if rule.max_length is not None and isinstance(value, str | list) and len(value) > rule.max_length:
            raise BadRequest(f'"{name}" must have at most {rule.max_length} items or characters', pointer)
        if rule.check:
            rule.check(value, pointer)
    return dict(body)


def an_id(value: Any, pointer: str) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{24}", value):
        raise BadRequest("must be a valid 24-character object id", pointer)


def ids(value: Any, pointer: str) -> None:
    for index, item in enumerate(value):
        an_id(item, f"{pointer}/{index}")


def strings(value: Any, pointer: str) -> None:
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise BadRequest("must be a non-empty string", f"{pointer}/{index}")


def timestamp(value: Any, pointer: str) -> None:
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest("must be an ISO 8601 date-time", pointer) from exc


def custom_attributes(value: Any, pointer: str) -> None:
    """Custom attribute names carry their type as a suffix; values must be of that type."""
    for name, item in value.items():
        where = f"{pointer}/{name}"
        match = CUSTOM_SUFFIX.match(name)
        if not match:
            raise BadRequest(f"custom.{name} must use a type suffix such as {name}Str", where)
        if item is None:
            continue
        suffix = match.group(1)
        if suffix in ("Str", "Txt", "Url"):
            if not isinstance(item, str):
                raise BadRequest(f"custom.{name} must be a string", where)
            if len(item) > 1024:
                raise BadRequest(f"custom.{name} must have at most 1024 characters", where)
            if suffix == "Url" and not re.match(r"^[a-z][a-z0-9+.-]*://", item):
                raise BadRequest(f"custom.{name} must be a URI", where)
        elif suffix == "Num" and (isinstance(item, bool) or not isinstance(item, int | float)):
            raise BadRequest(f"custom.{name} must be a number", where)
        elif suffix == "Bool" and not isinstance(item, bool):
            raise BadRequest(f"custom.{name} must be a boolean", where)
        elif suffix == "At":
            timestamp(item, where)


def found(org: Org, collection: str, value: str, pointer: str) -> Any:
    """The record a body's relationship names; 400 when there is none."""
    record = org.get(collection, value)
    if record is None:
        raise BadRequest(f"{pointer.rsplit('/', 1)[-1]} {value} does not exist", pointer)
    return record


def document(data: Any, status: int = 200, **extra: Any) -> JsonResponse:
    return JsonResponse({"data": data, **extra}, status=status)


def page_of(request: HttpRequest, org: Org, collection: str, records: list[Any], path: str) -> JsonResponse:
    """Page-number pagination: page (from 1), pageSize (≤ 100), meta and links, next null at the end."""
    try:
        page = int(request.GET.get("page", "1"))
        size = int(request.GET.get("pageSize", "100"))
    except ValueError:
        return error(400, "bad_request", "page and pageSize must be integers.")
    if page < 1 or not 1 <= size <= 100:
        return error(400, "bad_request", "page starts at 1; pageSize is between 1 and 100.")
    total = len(records)
    pages = max(1, math.ceil(total / size))
    chunk = records[(page - 1) * size : page * size]

    def link(number: int) -> str:
        return f"/v1/{path}?page={number}&pageSize={size}"

    return JsonResponse(
        {
            "meta": {"page": page, "pageSize": size, "total": total, "totalPages": pages},
            "links": {
                "self": link(page),
                "first": link(1),
                "prev": link(page - 1) if page > 1 else None,
                "next": link(page + 1) if page < pages else None,
                "last": link(pages),
            },
            "data": [org.render(collection, record) for record in chunk],
        }
    )
