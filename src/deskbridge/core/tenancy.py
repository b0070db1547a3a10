"""The one place where tenant-owned data is scoped to the organisation a request acts for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from deskbridge.core.models import User

SESSION_KEY = "organisation_id"


class TenantRequest(HttpRequest):
    """What views see: the request, with the organisation it acts for (set by the middleware)."""

    user: User  # views that take a TenantRequest are behind login_required
    organisation: Any
    membership: Any
    htmx: Any  # django-htmx's details of an htmx request (falsy for a plain one)


M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet[M]):
    def for_org(self, organisation: Any) -> TenantQuerySet[M]:
        if organisation is None:
            return self.none()
        return self.filter(organisation=organisation)


class TenantModel(models.Model):
    """Base of every model an organisation owns. Read it only through `scoped()`."""

    organisation = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def scoped(request: HttpRequest, model: type[M]) -> TenantQuerySet[M]:
    """All of `model` that the request's organisation owns, and nothing else."""
    return model.objects.for_org(getattr(request, "organisation", None))  # type: ignore[attr-defined]


def get_scoped_or_404(request: HttpRequest, model: type[M], **lookup: Any) -> M:
    try:
        return scoped(request, model).get(**lookup)
    except model.DoesNotExist:  # type: ignore[attr-defined]
        raise Http404 from None


def memberships_of(user: Any) -> models.QuerySet[Any]:
    from deskbridge.core.models import Membership

    return Membership.objects.filter(user=user).select_related("organisation")


def current_organisation(get_response: Callable[[HttpRequest], HttpResponse]):
    """Middleware: set request.membership and request.organisation from the session's choice."""

    def middleware(request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        request.organisation = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            memberships = memberships_of(request.user)
            chosen = request.session.get(SESSION_KEY)
            membership = (chosen and memberships.filter(organisation_id=chosen).first()) or (
                memberships.first()
            )
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.organisation = membership.organisation  # type: ignore[attr-defined]
        return get_response(request)

    return middleware


def choose_organisation(request: HttpRequest, organisation_id: int) -> bool:
    if not memberships_of(request.user).filter(organisation_id=organisation_id).exists():
        return False
    request.session[SESSION_KEY] = organisation_id
    return True


def organisation_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "organisation": getattr(request, "organisation", None),
        "membership": getattr(request, "membership", None),
        # For the header's switcher; evaluated only when a template asks.
        "my_memberships": (lambda: list(memberships_of(user))) if user and user.is_authenticated else list,
    }
