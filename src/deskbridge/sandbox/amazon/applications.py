"""The SP-API applications the sandbox Amazon knows, as registered in its Solution Provider Portal."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from deskbridge.sandbox.amazon import app


@dataclass(frozen=True)
class SandboxApplication:
    application_id: str
    name: str
    developer: str
    lwa_client_id: str
    lwa_client_secret: str
    is_draft: bool

    def redirect_uris(self) -> list[str]:
        """The registered OAuth redirect URIs; the first is used when a consent URI names none.

        Read at request time: the installation's public URL decides where its callback lives."""
        return [settings.PUBLIC_URL.rstrip("/") + "/amazon/callback/"]

    def login_uris(self) -> list[str]:
        """The Login URI Amazon loads when a re-authorization starts in Seller Central (§1.4)."""
        return [settings.PUBLIC_URL.rstrip("/") + "/amazon/login/"]


SANDBOX_APPLICATION = SandboxApplication(
    application_id=app.SANDBOX_APP_ID,
    name="deskbridge (sandbox)",
    developer="deskbridge",
    lwa_client_id=app.SANDBOX_LWA_CLIENT_ID,
    lwa_client_secret=app.SANDBOX_LWA_CLIENT_SECRET,
    is_draft=app.SANDBOX_APP_IS_DRAFT,
)

APPLICATIONS = {SANDBOX_APPLICATION.application_id: SANDBOX_APPLICATION}


def by_id(application_id: str) -> SandboxApplication | None:
    return APPLICATIONS.get(application_id)


def by_client_id(client_id: str) -> SandboxApplication | None:
    return next((a for a in APPLICATIONS.values() if a.lwa_client_id == client_id), None)
