"""The web pages: sign-up, dashboard, members, and the failed-work list. Views stay thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
from deskbridge.core.models import Membership, Organisation, Role, User
from deskbridge.core.tenancy import TenantRequest, choose_organisation, get_scoped_or_404, scoped
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.workrows import WorkState, work_row_models
from deskbridge.web.amazon import helpdesk_notices
from deskbridge.web.forms import AddMemberForm, OrganisationForm, RoleForm, SignUpForm
from deskbridge.web.replies import reply_outcomes


def switch_language(request: TenantRequest) -> HttpResponse:
    """Django's set_language, remembering the choice on the user for the emails we send them."""
    response = set_language(request)
    chosen = request.POST.get("language", "")
    if request.user.is_authenticated and check_for_language(chosen) and request.user.language != chosen:
        request.user.language = chosen
        request.user.save(update_fields=["language"])
    return response


def home(request: TenantRequest) -> HttpResponse:
    return redirect("dashboard" if request.user.is_authenticated else "login")


def signup(request: TenantRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = User.objects.create_user(form.cleaned_data["email"], form.cleaned_data["password"])
            organisation = Organisation.objects.create(name=form.cleaned_data["organisation"])
            Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your organisation is ready."))
        return redirect("dashboard")
    return render(request, "web/signup.html", {"form": form})


def _membership(request: TenantRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404
    return membership


@login_required
def dashboard(request: TenantRequest) -> HttpResponse:
    if request.membership is None:  # left or removed from every organisation
        return redirect("new_organisation")
    work = [
        {
            "kind": model.kind,
            "label": model.label(),
            "failed": list(
                scoped(request, model).filter(state=WorkState.FAILED).order_by("-updated_at")[:20]
            ),
            "waiting": scoped(request, model).exclude(state__in=[WorkState.DONE, WorkState.FAILED]).count(),
        }
        for model in work_row_models()
    ]
    connections = scoped(request, MarketplaceConnection).filter(account__disconnected_at__isnull=True)
    live_accounts = list(scoped(request, SellerAccount).filter(disconnected_at__isnull=True))
    amazon = {
        "accounts": len(live_accounts),
        "attention": [a for a in live_accounts if a.status in ("expiring", "needs_reauthorization")],
        "marketplaces": connections.count(),
        "addresses": connections.exclude(forwarding_address="").count(),
    }
    context = {
        "work": work,
        "amazon": amazon,
        "helpdesks": list(scoped(request, HelpdeskConnection)),
        "helpdesk_notices": helpdesk_notices(request, live_accounts, request.path),
        "reply_outcomes": reply_outcomes(request),
    }
    return render(request, "web/dashboard.html", context)


@login_required
def members(request: TenantRequest) -> HttpResponse:
    me = _membership(request)
    form = AddMemberForm(
        request.POST if request.method == "POST" else None,
        organisation=request.organisation,
        acting_role=me.role,
    )
    if request.method == "POST":
        if not me.may_set_role(None, request.POST.get("role", "")):
            raise PermissionDenied
        if form.is_valid():
            _add_member(request, form.cleaned_data["email"], form.cleaned_data["role"])
            return redirect("members")
    rows = scoped(request, Membership).select_related("user").order_by("created_at")
    return render(request, "web/members.html", {"form": form, "rows": rows, "me": me, "roles": Role.choices})


class _InvitationForm(PasswordResetForm):
    """The reset form for someone invited just now: the stock one skips unusable passwords."""

    def get_users(self, email: str) -> list[User]:
        return list(User.objects.filter(email__iexact=email, is_active=True))


def _add_member(request: TenantRequest, email: str, role: str) -> None:
    user, created = User.objects.get_or_create(email=email)
    if created:
        user.set_unusable_password()
        user.save()
    Membership.objects.create(organisation=request.organisation, user=user, role=role)
    if created:
        # A new person chooses their own password through the reset link.
        reset = _InvitationForm({"email": email})
        if reset.is_valid():
            reset.save(
                request=request,
                use_https=request.is_secure(),
                subject_template_name="registration/invitation_subject.txt",
                email_template_name="registration/invitation_email.txt",
                extra_email_context={"organisation": request.organisation},
            )
    messages.success(request, _("%(email)s was added.") % {"email": email})


@login_required
@require_POST
def member_role(request: TenantRequest, pk: int) -> HttpResponse:
    me = _membership(request)
    target = get_scoped_or_404(request, Membership, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid() or not me.may_set_role(target, form.cleaned_data["role"]):
        messages.error(request, _("You cannot give that role."))
        return redirect("members")
    target.role = form.cleaned_data["role"]
    target.save(update_fields=["role"])
    messages.success(request, _("Role changed."))
    return redirect("members")


@login_required
@require_POST
def member_remove(request: TenantRequest, pk: int) -> HttpResponse:
    me = _membership(request)
    target = get_scoped_or_404(request, Membership, pk=pk)
    if not me.may_remove(target):
        messages.error(request, _("You cannot remove this member."))
        return redirect("members")
    leaving = target.pk == me.pk
    target.delete()  # (sets target.pk to None)
    messages.success(request, _("Member removed."))
    return redirect("dashboard" if leaving else "members")


@login_required
def new_organisation(request: TenantRequest) -> HttpResponse:
    """Start another organisation (also where someone lands who belongs to none)."""
    form = OrganisationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            organisation = Organisation.objects.create(name=form.cleaned_data["name"])
            Membership.objects.create(organisation=organisation, user=request.user, role=Role.OWNER)
        choose_organisation(request, organisation.pk)
        return redirect("dashboard")
    return render(request, "web/new_organisation.html", {"form": form})


@login_required
@require_POST
def switch_organisation(request: TenantRequest) -> HttpResponse:
    try:
        chosen = int(request.POST.get("organisation", ""))
    except ValueError:
        chosen = 0
    if not choose_organisation(request, chosen):
        raise Http404
    return redirect("dashboard")


@login_required
@require_POST
def retry_work(request: TenantRequest, label: str, pk: int) -> HttpResponse:
    me = _membership(request)
    if not me.can_manage:
        raise PermissionDenied
    models = {m.label(): m for m in work_row_models()}
    if label not in models:
        raise Http404
    row = get_scoped_or_404(request, models[label], pk=pk, state=WorkState.FAILED)
    row.requeue()
    messages.success(request, _("It will be tried again."))
    return redirect("dashboard")
