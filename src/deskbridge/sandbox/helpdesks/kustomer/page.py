"""The agent's page of an emulated Kustomer org: conversations with messages, notes, tags and order
attributes, and a form to answer (a reply fires the outbound webhook, as an agent's would)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from deskbridge.helpdesks.base import ORDER_FIELDS
from deskbridge.sandbox.helpdesks.kustomer.seed import page_url, reply_channel, tickets
from deskbridge.sandbox.helpdesks.kustomer.store import Org


def _org(account: str) -> Org:
    org = Org(account)
    if org.records.find("org", account) is None:
        raise Http404("No such sandbox Kustomer org")
    return org


@require_GET
def agent_page(request: HttpRequest, org: str, rest: str = "") -> HttpResponse:
    """The org's conversations; `rest` takes the app's deep links (/app/customers/…/event/…)."""
    _org(org)
    conversations = tickets(org)
    for conversation in conversations:
        conversation["field_rows"] = [
            (ORDER_FIELDS[key], value) for key, value in conversation["fields"].items()
        ]
    return render(
        request,
        "sandbox/kustomer/page.html",
        {"org": org, "conversations": list(reversed(conversations)), "sent": request.GET.get("sent", "")},
    )


@require_POST
def reply(request: HttpRequest, org: str) -> HttpResponse:
    emulated = _org(org)
    conversation = emulated.get("conversations", request.POST.get("conversation", ""))
    text = request.POST.get("text", "").strip()
    if conversation is None or not text:
        return redirect(page_url(org) + "?sent=empty")
    record = emulated.records.find("org", org)
    assert record is not None
    agent = record.data["agent"]
    if request.POST.get("kind") == "note":
        emulated.create_note(conversation, text, agent)
    else:
        channel, app = reply_channel(emulated, conversation)
        emulated.create_message(
            conversation, {"app": app, "channel": channel, "direction": "out", "body": text}, agent
        )
    return redirect(page_url(org) + "?sent=1")
