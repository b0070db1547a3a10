"""Re-authorization started in Seller Central (amazon.md §1.4): Manage Your Apps → Re-authorize.

The owner accepts the data access, Amazon loads the app's Login URI with amazon_callback_uri,
amazon_state and selling_partner_id; the app signs its user in and sends the browser to
amazon_callback_uri with redirect_uri, amazon_state and its own state (+ version=beta while in
Draft); Amazon then forwards to redirect_uri with state, selling_partner_id and spapi_oauth_code.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from deskbridge.sandbox.amazon import applications
from deskbridge.sandbox.amazon.consent import MISSING_STATE, ConsentError, read_consent_request, with_params
from deskbridge.sandbox.amazon.forms import ConsentForm
from deskbridge.sandbox.amazon.models import SandboxSellerUser
from deskbridge.sandbox.amazon.sellercentral import page, require_signin
from deskbridge.sandbox.amazon.tokens import issue_authorization_code

STATES_KEY = "sandbox_amazon_reauthorize"
STATE_SECONDS = 10 * 60
UNKNOWN_AMAZON_STATE = "SBX1004"


def _application_or_404(user: SandboxSellerUser, application_id: str) -> applications.SandboxApplication:
    application = applications.by_id(application_id)
    if application is None or application_id not in user.seller.authorized_application_ids():
        raise Http404("This application is not authorized for this account.")
    return application


@require_signin
def reauthorize(request: HttpRequest, user: SandboxSellerUser) -> HttpResponse:
    """Review the data access again, then go to the application's Login URI."""
    application_id = request.POST.get("application_id") or request.GET.get("application_id", "")
    application = _application_or_404(user, application_id)
    context = {"application": application, "seller": user.seller, "consent_url": request.get_full_path()}
    if not user.is_owner:
        return page(request, "refused.html", context, status=403)
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        amazon_state = secrets.token_urlsafe(24)
        states = request.session.get(STATES_KEY, {})
        states = {k: v for k, v in states.items() if time.time() - v["issued_at"] < STATE_SECONDS}
        states[amazon_state] = {
            "seller_id": user.seller_id,
            "application_id": application.application_id,
            "issued_at": time.time(),
        }
        request.session[STATES_KEY] = states
        callback = settings.PUBLIC_URL.rstrip("/") + reverse("sandbox_amazon:reauthorize_confirm")
        target = with_params(
            application.login_uris()[0],
            {
                "amazon_callback_uri": callback,
                "amazon_state": amazon_state,
                "selling_partner_id": user.seller.selling_partner_id,
            },
        )
        return page(request, "forwarding.html", {"target": target, "application": application})
    return page(request, "reauthorize.html", {**context, "form": form})


@require_signin
def confirm(request: HttpRequest, user: SandboxSellerUser) -> HttpResponse:
    """amazon_callback_uri: the application sends the browser back here after its own sign-in."""
    params = request.GET
    states = request.session.get(STATES_KEY, {})
    issued = states.get(params.get("amazon_state", ""))
    try:
        if (
            issued is None
            or time.time() - issued["issued_at"] > STATE_SECONDS
            or issued["seller_id"] != user.seller_id
        ):
            raise ConsentError(
                UNKNOWN_AMAZON_STATE,
                _(
                    "The amazon_state parameter is missing, unknown or expired. Start again in Manage Your Apps."
                ),
            )
        if not params.get("state"):
            raise ConsentError(
                MISSING_STATE, _("The application sent no state parameter back with amazon_state.")
            )
        request_params = params.copy()
        request_params.setlist("application_id", [issued["application_id"]])
        consent_request = read_consent_request(request_params)
        if not consent_request.redirect_uri_given:
            raise ConsentError("MD5101", _("The application sent no redirect_uri back with amazon_state."))
    except ConsentError as error:
        return page(request, "error.html", {"error": error}, status=400)
    if not user.is_owner:
        context = {
            "application": consent_request.application,
            "seller": user.seller,
            "consent_url": request.get_full_path(),
        }
        return page(request, "refused.html", context, status=403)
    states.pop(params["amazon_state"])  # single use
    request.session[STATES_KEY] = states
    code = issue_authorization_code(
        user.seller, consent_request.application.application_id, consent_request.redirect_uri
    )
    target = with_params(
        consent_request.redirect_uri,
        {
            "state": consent_request.state,
            "selling_partner_id": user.seller.selling_partner_id,
            "spapi_oauth_code": code,
        },
    )
    return page(request, "forwarding.html", {"target": target, "application": consent_request.application})
