"""URLs of the Help Scout emulator: the Mailbox API 2.0 under /sandbox/helpscout/v2/, its OAuth
token endpoint, the consent page, and the inbox page a demo user answers from."""

from django.urls import URLPattern, path

from deskbridge.sandbox.helpdesks.helpscout import api, oauth, page

app_name = "sandbox_helpscout"
V2 = "v2/conversations/<int:conversation_id>"

urlpatterns: list[URLPattern] = [
    path("v2/oauth2/token", oauth.token, name="token"),
    path("authentication/authorizeClientApplication", oauth.consent, name="consent"),
    path("mailbox/<str:account>/", page.mailbox_page, name="mailbox"),
    path("conversation/<int:conversation_id>", api.conversation_web, name="conversation"),
    path("conversation/<int:conversation_id>/<int:number>", api.conversation_web, name="conversation_web"),
    path("v2/users/me", api.endpoint(GET=api.users_me)),
    path("v2/mailboxes", api.endpoint(GET=api.mailboxes)),
    path("v2/mailboxes/<int:mailbox_id>", api.endpoint(GET=api.mailbox)),
    path("v2/mailboxes/<int:mailbox_id>/fields", api.endpoint(GET=api.mailbox_fields)),
    path("v2/customers", api.endpoint(GET=api.customers, POST=api.customer_create)),
    path("v2/customers/<int:customer_id>", api.endpoint(GET=api.customer)),
    path("v2/conversations", api.endpoint(GET=api.conversations, POST=api.conversation_create)),
    path(V2, api.endpoint(GET=api.conversation, PATCH=api.conversation_update)),
    path(f"{V2}/tags", api.endpoint(PUT=api.conversation_tags)),
    path(f"{V2}/fields", api.endpoint(PUT=api.conversation_fields)),
    path(f"{V2}/threads", api.endpoint(GET=api.threads)),
    path(f"{V2}/customer", api.endpoint(POST=api.thread_create("customer"))),
    path(f"{V2}/notes", api.endpoint(POST=api.thread_create("note"))),
    path(f"{V2}/reply", api.endpoint(POST=api.thread_create("reply"))),
    path(f"{V2}/threads/<int:thread_id>/attachments", api.endpoint(POST=api.thread_attachment)),
    path(f"{V2}/attachments/<int:attachment_id>/data", api.endpoint(GET=api.attachment_data)),
    path("v2/webhooks", api.endpoint(GET=api.webhooks, POST=api.webhook_create)),
    path(
        "v2/webhooks/<int:webhook_id>",
        api.endpoint(GET=api.webhook, PUT=api.webhook_update, DELETE=api.webhook_delete),
    ),
]
