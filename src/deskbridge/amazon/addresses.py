"""Forwarding addresses: what a seller may choose as the address Amazon forwards mail to."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# RFC 5321 dot-atom, restricted to what survives every mail system: letters, digits, . _ + -
LOCAL_PART = re.compile(r"^[a-z0-9](?:[a-z0-9_+-]|\.(?!\.))*[a-z0-9]$|^[a-z0-9]$")
RESERVED = frozenset(
    [
        "abuse",
        "admin",
        "administrator",
        "hostmaster",
        "mailer-daemon",
        "no-reply",
        "noreply",
        "nobody",
        "postmaster",
        "root",
        "security",
        "ssl-admin",
        "webmaster",
        "www",
        "bounce",
        "bounces",
    ]
)


def clean_forwarding_address(value: str) -> str:
    """The address lower-cased, or a ValidationError whose message says what to change."""
    address = value.strip().lower()
    domain = settings.INBOUND_DOMAIN
    if not address.endswith(f"@{domain}"):
        raise ValidationError(_("The address must end with @%(domain)s.") % {"domain": domain})
    local = address[: -len(domain) - 1]
    if not local:
        raise ValidationError(_("Enter the part before @%(domain)s.") % {"domain": domain})
    if len(local) > 64:
        raise ValidationError(_("The part before the @ can have at most 64 characters."))
    if not LOCAL_PART.match(local):
        raise ValidationError(
            _(
                "Use only letters, digits and . _ + - before the @, not at its start or end, and no two dots in a row."
            )
        )
    if local in RESERVED:
        raise ValidationError(
            _("“%(name)s” is reserved for the mail system. Choose another name.") % {"name": local}
        )
    return address
