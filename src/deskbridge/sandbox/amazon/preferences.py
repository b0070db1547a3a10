"""Seller Central settings the demo links to: Notification Preferences → Messaging, Messaging Permissions."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from deskbridge.sandbox.amazon.forms import ApprovedSenderForm
from deskbridge.sandbox.amazon.models import (
    NotificationKind,
    SandboxApprovedSender,
    SandboxNotificationPreference,
    SandboxSellerUser,
)
from deskbridge.sandbox.amazon.sellercentral import page, require_signin

MAX_ADDRESSES = 10


@dataclass
class AddressField:
    value: str
    error: str = ""


@dataclass
class Section:
    kind: str
    label: str
    enabled: bool
    addresses: list[AddressField] = field(default_factory=list)
    error: str = ""

    @property
    def has_errors(self) -> bool:
        return bool(self.error or any(a.error for a in self.addresses))


def _label(kind: NotificationKind) -> str:
    return {
        NotificationKind.BUYER_MESSAGES: _("Buyer Messages"),
        NotificationKind.DELIVERY_FAILURES: _("Delivery Failures"),
    }[kind]


def _sections_from_post(request: HttpRequest) -> list[Section]:
    sections = []
    for kind in NotificationKind:
        values = [v.strip() for v in request.POST.getlist(f"{kind.value}-address")][:MAX_ADDRESSES]
        sections.append(
            Section(
                kind=kind.value,
                label=_label(kind),
                enabled=f"{kind.value}-enabled" in request.POST,
                addresses=[AddressField(v) for v in values],
            )
        )
    return sections


def _validate(section: Section) -> None:
    seen: set[str] = set()
    for address in section.addresses:
        if not address.value:
            continue
        try:
            validate_email(address.value)
        except ValidationError:
            address.error = _("Enter a valid email address.")
            continue
        if address.value.lower() in seen:
            address.error = _("This address is already in the list.")
        seen.add(address.value.lower())
    if section.enabled and not seen:
        section.error = _("Enter at least one email address, or untick the notification to opt out.")


@require_signin
def notification_preferences(request: HttpRequest, user: SandboxSellerUser) -> HttpResponse:
    """Per marketplace (Amazon: per locale), which addresses get Buyer Messages and Delivery Failures."""
    seller = user.seller
    participations = [p for p in seller.participations.all() if p.is_participating]
    wanted = request.POST.get("marketplace") or request.GET.get("marketplace")
    current = next((p for p in participations if p.marketplace_id == wanted), None)
    if wanted and current is None:
        raise Http404("This seller does not sell in that marketplace.")
    current = current or participations[0]
    here = (
        reverse("sandbox_amazon:notification_preferences")
        + "?"
        + urlencode({"marketplace": current.marketplace_id})
    )
    if request.method == "POST":
        sections = _sections_from_post(request)
        added = request.POST.get("add")
        if added:
            for section in sections:
                if section.kind == added and len(section.addresses) < MAX_ADDRESSES:
                    section.addresses.append(AddressField(""))
        else:
            for section in sections:
                _validate(section)
            if not any(section.has_errors for section in sections):
                for section in sections:
                    SandboxNotificationPreference.objects.update_or_create(
                        seller=seller,
                        marketplace_id=current.marketplace_id,
                        kind=section.kind,
                        defaults={
                            "enabled": section.enabled,
                            "addresses": list(dict.fromkeys(a.value for a in section.addresses if a.value)),
                        },
                    )
                messages.success(request, _("Your notification preferences were saved."))
                return redirect(here)
    else:
        stored = {
            p.kind: p
            for p in SandboxNotificationPreference.objects.filter(
                seller=seller, marketplace_id=current.marketplace_id
            )
        }
        sections = []
        for kind in NotificationKind:
            preference = stored.get(kind.value)
            addresses = list(preference.addresses) if preference else []
            sections.append(
                Section(
                    kind=kind.value,
                    label=_label(kind),
                    enabled=bool(preference and preference.enabled),
                    addresses=[AddressField(a) for a in addresses] or [AddressField("")],
                )
            )
    return page(
        request,
        "notification_preferences.html",
        {"seller": seller, "participations": participations, "current": current, "sections": sections},
    )


@require_signin
def messaging_permissions(request: HttpRequest, user: SandboxSellerUser) -> HttpResponse:
    """The addresses approved to send buyer messages for this seller (Amazon's relay checks them)."""
    seller = user.seller
    form = ApprovedSenderForm(
        request.POST if request.method == "POST" and "remove" not in request.POST else None
    )
    if request.method == "POST":
        if "remove" in request.POST:
            seller.approved_senders.filter(pk=request.POST.get("remove") or 0).delete()
            messages.success(request, _("The address was removed."))
            return redirect("sandbox_amazon:messaging_permissions")
        if form.is_valid():
            email = form.cleaned_data["email"].lower()
            if seller.approved_senders.filter(email__iexact=email).exists():
                form.add_error("email", _("This address is already approved."))
            else:
                SandboxApprovedSender.objects.create(seller=seller, email=email)
                messages.success(request, _("%(email)s is now an approved sender.") % {"email": email})
                return redirect("sandbox_amazon:messaging_permissions")
    return page(
        request,
        "messaging_permissions.html",
        {"seller": seller, "senders": seller.approved_senders.all(), "form": form},
    )
