"""URLs of the zendesk emulator: /sandbox/zendesk/<subdomain>/api/v2/… (with or without .json, as
Zendesk takes both), attachments, and the agent page."""

from collections.abc import Callable

from django.http import HttpResponse
from django.urls import URLPattern, re_path

from deskbridge.sandbox.helpdesks.zendesk import api, page

SUB = r"^(?P<sub>[a-z0-9][a-z0-9-]*)"
JSON = r"(?:\.json)?$"


def _api(pattern: str, view: Callable[..., HttpResponse], name: str) -> URLPattern:
    return re_path(f"{SUB}/api/v2/{pattern}{JSON}", view, name=name)


app_name = "sandbox_zendesk"

urlpatterns: list[URLPattern] = [
    _api("users/me", api.users_me, "users_me"),
    _api("users/create_or_update", api.users_create_or_update, "users_create_or_update"),
    _api(r"users/(?P<user_id>\d+)", api.user_show, "user"),
    _api("tickets", api.tickets_collection, "tickets"),
    _api(r"tickets/(?P<ticket_id>\d+)", api.ticket_item, "ticket"),
    _api(r"tickets/(?P<ticket_id>\d+)/comments", api.ticket_comments, "ticket_comments"),
    _api(r"tickets/(?P<ticket_id>\d+)/audits", api.ticket_audits, "ticket_audits"),
    _api("uploads", api.uploads, "uploads"),
    _api("ticket_fields", api.ticket_fields, "ticket_fields"),
    _api("webhooks", api.webhooks_collection, "webhooks"),
    _api(r"webhooks/(?P<webhook_id>[0-9A-Z]{26})", api.webhook_item, "webhook"),
    _api(r"webhooks/(?P<webhook_id>[0-9A-Z]{26})/signing_secret", api.webhook_secret, "webhook_secret"),
    _api("triggers", api.triggers_collection, "triggers"),
    _api(r"triggers/(?P<trigger_id>\d+)", api.trigger_item, "trigger"),
    re_path(
        f"{SUB}/attachments/token/(?P<token>[A-Za-z0-9_-]+)/?$", api.attachment_content, name="attachment"
    ),
    re_path(f"{SUB}/agent/tickets/(?P<ticket_id>\\d+)$", page.agent_ticket, name="agent_ticket"),
    re_path(f"{SUB}/tickets/(?P<ticket_id>\\d+)/reply$", page.reply, name="reply"),
    re_path(f"{SUB}/$", page.account_page, name="account"),
]
