"""Seller Central's consent page of the website authorization workflow (amazon.md §1.2, §1.3).

GET /apps/authorize/consent?application_id=…&state=…[&version=beta][&redirect_uri=…] checks the
request the way Amazon does (MD1000, MD5101, MD5110), signs the seller in, lets only the primary
account owner confirm, and forwards the browser to the redirect URI with state, selling_partner_id
and spapi_oauth_code (or error=access_denied after Cancel).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from deskbridge.sandbox.amazon import applications
from deskbridge.sandbox.amazon.applications import SandboxApplication
from deskbridge.sandbox.amazon.forms import ConsentForm
from deskbridge.sandbox.amazon.sellercentral import page, sign_in_url, signed_in_user
from deskbridge.sandbox.amazon.tokens import issue_authorization_code

# Amazon documents no code for these two cases; the sandbox's own codes say so (SBX, not MD).
UNKNOWN_APPLICATION = "SBX1001"
MISSING_STATE = "SBX1002"
MALFORMED_REQUEST = "SBX1003"


class ConsentError(Exception):
    """A consent request Amazon refuses with an error page: its code and explanation."""

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ConsentRequest:
    application: SandboxApplication
    state: str
    redirect_uri: str
    version: str | None
    redirect_uri_given: bool

    def query(self) -> dict[str, str]:
        """The consent URI's parameters as received (to come back here after sign-in, or to POST)."""
        params = {"application_id": self.application.application_id, "state": self.state}
        if self.version is not None:
            params["version"] = self.version
        if self.redirect_uri_given:
            params["redirect_uri"] = self.redirect_uri
        return params


def _single(params: QueryDict, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise ConsentError(
            MALFORMED_REQUEST, _("The parameter %(name)s was given more than once.") % {"name": name}
        )
    return values[0] if values else None


def read_consent_request(params: QueryDict) -> ConsentRequest:
    application_id = _single(params, "application_id")
    application = applications.by_id(application_id or "")
    if application is None:
        raise ConsentError(
            UNKNOWN_APPLICATION,
            _("No application with this application_id is registered. Check the application_id parameter."),
        )
    version = _single(params, "version")
    if application.is_draft and version != "beta":
        raise ConsentError(
            "MD1000",
            _(
                "This application is in Draft state, so it can only be authorized with the version=beta "
                "parameter in the OAuth authorization URI. Remove the parameter after the application "
                "is published."
            ),
        )
    given = _single(params, "redirect_uri")
    if given is not None:
        if "#" in given:
            raise ConsentError(
                "MD5110", _("The redirect URI contains a fragment (#), which OAuth 2.0 does not allow.")
            )
        if given not in application.redirect_uris():
            raise ConsentError(
                "MD5101",
                _(
                    "The redirect URI given in the authorization request does not match any of the "
                    "OAuth redirect URIs registered for this application."
                ),
            )
    state = _single(params, "state")
    if not state:
        raise ConsentError(
            MISSING_STATE,
            _("The authorization request has no state parameter. The application must send one."),
        )
    return ConsentRequest(
        application=application,
        state=state,
        redirect_uri=given if given is not None else application.redirect_uris()[0],
        version=version,
        redirect_uri_given=given is not None,
    )


def with_params(uri: str, params: dict[str, str]) -> str:
    """The redirect URI with parameters appended, keeping any query it already has."""
    parts = urlsplit(uri)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _forward(request: HttpRequest, consent_request: ConsentRequest, params: dict[str, str]) -> HttpResponse:
    """The brief 'loading' page, which sends the browser back to the application (meta refresh)."""
    target = with_params(consent_request.redirect_uri, params)
    return page(request, "forwarding.html", {"target": target, "application": consent_request.application})


def consent(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    params = request.POST if request.method == "POST" else request.GET
    try:
        consent_request = read_consent_request(params)
    except ConsentError as error:
        return page(request, "error.html", {"error": error}, status=400)
    here = reverse("sandbox_amazon:consent") + "?" + urlencode(consent_request.query())
    user = signed_in_user(request)
    if user is None:
        return redirect(sign_in_url(here))
    context = {
        "consent": consent_request,
        "consent_url": here,
        "application": consent_request.application,
        "seller": user.seller,
    }
    if not user.is_owner:
        return page(request, "refused.html", context, status=403)
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if "cancel" in request.POST:
            return _forward(
                request,
                consent_request,
                {
                    "state": consent_request.state,
                    "error": "access_denied",
                    "error_description": "The selling partner denied the authorization request.",
                },
            )
        if form.is_valid():
            code = issue_authorization_code(
                user.seller, consent_request.application.application_id, consent_request.redirect_uri
            )
            return _forward(
                request,
                consent_request,
                {
                    "state": consent_request.state,
                    "selling_partner_id": user.seller.selling_partner_id,
                    "spapi_oauth_code": code,
                },
            )
    return page(request, "consent.html", {**context, "form": form, "hidden": consent_request.query()})
