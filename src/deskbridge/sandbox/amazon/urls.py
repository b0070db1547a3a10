"""The sandbox Amazon's URLs, under /sandbox/amazon/ (paths agree with deskbridge.sandbox.amazon.app)."""

from django.urls import path

from deskbridge.sandbox.amazon import consent, lwa, preferences, reauthorize, sellercentral, sellers

app_name = "sandbox_amazon"

urlpatterns = [
    path("", sellercentral.overview, name="overview"),
    path("sellercentral/", sellercentral.home, name="home"),
    path("sellercentral/ap/signin", sellercentral.signin, name="signin"),
    path("sellercentral/ap/mfa", sellercentral.verify, name="verify"),
    path("sellercentral/ap/signout", sellercentral.signout, name="signout"),
    path("sellercentral/apps/authorize/consent", consent.consent, name="consent"),
    path("sellercentral/apps/manage", sellercentral.manage_apps, name="manage_apps"),
    path("sellercentral/apps/reauthorize", reauthorize.reauthorize, name="reauthorize"),
    path("sellercentral/apps/authorize/confirm", reauthorize.confirm, name="reauthorize_confirm"),
    path(
        "sellercentral/notifications/preferences",
        preferences.notification_preferences,
        name="notification_preferences",
    ),
    path(
        "sellercentral/messaging/permissions", preferences.messaging_permissions, name="messaging_permissions"
    ),
    path("lwa/auth/o2/token", lwa.token, name="lwa_token"),
    path(
        "spapi/<str:region>/sellers/v1/marketplaceParticipations",
        sellers.marketplace_participations,
        name="get_marketplace_participations",
    ),
    path("spapi/<str:region>/sellers/v1/account", sellers.account, name="get_account"),
]
