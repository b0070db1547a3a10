"""Where Amazon lives: the real hosts, or the sandbox's when the settings point there."""

from __future__ import annotations

from django.conf import settings

from deskbridge.amazon.marketplaces import Marketplace, Region


def _absolute(url: str) -> str:
    """Sandbox endpoints are configured as paths on this installation's own public URL."""
    return settings.PUBLIC_URL + url if url.startswith("/") else url


def seller_central(marketplace: Marketplace) -> str:
    override = settings.AMAZON_SELLER_CENTRAL_URL
    return _absolute(override).rstrip("/") if override else marketplace.seller_central


def notification_preferences(marketplace: Marketplace) -> str:
    """Seller Central's Notification Preferences, where the seller enters our address."""
    return f"{seller_central(marketplace)}/notifications/preferences"


def lwa_token_url() -> str:
    return _absolute(settings.AMAZON_LWA_TOKEN_URL)


def spapi(region: Region | str) -> str:
    region = Region(region)
    override = settings.AMAZON_SPAPI_URL
    if override:
        return _absolute(override.format(region=region.value.lower())).rstrip("/")
    return region.spapi_endpoint


def redirect_uri() -> str:
    """Our OAuth redirect URI, as registered with the SP-API application."""
    return f"{settings.PUBLIC_URL}/amazon/callback/"


def order_url(marketplace: Marketplace, order_id: str) -> str:
    """An order's page in Seller Central (Marketplace.order_url, or the sandbox's Seller Central)."""
    if settings.AMAZON_SELLER_CENTRAL_URL:
        return f"{seller_central(marketplace)}/orders-v3/order/{order_id}"
    return marketplace.order_url(order_id)
