"""URLs of the Kustomer emulator: `/sandbox/kustomer/<org>/v1/...` stands for
`https://<org>.api.kustomerapp.com/v1/...`; `<org>/app/` is the agent's page; `uploads` and `files`
stand for the attachment storage bucket."""

from django.urls import URLPattern, path

from deskbridge.sandbox.helpdesks.kustomer import attachments, page, views
from deskbridge.sandbox.helpdesks.kustomer.api import endpoint

CUSTOMER_READ = "org.permission.customer.read"
CONVERSATION_READ = "org.permission.conversation.read"
CONVERSATION_UPDATE = "org.permission.conversation.update"
MESSAGE_READ = "org.permission.message.read"
MESSAGE_CREATE = "org.permission.message.create"
NOTE_READ, NOTE_CREATE = "org.permission.note.read", "org.permission.note.create"
WEBHOOKS = "org.permission.outbound_webhook"
METADATA_READ, METADATA_UPDATE = "org.permission.metadata.read", "org.permission.metadata.update"

app_name = "sandbox_kustomer"

urlpatterns: list[URLPattern] = [
    path("<str:org>/app/", page.agent_page, name="page"),
    path("<str:org>/app/reply", page.reply, name="reply"),
    path("<str:org>/app/<path:rest>", page.agent_page, name="deep_link"),
    path("<str:org>/uploads", attachments.upload, name="upload"),
    path("<str:org>/files/<str:attachment_id>", attachments.download, name="file"),
    path("<str:org>/v1/auth/tokens/current", endpoint({"GET": ("", views.current_token)})),
    path(
        "<str:org>/v1/users/<str:user_id>",
        endpoint({"GET": ("org.permission.user.read", views.read_by_id("users"))}),
    ),
    path(
        "<str:org>/v1/customers",
        endpoint({"POST": ("org.permission.customer.create", views.create_customer)}),
    ),
    path(
        "<str:org>/v1/customers/externalId=<str:external_id>",
        endpoint({"GET": (CUSTOMER_READ, views.read_by_external_id("customers"))}),
    ),
    path(
        "<str:org>/v1/customers/<str:customer_id>",
        endpoint({"GET": (CUSTOMER_READ, views.read_by_id("customers"))}),
    ),
    path(
        "<str:org>/v1/customers/<str:customer_id>/messages",
        endpoint({"POST": (MESSAGE_CREATE, views.create_message_by_customer)}),
    ),
    path(
        "<str:org>/v1/conversations",
        endpoint(
            {
                "GET": (CONVERSATION_READ, views.list_conversations),
                "POST": ("org.permission.conversation.create", views.create_conversation),
            }
        ),
    ),
    path(
        "<str:org>/v1/conversations/externalId=<str:external_id>",
        endpoint({"GET": (CONVERSATION_READ, views.read_by_external_id("conversations"))}),
    ),
    path(
        "<str:org>/v1/conversations/<str:conversation_id>",
        endpoint(
            {
                "GET": (CONVERSATION_READ, views.read_by_id("conversations")),
                "PUT": (CONVERSATION_UPDATE, views.update_conversation),
            }
        ),
    ),
    path(
        "<str:org>/v1/conversations/<str:conversation_id>/messages",
        endpoint(
            {
                "GET": (MESSAGE_READ, views.conversation_messages),
                "POST": (MESSAGE_CREATE, views.conversation_messages),
            }
        ),
    ),
    path(
        "<str:org>/v1/conversations/<str:conversation_id>/notes",
        endpoint(
            {"GET": (NOTE_READ, views.conversation_notes), "POST": (NOTE_CREATE, views.conversation_notes)}
        ),
    ),
    path("<str:org>/v1/notes", endpoint({"POST": (NOTE_CREATE, views.create_note)})),
    path(
        "<str:org>/v1/messages/<str:message_id>",
        endpoint({"GET": (MESSAGE_READ, views.read_by_id("messages"))}),
    ),
    path(
        "<str:org>/v1/messages/<str:message_id>/attachments/<str:attachment_id>",
        endpoint({"GET": ("org.permission.attachment.read", attachments.message_attachment)}),
    ),
    path("<str:org>/v1/attachments", endpoint({"POST": (MESSAGE_CREATE, attachments.create_attachment)})),
    path(
        "<str:org>/v1/metadata/<str:resource>",
        endpoint({"GET": (METADATA_READ, views.metadata), "PUT": (METADATA_UPDATE, views.metadata)}),
    ),
    path(
        "<str:org>/v1/outbound-webhooks",
        endpoint({"GET": (WEBHOOKS, views.outbound_webhooks), "POST": (WEBHOOKS, views.outbound_webhooks)}),
    ),
    path(
        "<str:org>/v1/outbound-webhooks/<str:webhook_id>",
        endpoint({"GET": (WEBHOOKS, views.outbound_webhook), "PUT": (WEBHOOKS, views.outbound_webhook)}),
    ),
]
