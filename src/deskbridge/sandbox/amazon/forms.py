"""The sandbox Seller Central's forms: sign-in, two-step verification, consent, approved senders."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from deskbridge.sandbox.amazon.models import SandboxSellerUser


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: SandboxSellerUser | None = None
        self.fields["email"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["password"].widget.attrs.update(autocomplete="current-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email, password = data.get("email"), data.get("password")
        if email and password is not None:
            user = SandboxSellerUser.objects.filter(email__iexact=email).select_related("seller").first()
            if user is None:
                self.add_error("email", _("We cannot find an account with that email address."))
            elif not user.check_password(password):
                self.add_error("password", _("Your password is incorrect."))
            else:
                self.user = user
        return data


class VerificationForm(forms.Form):
    otp = forms.RegexField(
        label=_("Enter OTP"),
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": _("Enter the 6-digit code.")},
    )

    def __init__(self, *args: Any, expected: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["otp"].widget.attrs.update(
            inputmode="numeric", autocomplete="one-time-code", autofocus=True, pattern=r"\d{6}"
        )

    def clean_otp(self) -> str:
        otp = self.cleaned_data["otp"]
        if otp != self.expected:
            raise forms.ValidationError(
                _("The One Time Password (OTP) you entered is not valid. Please try again.")
            )
        return otp


class ConsentForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        error_messages={"required": _("Tick the box to confirm that you authorize this application.")},
    )


class ApprovedSenderForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
