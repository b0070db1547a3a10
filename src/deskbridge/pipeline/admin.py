"""Admin for work rows: every concrete kind gets the same list and a "requeue" action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from deskbridge.pipeline.models import InboundMessage
from deskbridge.pipeline.workrows import WorkRow, WorkState


@admin.action(description=_("Requeue the selected failed rows"))
def requeue_failed(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[WorkRow]) -> None:
    rows = list(queryset.filter(state=WorkState.FAILED))
    for row in rows:
        row.requeue()
    text = ngettext("%(n)d row requeued.", "%(n)d rows requeued.", len(rows)) % {"n": len(rows)}
    modeladmin.message_user(request, text, messages.SUCCESS)


class WorkRowAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "organisation",
        "state",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "updated_at",
    ]
    list_filter = ["state"]
    list_select_related = ["organisation"]
    readonly_fields = ["attempts", "lease_until", "last_error", "created_at", "updated_at"]
    actions = [requeue_failed]


@admin.register(InboundMessage)
class InboundMessageAdmin(WorkRowAdmin):
    list_display = ["pk", "organisation", "rcpt_to", "mail_class", "state", "attempts", "received_at"]
    list_filter = ["state", "mail_class"]
    # The raw mail holds buyer PII: the admin shows what was found in it, not the mail itself.
    exclude = ["raw"]
    readonly_fields = [*WorkRowAdmin.readonly_fields, "authentication", "parsed", "flags"]
