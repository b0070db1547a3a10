"""URLs of the gorgias emulator: the REST API under /sandbox/gorgias/<domain>/api/, as at
https://<domain>.gorgias.com/api/, plus the account's page and its files."""

from collections.abc import Callable

from django.http import HttpResponse
from django.urls import URLPattern, re_path

from deskbridge.sandbox.helpdesks.gorgias import page, views

app_name = "sandbox_gorgias"

D = r"^(?P<domain>[a-z0-9][a-z0-9-]{0,62})"
ID = r"(?P<pk>\d+)"


def api(route: str, view: Callable[..., HttpResponse], name: str) -> URLPattern:
    """`/api/<route>` with or without a trailing slash (Gorgias's `uri`s end with one)."""
    return re_path(rf"{D}/api/{route}/?$", view, name=name)


urlpatterns: list[URLPattern] = [
    api("account", views.account_view, "account_api"),
    api(r"users/(?P<pk>\d+)", views.user_view, "user"),
    api("users", views.users_view, "users"),
    api("customers", views.customers_view, "customers"),
    api(rf"customers/{ID}", views.customer_view, "customer"),
    api("tickets", views.tickets_view, "tickets"),
    api(rf"tickets/{ID}", views.ticket_view, "ticket"),
    api(rf"tickets/{ID}/messages", views.ticket_messages_view, "ticket_messages"),
    api(rf"tickets/{ID}/messages/(?P<message>\d+)", views.ticket_message_view, "ticket_message"),
    api(rf"tickets/{ID}/custom-fields", views.ticket_fields_view, "ticket_fields"),
    api("messages", views.messages_view, "messages"),
    api("custom-fields", views.custom_fields_view, "custom_fields"),
    api("integrations", views.integrations_view, "integrations"),
    api(rf"integrations/{ID}", views.integration_view, "integration"),
    api("upload", views.upload_view, "upload"),
    re_path(rf"{D}/files/{ID}/(?P<name>[^/]+)$", views.download, name="file"),
    re_path(rf"{D}/app/ticket/{ID}/?$", page.ticket_link, name="ticket_link"),
    re_path(rf"{D}/$", page.account_page, name="account"),
]
