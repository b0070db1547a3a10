"""The emulated Help Scout inbox page (/sandbox/helpscout/mailbox/<account>/): what a demo user sees
of the account's conversations (threads, notes, tags, custom fields) and where they answer as the
agent. Answers go through the same function as the API's reply and note calls, so they change the
conversation and fire the webhooks exactly as an API reply does."""

from __future__ import annotations

import html
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from deskbridge.sandbox.helpdesks.helpscout import store
from deskbridge.sandbox.helpdesks.helpscout.seed import page_url, tickets


def mailbox_page(request: HttpRequest, account: str) -> HttpResponse:
    rec = store.records(account)
    if rec.find("company", "company") is None:
        return render(request, "sandbox/helpscout/missing.html", {"account": account}, status=404)
    if request.method == "POST":
        return answer(request, account)
    conversations = list(reversed(tickets(account)))
    webhooks = [
        {"url": h.data["url"], "events": h.data["events"], "state": h.data["state"]}
        for h in rec.all("webhooks")
    ]
    context: dict[str, Any] = {
        "account": account,
        "conversations": conversations,
        "mailbox": rec.all("mailboxes")[0],
        "webhooks": webhooks,
        "field_names": [f.data["name"] for f in rec.all("fields")],
    }
    return render(request, "sandbox/helpscout/mailbox.html", context)


def answer(request: HttpRequest, account: str) -> HttpResponse:
    rec = store.records(account)
    conversation = rec.get("conversations", request.POST.get("conversation"))
    text = request.POST.get("text", "").strip()
    kind = request.POST.get("kind", "reply")
    if conversation is None or kind not in ("reply", "note"):
        messages.error(request, "That conversation does not exist.")
        return redirect(page_url(account))
    if not text:
        messages.error(request, "Write a reply or a note first.")
        return redirect(f"{page_url(account)}#conversation-{conversation.pk}")
    with transaction.atomic():
        store.add_thread(
            account,
            conversation,
            kind,
            html.escape(text).replace("\n", "<br>"),
            user_id=store.agent(account).pk,
        )
    messages.success(request, "Reply sent." if kind == "reply" else "Note added.")
    return redirect(f"{page_url(account)}#conversation-{conversation.pk}")
