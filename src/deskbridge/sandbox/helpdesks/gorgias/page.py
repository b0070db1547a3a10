"""The emulated Gorgias's one human page: an account's tickets (messages, notes, tags, fields) and a
form for the agent to answer, which writes through the same code as the API (integrations fire)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from deskbridge.sandbox.helpdesks.gorgias.account import GorgiasAccount
from deskbridge.sandbox.helpdesks.gorgias.seed import agent_credentials, reply_body, tickets


def account_page(request: HttpRequest, domain: str) -> HttpResponse:
    acct = GorgiasAccount(domain)
    if not acct.exists():
        raise Http404
    if request.method == "POST":
        return _reply(request, acct)
    return render(
        request,
        "sandbox/gorgias/account.html",
        {"domain": domain, "tickets": list(reversed(tickets(domain))), "agent": agent_credentials(domain)[0]},
    )


def _reply(request: HttpRequest, acct: GorgiasAccount) -> HttpResponse:
    back = reverse("sandbox_gorgias:account", args=[acct.domain])
    text = request.POST.get("text", "").strip()
    record = acct.get("tickets", request.POST.get("ticket", ""))
    if record is None:
        messages.error(request, "That ticket does not exist.")
        return HttpResponseRedirect(back)
    if not text:
        messages.error(request, "Type a reply first.")
        return HttpResponseRedirect(f"{back}#ticket-{record.pk}")
    public = request.POST.get("kind", "reply") != "note"
    agent, _ = agent_credentials(acct.domain)
    body: dict[str, Any] = reply_body(acct, record.data, agent, text, "", public)
    with acct.atomic():
        acct.add_message(record, body, agent)
    messages.success(request, "Reply sent." if public else "Internal note added.")
    return HttpResponseRedirect(f"{back}#ticket-{record.pk}")


def ticket_link(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    """/app/ticket/<id>: where the connector's ticket links point, as in Gorgias's web app."""
    return HttpResponseRedirect(reverse("sandbox_gorgias:account", args=[domain]) + f"#ticket-{pk}")
