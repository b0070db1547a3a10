"""Forms for signing up and managing an organisation's members."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from deskbridge.amazon import marketplaces
from deskbridge.amazon.addresses import clean_forwarding_address
from deskbridge.amazon.marketplaces import Region
from deskbridge.amazon.models import MarketplaceConnection
from deskbridge.core.models import Role, User
from deskbridge.helpdesks import registry
from deskbridge.helpdesks.base import Connector


class SignUpForm(forms.Form):
    organisation = forms.CharField(label=_("Company or shop name"), max_length=200)
    email = forms.EmailField(label=_("Email address"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this email address already exists. Log in instead.")
            )
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            try:
                password_validation.validate_password(password, User(email=cleaned.get("email", "")))
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Company or shop name"), max_length=200)


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autofocus": True}))
    error_messages = {
        "invalid_login": _("That email address and password do not match an account."),
        "inactive": _("This account is disabled."),
    }

    def clean_username(self) -> str:
        # Log-in ignores the email's case; the throttle (axes) counts by this value, so it must too.
        return self.cleaned_data["username"].lower()


class AddMemberForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.AGENT)

    def __init__(self, *args: Any, organisation: Any, acting_role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        if acting_role != Role.OWNER:
            role = self.fields["role"]
            assert isinstance(role, forms.ChoiceField)
            role.choices = [c for c in Role.choices if c[0] != Role.OWNER]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if self.organisation.memberships.filter(user__email__iexact=email).exists():
            raise forms.ValidationError(_("This person is already a member."))
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class MarketplacesForm(forms.Form):
    """Wizard step 2: the marketplaces of one region that this account sells on."""

    marketplaces = forms.MultipleChoiceField(
        label=_("Marketplaces"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one marketplace.")},
    )

    def __init__(
        self, *args: Any, region: Region, exclude: frozenset[str] = frozenset(), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["marketplaces"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(m.id, m.name) for m in marketplaces.in_region(region) if m.id not in exclude]


class HelpdeskChoiceForm(forms.Form):
    """Wizard step 3: which helpdesk this account's messages go to: one with a connector, or later."""

    helpdesk = forms.ChoiceField(label=_("Helpdesk"), required=False, widget=forms.RadioSelect)
    channel = forms.CharField(label=_("Channel or brand"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["helpdesk"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(h.kind, h.name) for h in registry.available()] + [("", _("Choose later"))]
        if not any(h.asks_for_channel for h in registry.available()):
            del self.fields["channel"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = registry.BY_KIND.get(cleaned.get("helpdesk") or "")
        if chosen and chosen.asks_for_channel and not cleaned.get("channel"):
            self.add_error(
                "channel", _("%(name)s needs the channel or brand for this account.") % {"name": chosen.name}
            )
        return cleaned


class HelpdeskConnectForm(forms.Form):
    """A helpdesk's connect form, built from its connector's declared fields (Connector.fields).

    For a connection that exists (`stored`: its settings and secrets), the other fields start with
    their saved values; secret fields start empty (a secret is never shown again) and, left empty,
    keep the saved secret."""

    WIDGETS: dict[str, type[forms.Widget]] = {
        "text": forms.TextInput,
        "email": forms.EmailInput,
        "url": forms.URLInput,
        "password": forms.PasswordInput,
    }

    def __init__(
        self, connector: type[Connector], *args: Any, stored: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        self.stored = stored or {}
        initial = {
            f.name: self.stored[f.name] for f in connector.fields if not f.secret and f.name in self.stored
        }
        kwargs["initial"] = {**initial, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.specs = connector.fields
        for spec in connector.fields:
            widget = forms.PasswordInput if spec.secret else self.WIDGETS[spec.kind]
            attrs = {"autocomplete": "off", "spellcheck": "false", "placeholder": spec.placeholder}
            kept = spec.secret and bool(self.stored.get(spec.name))
            if kept:
                attrs["placeholder"] = str(_("Saved (leave empty to keep it)"))
            self.fields[spec.name] = forms.CharField(
                label=spec.label,
                help_text=spec.help,
                required=spec.required and not kept,
                max_length=500,
                strip=True,
                widget=widget(attrs=attrs),
            )

    @property
    def secret_names(self) -> set[str]:
        return {spec.name for spec in self.specs if spec.secret}

    def config(self) -> dict[str, str]:
        """The values to connect with: a secret left empty is not sent, so the saved one stays."""
        return {
            name: value for name, value in self.cleaned_data.items() if value or name not in self.secret_names
        }

    @property
    def typed_secrets(self) -> bool:
        """Whether a new secret was typed (rather than every saved one kept)."""
        return any(self.cleaned_data.get(name) for name in self.secret_names)


class ForwardingAddressForm(forms.ModelForm):
    class Meta:
        model = MarketplaceConnection
        fields = ["forwarding_address"]
        widgets = {
            "forwarding_address": forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"})
        }

    def clean_forwarding_address(self) -> str:
        address = clean_forwarding_address(self.cleaned_data["forwarding_address"])
        if (
            MarketplaceConnection.objects.filter(forwarding_address=address)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise forms.ValidationError(_("This address is already in use. Choose another one."))
        return address

    def validate_unique(self) -> None:
        """Uniqueness is checked in clean_forwarding_address, with our own message."""

    def save_or_report(self) -> bool:
        """Save; if another organisation took the address in the meantime, say so beside the field."""
        try:
            with transaction.atomic():
                self.save()
        except IntegrityError:
            self.add_error("forwarding_address", _("This address is already in use. Choose another one."))
            return False
        return True
