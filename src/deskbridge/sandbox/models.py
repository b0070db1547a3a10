"""The sandbox app's models; each emulator keeps its own in its package."""

from deskbridge.sandbox.amazon.models import (  # noqa: F401
    SandboxAccessToken,
    SandboxApprovedSender,
    SandboxAuthorizationCode,
    SandboxNotificationPreference,
    SandboxOrder,
    SandboxParticipation,
    SandboxRateBucket,
    SandboxRefreshToken,
    SandboxRestrictedDataToken,
    SandboxSeller,
    SandboxSellerUser,
)
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskBucket, SandboxHelpdeskRecord  # noqa: F401
