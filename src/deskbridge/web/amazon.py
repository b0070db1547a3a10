"""Amazon pages: the add-account wizard, the consent round-trip, accounts and their addresses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deskbridge.amazon import endpoints, lwa, marketplaces, onboarding
from deskbridge.amazon.marketplaces import Region
from deskbridge.amazon.models import AuthorizationRequest, MarketplaceConnection, SellerAccount
from deskbridge.core.tenancy import TenantRequest, get_scoped_or_404, scoped
from deskbridge.helpdesks import registry
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.web.forms import ForwardingAddressForm, HelpdeskChoiceForm, MarketplacesForm

WIZARD = "amazon_wizard"


def _manager(request: TenantRequest) -> None:
    membership = getattr(request, "membership", None)
    if membership is None:
        raise Http404
    if not membership.can_manage:
        raise PermissionDenied


def _region(code: str) -> Region:
    try:
        return Region(code.upper())
    except ValueError:
        raise Http404 from None


def helpdesk_notices(
    request: TenantRequest, accounts: list[SellerAccount], back: str
) -> list[dict[str, Any]]:
    """The helpdesks these accounts chose in the wizard that are not connected yet: each with the
    link to connect it, coming back to `back`."""
    from deskbridge.web.helpdesks import connect_url  # it imports this module

    connected = set(scoped(request, HelpdeskConnection).values_list("kind", flat=True))
    kinds = dict.fromkeys(a.helpdesk_kind for a in accounts if a.helpdesk_kind and not a.disconnected_at)
    return [
        {"helpdesk": registry.BY_KIND[kind], "url": connect_url(kind, back)}
        for kind in kinds
        if kind not in connected and kind in registry.BY_KIND and registry.BY_KIND[kind].available
    ]


@login_required
def accounts(request: TenantRequest) -> HttpResponse:
    rows = scoped(request, SellerAccount).prefetch_related("marketplaces").order_by("created_at")
    return render(request, "amazon/accounts.html", {"accounts": rows})


@login_required
def add_region(request: TenantRequest) -> HttpResponse:
    _manager(request)
    return render(request, "amazon/add_region.html", {"regions": list(Region), "step": 1})


@login_required
def add_marketplaces(request: TenantRequest, region: str) -> HttpResponse:
    _manager(request)
    chosen = _region(region)
    form = MarketplacesForm(request.POST if request.method == "POST" else None, region=chosen)
    if request.method == "POST" and form.is_valid():
        request.session[WIZARD] = {"region": chosen.value, "marketplaces": form.cleaned_data["marketplaces"]}
        return redirect("amazon_add_helpdesk")
    return render(request, "amazon/add_marketplaces.html", {"form": form, "region": chosen, "step": 2})


def _wizard(request: TenantRequest) -> dict[str, Any]:
    data = request.session.get(WIZARD)
    if not data or not data.get("marketplaces"):
        raise Http404
    return dict(data)


@login_required
def add_helpdesk(request: TenantRequest) -> HttpResponse:
    _manager(request)
    data = _wizard(request)
    connected = set(scoped(request, HelpdeskConnection).values_list("kind", flat=True))
    chosen = data.get("helpdesk") or (min(connected) if len(connected) == 1 else "")
    form = HelpdeskChoiceForm(
        request.POST if request.method == "POST" else None, initial={"helpdesk": chosen}
    )
    if request.method == "POST" and form.is_valid():
        data.update(
            helpdesk=form.cleaned_data.get("helpdesk", ""), channel=form.cleaned_data.get("channel", "")
        )
        request.session[WIZARD] = data
        return redirect("amazon_add_connect")
    return render(
        request,
        "amazon/add_helpdesk.html",
        {
            "form": form,
            "connected": connected,
            "coming_soon": [h for h in registry.HELPDESKS if not h.available],
            "step": 3,
        },
    )


@login_required
def add_connect(request: TenantRequest) -> HttpResponse:
    """The last step: a summary and the "Connect Amazon" button (a POST to `connect`)."""
    _manager(request)
    data = _wizard(request)
    chosen = [m for m in (marketplaces.by_id(i) for i in data["marketplaces"]) if m]
    return render(
        request,
        "amazon/add_connect.html",
        {
            "region": Region(data["region"]),
            "marketplaces": chosen,
            "helpdesk": registry.BY_KIND.get(data.get("helpdesk") or ""),
            "step": 4,
        },
    )


def _send_to_consent(request: TenantRequest, **fields: Any) -> HttpResponse:
    auth = AuthorizationRequest.start(
        organisation=request.organisation,
        user=request.user,
        session=request.session,
        **fields,
    )
    first = auth.marketplace_list[0] if auth.marketplace_list else marketplaces.in_region(auth.region)[0]
    return HttpResponseRedirect(lwa.consent_url(first, auth.state))


@login_required
@require_POST
def connect(request: TenantRequest) -> HttpResponse:
    _manager(request)
    data = _wizard(request)
    return _send_to_consent(
        request,
        region=data["region"],
        marketplace_ids=data["marketplaces"],
        helpdesk_kind=data.get("helpdesk", ""),
        helpdesk_channel=data.get("channel", ""),
    )


@login_required
def callback(request: TenantRequest) -> HttpResponse:
    """Amazon sends the browser back here with state, selling_partner_id and spapi_oauth_code."""
    state = request.GET.get("state", "")
    auth = (
        AuthorizationRequest.objects.filter(state=state).select_related("account").first() if state else None
    )
    try:
        onboarding.check_callback(auth, request.user, request.session)
        assert auth is not None
        code, seller = request.GET.get("spapi_oauth_code", ""), request.GET.get("selling_partner_id", "")
        if request.GET.get("error") or not code or not seller:
            auth.use()
            raise onboarding.AuthorizationProblem("denied", request.GET.get("error", ""))
        result = onboarding.complete(auth, code, seller)
    except onboarding.AuthorizationProblem as problem:
        return problem_page(request, problem.kind, status=400)
    request.session.pop(WIZARD, None)
    for marketplace_id in result.not_participating:
        found = marketplaces.by_id(marketplace_id)
        messages.warning(
            request,
            _(
                "Amazon says this seller account does not sell on %(marketplace)s. Messages from there "
                "will only arrive once it does."
            )
            % {"marketplace": found.name if found else marketplace_id},
        )
    if result.sellers_api_error:
        messages.warning(
            request, _("Amazon's Sellers API did not answer, so the marketplaces are not confirmed yet.")
        )
    messages.success(request, _("Your Amazon account is connected."))
    return redirect("amazon_account", pk=result.account.pk)


def _problems() -> dict[str, tuple[str, str]]:
    return {
        "denied": (
            _("Amazon access was not granted"),
            _(
                "The consent page was cancelled, so Amazon did not give deskbridge access. Start again and tick "
                "the box on Amazon's consent page, then choose Confirm."
            ),
        ),
        "unknown_state": (
            _("This link is not from deskbridge"),
            _(
                "Amazon sent back a request deskbridge did not start, or the link was changed. Start the connection "
                "again from the Amazon page."
            ),
        ),
        "foreign_state": (
            _("This authorization was started by someone else"),
            _(
                "The connection was started in another browser session or by another user. Start it again here, "
                "in this browser, while logged in as yourself."
            ),
        ),
        "used_state": (
            _("This authorization was already used"),
            _("Each connection link works once. If the account is not connected yet, start again."),
        ),
        "expired_state": (
            _("This authorization took too long"),
            _("The connection must be completed within 10 minutes. Start again; it only takes a minute."),
        ),
        "expired_code": (
            _("Amazon's authorization code expired"),
            _(
                "Amazon's code is valid for 5 minutes and only once. Start again and complete the steps without "
                "pausing."
            ),
        ),
        "lwa": (
            _("Amazon refused the authorization"),
            _(
                "Login with Amazon did not accept the request. Try again in a few minutes; if it keeps failing, "
                "the operator should check the SP-API application's client ID and secret (deskbridge doctor)."
            ),
        ),
        "taken": (
            _("This Amazon account is connected to another organisation"),
            _(
                "An Amazon seller account can be connected to one deskbridge organisation at a time. Ask the other "
                "organisation to disconnect it first, or log in to that organisation."
            ),
        ),
        "other_seller": (
            _("You signed in to a different Amazon account"),
            _(
                "You were re-authorizing one seller account but signed in to another in Seller Central. Sign out "
                "of Seller Central, then re-authorize while signed in as the owner of the right account."
            ),
        ),
    }


def problem_page(request: TenantRequest, kind: str, status: int = 400) -> HttpResponse:
    title, advice = _problems()[kind]
    return render(
        request, "amazon/problem.html", {"title": title, "advice": advice, "kind": kind}, status=status
    )


def authorization_help(request: TenantRequest) -> HttpResponse:
    """What Amazon's own error codes on its consent page mean (MD1000, MD5101, …)."""
    return render(request, "amazon/authorization_help.html")


@login_required
def account(request: TenantRequest, pk: int) -> HttpResponse:
    """The success page: forwarding addresses, Seller Central instructions, status."""
    seller = get_scoped_or_404(request, SellerAccount, pk=pk)
    connections = list(seller.marketplaces.all())
    if not connections:
        notices = helpdesk_notices(request, [seller], request.path)
        return render(
            request,
            "amazon/account.html",
            {"account": seller, "connections": [], "helpdesk_notices": notices},
        )
    selected = next((c for c in connections if c.marketplace_id == request.GET.get("m")), connections[0])
    form = ForwardingAddressForm(instance=selected, prefix="address")
    return _account_page(request, seller, connections, selected, form)


def _account_page(
    request: TenantRequest,
    seller: SellerAccount,
    connections: list[MarketplaceConnection],
    selected: MarketplaceConnection,
    form: ForwardingAddressForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "account": seller,
        "helpdesk_notices": helpdesk_notices(request, [seller], request.path),
        "connections": connections,
        "selected": selected,
        "form": form,
        "notification_url": endpoints.notification_preferences(selected.marketplace),
    }
    return render(request, "amazon/account.html", context, status=status)


@login_required
@require_POST
def save_address(request: TenantRequest, pk: int, connection: int) -> HttpResponse:
    _manager(request)
    seller = get_scoped_or_404(request, SellerAccount, pk=pk)
    target = get_scoped_or_404(request, MarketplaceConnection, pk=connection, account=seller)
    form = ForwardingAddressForm(request.POST, instance=target, prefix="address")
    saved = form.is_valid() and form.save_or_report()
    if request.htmx:
        target.refresh_from_db()
        return render(
            request,
            "amazon/_address_form.html",
            {"form": form, "selected": target, "account": seller, "saved": saved},
            status=200 if saved else 422,
        )
    if saved:
        messages.success(request, _("Address saved."))
        return redirect(f"{reverse('amazon_account', args=[seller.pk])}?m={target.marketplace_id}")
    return _account_page(request, seller, list(seller.marketplaces.all()), target, form, status=422)


@login_required
def add_more_marketplaces(request: TenantRequest, pk: int) -> HttpResponse:
    """Add marketplaces of the same region to a connected account: no new authorization needed."""
    _manager(request)
    seller = get_scoped_or_404(request, SellerAccount, pk=pk, disconnected_at__isnull=True)
    have = frozenset(seller.marketplaces.values_list("marketplace_id", flat=True))
    form = MarketplacesForm(
        request.POST if request.method == "POST" else None, region=seller.region_enum, exclude=have
    )
    if request.method == "POST" and form.is_valid():
        onboarding.add_marketplaces(seller, form.cleaned_data["marketplaces"])
        onboarding.confirm_marketplaces(seller)
        messages.success(request, _("Marketplaces added."))
        return redirect("amazon_account", pk=seller.pk)
    return render(
        request,
        "amazon/add_marketplaces.html",
        {"form": form, "region": seller.region_enum, "account": seller},
    )


@login_required
@require_POST
def reauthorize(request: TenantRequest, pk: int) -> HttpResponse:
    _manager(request)
    seller = get_scoped_or_404(request, SellerAccount, pk=pk)
    return _send_to_consent(
        request,
        region=seller.region,
        marketplace_ids=list(seller.marketplaces.values_list("marketplace_id", flat=True)),
        account=seller,
    )


@login_required
@require_POST
def disconnect(request: TenantRequest, pk: int) -> HttpResponse:
    _manager(request)
    seller = get_scoped_or_404(request, SellerAccount, pk=pk, disconnected_at__isnull=True)
    seller.disconnect()
    messages.success(request, _("The Amazon account was disconnected and its tokens deleted."))
    return redirect("amazon_accounts")


@login_required
def login_uri(request: TenantRequest) -> HttpResponse:
    """Re-authorization started in Seller Central: Amazon loads this with amazon_callback_uri."""
    _manager(request)
    callback_uri = request.GET.get("amazon_callback_uri", "")
    amazon_state = request.GET.get("amazon_state", "")
    seller_id = request.GET.get("selling_partner_id", "")
    parsed = urlparse(callback_uri)
    trusted = parsed.scheme == "https" and (parsed.hostname or "").startswith("sellercentral")
    sandbox = settings.SANDBOX_ENABLED and callback_uri.startswith(settings.PUBLIC_URL + "/sandbox/")
    if not amazon_state or not (trusted or sandbox):
        return problem_page(request, "unknown_state")
    seller = scoped(request, SellerAccount).filter(selling_partner_id=seller_id).first()
    region = (
        seller.region
        if seller
        else next(
            (
                m.region.value
                for m in marketplaces.MARKETPLACES
                if parsed.hostname and m.seller_central.endswith(parsed.hostname)
            ),
            Region.NA.value,
        )
    )
    auth = AuthorizationRequest.start(
        organisation=request.organisation,
        user=request.user,
        session=request.session,
        region=region,
        marketplace_ids=list(seller.marketplaces.values_list("marketplace_id", flat=True)) if seller else [],
        account=seller,
    )
    params = {"redirect_uri": endpoints.redirect_uri(), "amazon_state": amazon_state, "state": auth.state}
    if settings.AMAZON_APP_DRAFT:
        params["version"] = "beta"
    return HttpResponseRedirect(f"{callback_uri}?{urlencode(params)}")
