"""The sandbox Zendesk's agent page: one account's tickets with every message, note, tag and field,
and a form to answer as the account's agent (which fires the same webhook an API reply does)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from deskbridge.helpdesks.base import ORDER_FIELDS
from deskbridge.sandbox.helpdesks.zendesk import store, tickets
from deskbridge.sandbox.helpdesks.zendesk.validation import Invalid


def agent_of(sub: str) -> store.SandboxHelpdeskRecord | None:
    users = store.records(sub).all("users")
    return next((u for u in users if u.data["role"] == "agent"), None) or next(
        (u for u in users if u.data["role"] == "admin"), None
    )


def ticket_view(sub: str, record: store.SandboxHelpdeskRecord) -> dict[str, Any]:
    db = store.records(sub)
    titles = {f.pk: f.data["title"] for f in db.all("ticket_fields")}
    users = {u.pk: u.data for u in db.all("users")}
    requester = users.get(record.data["requester_id"], {})
    messages = []
    for comment in db.children("comments", record.pk):
        author = users.get(comment.data["author_id"], {})
        messages.append(
            {
                "id": comment.pk,
                "author": author.get("name") or "?",
                "role": author.get("role", ""),
                "public": comment.data["public"],
                "text": comment.data["plain_body"],
                "attachments": [a["file_name"] for a in comment.data.get("attachments", [])],
                "created_at": comment.data["created_at"],
            }
        )
    return {
        "id": record.pk,
        "subject": record.data["subject"],
        "status": record.data["status"],
        "external_id": record.data.get("external_id") or "",
        "tags": record.data["tags"],
        "requester": requester,
        "fields": [
            (titles.get(f["id"], str(f["id"])), f["value"])
            for f in record.data["custom_fields"]
            if f["value"]
        ],
        "messages": messages,
    }


@require_GET
def account_page(request: HttpRequest, sub: str) -> HttpResponse:
    if store.account(sub) is None:
        raise Http404("no such sandbox Zendesk account")
    rows = [ticket_view(sub, t) for t in reversed(store.records(sub).all("tickets"))]
    return render(
        request,
        "sandbox/zendesk/account.html",
        {"sub": sub, "tickets": rows, "agent": agent_of(sub), "order_titles": list(ORDER_FIELDS.values())},
    )


@require_GET
def agent_ticket(request: HttpRequest, sub: str, ticket_id: str) -> HttpResponse:
    """Zendesk's agent URL for a ticket; here, the ticket on the account page."""
    return HttpResponseRedirect(f"/sandbox/zendesk/{sub}/#ticket-{ticket_id}")


@require_POST
def reply(request: HttpRequest, sub: str, ticket_id: str) -> HttpResponse:
    ticket = store.records(sub).get("tickets", ticket_id)
    agent = agent_of(sub)
    if ticket is None or agent is None:
        raise Http404("no such ticket")
    text = request.POST.get("text", "").strip()
    public = request.POST.get("visibility", "public") == "public"
    if text:
        base_url = request.build_absolute_uri(f"/sandbox/zendesk/{sub}").rstrip("/")
        try:
            tickets.update_ticket(
                sub, agent, ticket, {"comment": {"body": text, "public": public}}, base_url, "web"
            )
        except Invalid as exc:
            return HttpResponse(str(exc), status=422, content_type="text/plain")
    return HttpResponseRedirect(f"/sandbox/zendesk/{sub}/#ticket-{ticket_id}")
