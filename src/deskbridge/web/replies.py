"""Replies to buyers as the seller sees them: the reply-rules settings page, and the outcomes of the
last days' replies for the dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deskbridge.amazon.models import ReplyPolicy
from deskbridge.amazon.relay import DEFAULT_POLICY, RULE_DESCRIPTIONS
from deskbridge.core.tenancy import TenantRequest, scoped
from deskbridge.pipeline.models import OutboundReply, ReplyOutcome
from deskbridge.pipeline.workrows import WorkState

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# A short name for each rule (RULE_DESCRIPTIONS says what it catches).
RULE_TITLES: dict[str, StrOrPromise] = {
    "email_address": gettext_lazy("Email addresses"),
    "phone_number": gettext_lazy("Phone numbers"),
    "external_link": gettext_lazy("Links outside Amazon"),
    "tracking_link": gettext_lazy("Carrier tracking links"),
    "marketing": gettext_lazy("Reviews, feedback and promotions"),
    "emoji": gettext_lazy("Emoji"),
    "attachment": gettext_lazy("Attachments"),
}
SEVERITY_LABELS: dict[str, StrOrPromise] = {"block": gettext_lazy("Block"), "warn": gettext_lazy("Warn")}
CHOOSE = gettext_lazy("Choose Block or Warn.")


def rule_title(rule: str) -> str:
    return str(RULE_TITLES.get(rule, rule.replace("_", " ")))


class ReplyRulesForm(forms.Form):
    """One Block / Warn choice per rule of DEFAULT_POLICY; Amazon's default is marked on its choice."""

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for rule, default in DEFAULT_POLICY.items():
            choices = [
                (
                    severity,
                    _("%(choice)s (Amazon's default)") % {"choice": label}
                    if severity == default
                    else str(label),
                )
                for severity, label in SEVERITY_LABELS.items()
            ]
            self.fields[rule] = forms.ChoiceField(
                label=RULE_TITLES.get(rule, rule),
                help_text=RULE_DESCRIPTIONS.get(rule, ""),
                choices=choices,
                widget=forms.RadioSelect,
                disabled=read_only,
                error_messages={"required": CHOOSE, "invalid_choice": CHOOSE},
            )

    @property
    def rules(self) -> dict[str, str]:
        return {rule: self.cleaned_data[rule] for rule in DEFAULT_POLICY}


@login_required
def policy(request: TenantRequest) -> HttpResponse:
    """The organisation's reply rules: owners and admins change them, agents read them."""
    membership = request.membership
    can_manage = bool(membership and membership.can_manage)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied
    current = ReplyPolicy.rules_for(request.organisation)
    form = ReplyRulesForm(
        request.POST if request.method == "POST" else None, initial=current, read_only=not can_manage
    )
    if request.method == "POST" and form.is_valid():
        save_rules(request.organisation, form.rules)
        messages.success(request, _("The reply rules are saved."))
        return redirect("helpdesk_reply_rules")
    return render(
        request,
        "replies/policy.html",
        {"form": form, "can_manage": can_manage},
        status=422 if form.errors else 200,
    )


def save_rules(organisation: Any, rules: dict[str, str]) -> ReplyPolicy:
    """Write the organisation's one ReplyPolicy row (made on its first save)."""
    with transaction.atomic():
        row = ReplyPolicy.objects.for_org(organisation).select_for_update().first() or ReplyPolicy(
            organisation=organisation
        )
        row.rules = rules
        row.full_clean(exclude=["organisation"])
        row.save()
    return row


# --- the dashboard's panel --------------------------------------------------------------------

OUTCOME_WINDOW = timedelta(days=7)
WAITING = "waiting"

# The dashboard's rows, in order: (key, label, the replies it counts).
OUTCOME_ROWS: list[tuple[str, StrOrPromise, Q]] = [
    (ReplyOutcome.SENT, ReplyOutcome.SENT.label, Q(outcome=ReplyOutcome.SENT)),
    (ReplyOutcome.BLOCKED, ReplyOutcome.BLOCKED.label, Q(outcome=ReplyOutcome.BLOCKED)),
    (ReplyOutcome.REFUSED, ReplyOutcome.REFUSED.label, Q(outcome=ReplyOutcome.REFUSED)),
    # A row that used up its retries without an outcome could not be sent either.
    (
        ReplyOutcome.FAILED,
        ReplyOutcome.FAILED.label,
        Q(outcome=ReplyOutcome.FAILED) | Q(outcome="", state=WorkState.FAILED),
    ),
    (ReplyOutcome.UNKNOWN, ReplyOutcome.UNKNOWN.label, Q(outcome=ReplyOutcome.UNKNOWN)),
    (WAITING, gettext_lazy("Waiting to be sent"), Q(outcome="") & ~Q(state=WorkState.FAILED)),
]


def reply_outcomes(request: TenantRequest) -> list[dict[str, Any]]:
    """The organisation's replies of the last 7 days per outcome, counted in one query."""
    since = timezone.now() - OUTCOME_WINDOW
    counts = (
        scoped(request, OutboundReply)
        .filter(created_at__gte=since)
        .aggregate(**{key: Count("pk", filter=match) for key, _label, match in OUTCOME_ROWS})
    )
    return [{"key": key, "label": label, "count": counts[key] or 0} for key, label, _match in OUTCOME_ROWS]
