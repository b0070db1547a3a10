"""Attachments as Kustomer takes them: create the attachment document, POST the file to the upload
form it returns (S3-style, every field then `file` last, 204), then reference `{_id, name,
contentType, contentLength}` in a message. Reading one gives a short-lived `links.related` URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from deskbridge.sandbox.helpdesks.kustomer.api import Caller, Rule, check, document, error
from deskbridge.sandbox.helpdesks.kustomer.store import Org, now, object_id

MAX_BYTES = 25 * 1024 * 1024


def _signature(org: Org, attachment_id: str, purpose: str) -> str:
    secret = org.records.find("org", org.name)
    key = (secret.data["secret"] if secret else "").encode()
    return hmac.new(key, f"{purpose}:{attachment_id}".encode(), hashlib.sha256).hexdigest()


def _base(org: Org) -> str:
    return f"{settings.PUBLIC_URL}/sandbox/kustomer/{org.name}"


def create_attachment(request: HttpRequest, caller: Caller, body: dict[str, Any]) -> JsonResponse:
    attributes = check(
        body,
        {
            "name": Rule(str, required=True, max_length=255),
            "contentType": Rule(str, required=True),
            "contentLength": Rule(int, required=True),
        },
    )
    if not 0 < attributes["contentLength"] <= MAX_BYTES:
        return error(400, "bad_request", f"contentLength must be between 1 and {MAX_BYTES} bytes.")
    org = caller.org
    record = org.records.create("attachments", {**attributes, "uploaded": False, "createdAt": now()})
    ident = object_id(record)
    key = f"orgs/{org.org_id()}/attachments/{ident}"
    return document(
        {"type": "attachment", "id": ident, "attributes": attributes},
        status=201,
        meta={
            "upload": {
                "url": f"{_base(org)}/uploads",
                "fields": {
                    "key": key,
                    "Content-Type": attributes["contentType"],
                    "Policy": base64.b64encode(key.encode()).decode(),
                    "X-Amz-Signature": _signature(org, ident, "upload"),
                },
            }
        },
    )


@csrf_exempt
def upload(request: HttpRequest, org: str) -> HttpResponse:
    """The storage bucket's form POST (no API key: the signed policy is the authorization)."""
    emulated = Org(org)
    if request.method != "POST":
        return HttpResponse(status=405)
    key = request.POST.get("key", "")
    ident = key.rsplit("/", 1)[-1]
    record = emulated.get("attachments", ident)
    if record is None or not hmac.compare_digest(
        request.POST.get("X-Amz-Signature", ""), _signature(emulated, ident, "upload")
    ):
        return HttpResponse(
            "<Error><Code>AccessDenied</Code></Error>", status=403, content_type="application/xml"
        )
    file = request.FILES.get("file")
    if file is None or file.size != record.data["contentLength"]:
        return HttpResponse(
            "<Error><Code>EntityTooLarge</Code></Error>"
            if file
            else "<Error><Code>InvalidArgument</Code></Error>",
            status=400,
            content_type="application/xml",
        )
    emulated.touch(record, uploaded=True, _content=base64.b64encode(file.read()).decode())
    return HttpResponse(status=204)


def message_attachment(
    request: HttpRequest, caller: Caller, body: Any, message_id: str, attachment_id: str
) -> JsonResponse:
    org = caller.org
    message = org.get("messages", message_id)
    refs = {ref["_id"] for ref in (message.data.get("attachments", []) if message else [])}
    record = org.get("attachments", attachment_id)
    if message is None or record is None or attachment_id not in refs:
        return error(404, "not_found", f"Attachment {attachment_id} not found on message {message_id}.")
    related = (
        f"{_base(org)}/files/{attachment_id}?X-Amz-Signature={_signature(org, attachment_id, 'download')}"
    )
    return document(
        {
            "type": "attachment",
            "id": attachment_id,
            "attributes": {key: record.data[key] for key in ("name", "contentType", "contentLength")},
            "links": {"self": f"/v1/messages/{message_id}/attachments/{attachment_id}", "related": related},
        }
    )


def download(request: HttpRequest, org: str, attachment_id: str) -> HttpResponse:
    emulated = Org(org)
    record = emulated.get("attachments", attachment_id)
    signature = request.GET.get("X-Amz-Signature", "")
    if (
        record is None
        or not record.data.get("uploaded")
        or not hmac.compare_digest(signature, _signature(emulated, attachment_id, "download"))
    ):
        return HttpResponse(
            "<Error><Code>AccessDenied</Code></Error>", status=403, content_type="application/xml"
        )
    return HttpResponse(base64.b64decode(record.data["_content"]), content_type=record.data["contentType"])
