"""Forms for signing up and managing an organisation's members."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from deskbridge.core.models import Role, User


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
