"""The sandbox Amazon's URLs, under /sandbox/amazon/ (paths agree with deskbridge.sandbox.amazon.app)."""

from django.urls import path

from deskbridge.sandbox.amazon import (
    consent,
    lwa,
    order_page,
    orders,
    orders_v0,
    preferences,
    reauthorize,
    relay_views,
    sellercentral,
    sellers,
    tokens_api,
)

app_name = "sandbox_amazon"

urlpatterns = [
    path("", sellercentral.overview, name="overview"),
    path("sellercentral/", sellercentral.home, name="home"),
    path("sellercentral/ap/signin", sellercentral.signin, name="signin"),
    path("sellercentral/ap/mfa", sellercentral.verify, name="verify"),
    path("sellercentral/ap/signout", sellercentral.signout, name="signout"),
    path("sellercentral/apps/authorize/consent", consent.consent, name="consent"),
    path("sellercentral/apps/manage", sellercentral.manage_apps, name="manage_apps"),
    path("sellercentral/orders-v3/order/<str:order_id>", order_page.order_details, name="order"),
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
    path("relay/", relay_views.mailbox, name="relay"),
    path("relay/messages.json", relay_views.outbox, name="relay_messages"),
    path("lwa/auth/o2/token", lwa.token, name="lwa_token"),
    path(
        "spapi/<str:region>/sellers/v1/marketplaceParticipations",
        sellers.marketplace_participations,
        name="get_marketplace_participations",
    ),
    path("spapi/<str:region>/sellers/v1/account", sellers.account, name="get_account"),
    path("spapi/<str:region>/orders/2026-01-01/orders", orders.search_orders, name="search_orders"),
    path("spapi/<str:region>/orders/2026-01-01/orders/<str:order_id>", orders.get_order, name="get_order"),
    path("spapi/<str:region>/orders/v0/orders/<str:order_id>", orders_v0.get_order, name="get_order_v0"),
    path(
        "spapi/<str:region>/orders/v0/orders/<str:order_id>/orderItems",
        orders_v0.get_order_items,
        name="get_order_items_v0",
    ),
    path(
        "spapi/<str:region>/orders/v0/orders/<str:order_id>/address",
        orders_v0.get_order_address,
        name="get_order_address_v0",
    ),
    path(
        "spapi/<str:region>/orders/v0/orders/<str:order_id>/buyerInfo",
        orders_v0.get_order_buyer_info,
        name="get_order_buyer_info_v0",
    ),
    path(
        "spapi/<str:region>/tokens/2021-03-01/restrictedDataToken",
        tokens_api.create_restricted_data_token,
        name="create_restricted_data_token",
    ),
]
