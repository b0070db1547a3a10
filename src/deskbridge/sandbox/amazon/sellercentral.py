"""The sandbox Seller Central's own sign-in (password, then a 2-step verification code) and its pages.

The sign-in lives in the Django session under its own key, apart from the deskbridge user's login:
a person can be signed in to deskbridge as one user and to the sandbox Seller Central as another.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deskbridge.sandbox.amazon import app, applications
from deskbridge.sandbox.amazon.forms import SignInForm, VerificationForm
from deskbridge.sandbox.amazon.models import SandboxSeller, SandboxSellerUser
from deskbridge.sandbox.amazon.seed import sandbox_logins

SIGNED_IN_KEY = "sandbox_amazon_user"
PENDING_KEY = "sandbox_amazon_2sv"
VERIFICATION_SECONDS = 10 * 60
VERIFICATION_ATTEMPTS = 5


def signed_in_user(request: HttpRequest) -> SandboxSellerUser | None:
    user_id = request.session.get(SIGNED_IN_KEY)
    if not user_id:
        return None
    return SandboxSellerUser.objects.select_related("seller").filter(pk=user_id).first()


def safe_return_to(value: str | None) -> str:
    """Only a page of this Seller Central, never another site (no open redirect)."""
    if (
        value
        and value.startswith(app.SELLER_CENTRAL_PATH + "/")
        and "\\" not in value
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return value
    return reverse("sandbox_amazon:home")


def sign_in_url(return_to: str) -> str:
    return reverse("sandbox_amazon:signin") + "?" + urlencode({"return_to": return_to})


def page(request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200):
    context = {"sandbox_user": signed_in_user(request), **(context or {})}
    return render(request, f"sandbox/amazon/{template}", context, status=status)


def require_signin(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = signed_in_user(request)
        if user is None:
            return redirect(sign_in_url(request.get_full_path()))
        return view(request, user, *args, **kwargs)

    return wrapped


def signin(request: HttpRequest) -> HttpResponse:
    return_to = safe_return_to(request.GET.get("return_to") or request.POST.get("return_to"))
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and form.user is not None:
        request.session[PENDING_KEY] = {
            "user_id": form.user.pk,
            "code": f"{secrets.randbelow(1_000_000):06d}",
            "issued_at": time.time(),
            "attempts": 0,
        }
        return redirect(reverse("sandbox_amazon:verify") + "?" + urlencode({"return_to": return_to}))
    return page(request, "signin.html", {"form": form, "return_to": return_to, "logins": sandbox_logins()})


def verify(request: HttpRequest) -> HttpResponse:
    """Two-step verification. The sandbox shows the code on the page, as if it came by SMS."""
    return_to = safe_return_to(request.GET.get("return_to") or request.POST.get("return_to"))
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["issued_at"] > VERIFICATION_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return redirect(sign_in_url(return_to))
    user = SandboxSellerUser.objects.filter(pk=pending["user_id"]).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return redirect(sign_in_url(return_to))
    form = VerificationForm(request.POST or None, expected=pending["code"])
    if request.method == "POST":
        if form.is_valid():
            request.session.pop(PENDING_KEY)
            request.session.cycle_key()
            request.session[SIGNED_IN_KEY] = user.pk
            return redirect(return_to)
        pending["attempts"] += 1
        if pending["attempts"] >= VERIFICATION_ATTEMPTS:
            request.session.pop(PENDING_KEY)
            messages.error(request, _("Too many wrong codes. Sign in again to get a new one."))
            return redirect(sign_in_url(return_to))
        request.session[PENDING_KEY] = pending
    return page(
        request,
        "verify.html",
        {"form": form, "return_to": return_to, "pending_user": user, "sandbox_code": pending["code"]},
    )


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    request.session.pop(SIGNED_IN_KEY, None)
    request.session.pop(PENDING_KEY, None)
    return_to = request.POST.get("return_to")
    if return_to:
        return redirect(sign_in_url(safe_return_to(return_to)))
    return redirect("sandbox_amazon:home")


def breakable(text: str) -> list[str]:
    """Long URLs and ids in pieces, so the template can offer line breaks (<wbr>) on a phone."""
    return re.findall(r"[^/.|-]*[/.|-]?", text)[:-1] or [text]


def overview(request: HttpRequest) -> HttpResponse:
    """The sandbox Amazon's front page: its endpoints, its application and its test logins."""
    public = request.build_absolute_uri("/").rstrip("/")
    application = applications.SANDBOX_APPLICATION
    rows = [
        (_("Seller Central"), [public + app.SELLER_CENTRAL_PATH]),
        (_("LWA token endpoint"), [public + app.LWA_TOKEN_PATH]),
        (_("SP-API endpoints"), [public + app.SPAPI_PATH.format(region=r) for r in ("na", "eu", "fe")]),
        (_("Application id"), [application.application_id]),
        (_("LWA client id"), [application.lwa_client_id]),
    ]
    return page(
        request,
        "overview.html",
        {
            "application": application,
            "rows": [(label, [breakable(value) for value in values]) for label, values in rows],
            "sellers": SandboxSeller.objects.prefetch_related("participations").all(),
            "logins": sandbox_logins(),
        },
    )


def home(request: HttpRequest) -> HttpResponse:
    """Seller Central's home: who is signed in, and the settings pages the demo links to."""
    return page(request, "home.html")


@require_signin
def manage_apps(request: HttpRequest, user: SandboxSellerUser) -> HttpResponse:
    """Manage Your Apps: the applications this seller authorized, each with a way to revoke it."""
    seller = user.seller
    if request.method == "POST":
        application_id = request.POST.get("application_id", "")
        if application_id not in seller.authorized_application_ids():
            raise Http404
        seller.revoke_app_authorization(application_id)
        messages.success(request, _("The application's authorization was revoked."))
        return redirect("sandbox_amazon:manage_apps")
    authorized = [
        application
        for application_id in seller.authorized_application_ids()
        if (application := applications.by_id(application_id)) is not None
    ]
    return page(request, "manage_apps.html", {"seller": seller, "authorized": authorized})
