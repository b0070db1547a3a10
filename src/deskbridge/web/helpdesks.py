"""Helpdesk pages: the organisation's helpdesk connections, their health, and connecting one.

Connecting checks the credentials at once (`verify`) and sets up what delivery needs (`provision`:
fields, the webhook that brings agent replies back); a refusal is shown beside the form in the
helpdesk's own words and nothing is saved. Helpdesks that use OAuth send the user to their consent
page and come back to `oauth_callback`. Secrets are stored encrypted and never shown again.
"""

from __future__ import annotations

import secrets as random_secrets
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deskbridge.core.logs import get_logger
from deskbridge.core.tenancy import TenantRequest, get_scoped_or_404, scoped
from deskbridge.helpdesks import registry
from deskbridge.helpdesks.base import Connector
from deskbridge.helpdesks.http import AuthenticationFailed, HelpdeskError, RateLimited, Unavailable
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.deliver import wake_waiting
from deskbridge.web.amazon import _manager
from deskbridge.web.forms import HelpdeskConnectForm

log = get_logger(__name__)
OAUTH = "helpdesk_oauth"
# What an authorization-code grant leaves on a connection (deskbridge.helpdesks.helpscout.oauth).
OAUTH_TOKENS = ("access_token", "refresh_token", "expires_at")


def _helpdesk(kind: str) -> registry.Helpdesk:
    helpdesk = registry.BY_KIND.get(kind)
    if helpdesk is None or not helpdesk.available:
        raise Http404
    return helpdesk


def explain(exc: HelpdeskError) -> str:
    """What the user reads beside the form when the helpdesk says no."""
    if isinstance(exc, AuthenticationFailed):
        return _("The helpdesk refused these credentials: %(reason)s") % {"reason": exc}
    if isinstance(exc, RateLimited):
        return _("The helpdesk asked us to slow down. Try again in a minute.")
    if isinstance(exc, Unavailable):
        return _("The helpdesk could not be reached: %(reason)s") % {"reason": exc}
    return _("The helpdesk refused the request: %(reason)s") % {"reason": exc}


def connect_and_wake(
    request: TenantRequest, helpdesk: registry.Helpdesk, config: dict[str, str], secret_names: set[str]
) -> HelpdeskConnection:
    connection = HelpdeskConnection.connect(request.organisation, helpdesk.kind, config, secret_names)
    wake_waiting(connection.organisation_id)
    log.info("helpdesk connected", kind=helpdesk.kind, connection=connection.pk)
    return connection


def next_url(request: TenantRequest) -> str:
    """Where to go after connecting: `?next=` (or the form's `next`) when it is a path of this site."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return ""


def connect_url(kind: str, next_path: str = "") -> str:
    """The connect page of a helpdesk, coming back to `next_path` once connected."""
    url = reverse("helpdesk_connect", args=[kind])
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


@login_required
def settings_page(request: TenantRequest) -> HttpResponse:
    connections = {c.kind: c for c in scoped(request, HelpdeskConnection)}
    rows = [(helpdesk, connections.get(helpdesk.kind)) for helpdesk in registry.HELPDESKS]
    return render(request, "helpdesks/settings.html", {"rows": rows})


@login_required
def connect(request: TenantRequest, kind: str) -> HttpResponse:
    _manager(request)
    helpdesk = _helpdesk(kind)
    connector = registry.connector_class(kind)
    existing = scoped(request, HelpdeskConnection).filter(kind=kind).first()
    form = HelpdeskConnectForm(
        connector,
        request.POST if request.method == "POST" else None,
        stored=existing.config() if existing else None,
    )
    back = next_url(request)
    if request.method == "POST" and form.is_valid():
        config, secret_names = form.config(), form.secret_names
        if connector.capabilities.oauth and form.typed_secrets:
            # The app's own credentials replace an earlier "Connect with …": its tokens go.
            config.update(dict.fromkeys(OAUTH_TOKENS, ""))
            secret_names |= set(OAUTH_TOKENS)
        try:
            connect_and_wake(request, helpdesk, config, secret_names)
        except HelpdeskError as exc:
            form.add_error(None, explain(exc))
        else:
            messages.success(request, _("%(name)s is connected.") % {"name": helpdesk.name})
            return redirect(back or "helpdesk_settings")
    return render(
        request,
        "helpdesks/connect.html",
        {
            "helpdesk": helpdesk,
            "form": form,
            # The class itself would be called by the template engine: its capabilities instead.
            "capabilities": connector.capabilities,
            "existing": existing,
            "next": back,
        },
        status=422 if form.errors else 200,
    )


def _redirect_uri(kind: str) -> str:
    return settings.PUBLIC_URL + reverse("helpdesk_oauth_callback", args=[kind])


@login_required
@require_POST
def oauth_start(request: TenantRequest, kind: str) -> HttpResponse:
    _manager(request)
    helpdesk = _helpdesk(kind)
    connector = registry.connector_class(kind)
    if not connector.capabilities.oauth:
        raise Http404
    state = random_secrets.token_urlsafe(24)
    try:
        consent = connector.authorize_url({}, state, _redirect_uri(kind))
    except HelpdeskError as exc:
        messages.error(request, explain(exc))
        return redirect(connect_url(kind, next_url(request)))
    request.session[OAUTH] = {
        "kind": kind,
        "state": state,
        "organisation": request.organisation.pk,
        "next": next_url(request),
    }
    log.info("helpdesk oauth started", kind=helpdesk.kind)
    return HttpResponseRedirect(consent)


@login_required
def oauth_callback(request: TenantRequest, kind: str) -> HttpResponse:
    _manager(request)
    helpdesk = _helpdesk(kind)
    connector = registry.connector_class(kind)
    pending: dict[str, Any] = request.session.pop(OAUTH, None) or {}
    state = request.GET.get("state", "")
    if (
        not pending
        or pending.get("kind") != kind
        or pending.get("organisation") != request.organisation.pk
        or not random_secrets.compare_digest(str(pending.get("state", "")), state)
    ):
        messages.error(request, _("That authorization link is not valid any more. Please connect again."))
        return redirect("helpdesk_connect", kind=kind)
    back = str(pending.get("next") or "")
    if request.GET.get("error") or not request.GET.get("code"):
        messages.error(request, _("%(name)s did not grant access.") % {"name": helpdesk.name})
        return redirect(connect_url(kind, back))
    try:
        tokens = connector.exchange_code({}, request.GET["code"], _redirect_uri(kind))
        # The tokens replace the secrets of an app's own credentials typed earlier on the form.
        typed = {f.name for f in connector.fields if f.secret}
        connect_and_wake(request, helpdesk, {**dict.fromkeys(typed, ""), **tokens}, typed | set(tokens))
    except HelpdeskError as exc:
        messages.error(request, explain(exc))
        return redirect(connect_url(kind, back))
    messages.success(request, _("%(name)s is connected.") % {"name": helpdesk.name})
    return redirect(back or "helpdesk_settings")


@login_required
@require_POST
def check(request: TenantRequest, pk: int) -> HttpResponse:
    """Check the connection now (the settings page's "Check now")."""
    _manager(request)
    connection = get_scoped_or_404(request, HelpdeskConnection, pk=pk)
    connector: Connector = connection.connector()
    try:
        connection.record_verified(connector.verify())
        connection.save(update_fields=["account_name", "account_url", "settings"])
    except HelpdeskError as exc:
        connection.record_health(explain(exc))
        messages.error(
            request, _("%(name)s needs attention: see below.") % {"name": connection.helpdesk.name}
        )
    else:
        messages.success(request, _("%(name)s is working.") % {"name": connection.helpdesk.name})
        wake_waiting(connection.organisation_id)
    return redirect(f"{reverse('helpdesk_settings')}#helpdesk-{connection.kind}")


@login_required
@require_POST
def disconnect(request: TenantRequest, pk: int) -> HttpResponse:
    _manager(request)
    connection = get_scoped_or_404(request, HelpdeskConnection, pk=pk)
    name = connection.helpdesk.name
    connection.delete()
    log.info("helpdesk disconnected", kind=connection.kind)
    messages.success(request, _("%(name)s is disconnected. Its credentials are deleted.") % {"name": name})
    return redirect("helpdesk_settings")
