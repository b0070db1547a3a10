"""The fixed interface the deskbridge side is written against: constants, paths, registered URIs."""

from __future__ import annotations

import ast
from pathlib import Path

from django.test import override_settings
from django.urls import reverse

from deskbridge.sandbox.amazon import app, applications


def test_the_constants_module_imports_no_django():
    """settings.py imports it before Django is configured."""
    tree = ast.parse(Path(app.__file__).read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    assert imports == []


def test_the_constants_are_the_agreed_ones():
    assert app.SANDBOX_APP_ID == "amzn1.sellerapps.app.deskbridge-sandbox-0001"
    assert app.SANDBOX_LWA_CLIENT_ID == "amzn1.application-oa2-client.deskbridgesandbox0001"
    assert app.SANDBOX_LWA_CLIENT_SECRET == "amzn1.oa2-cs.v1.deskbridge-sandbox-secret"
    assert app.SANDBOX_APP_IS_DRAFT is True
    assert app.SELLER_CENTRAL_PATH == "/sandbox/amazon/sellercentral"
    assert app.LWA_TOKEN_PATH == "/sandbox/amazon/lwa/auth/o2/token"
    assert app.SPAPI_PATH == "/sandbox/amazon/spapi/{region}"


def test_the_paths_agree_with_the_constants(sandbox_urls):
    assert reverse("sandbox_amazon:home") == app.SELLER_CENTRAL_PATH + "/"
    assert reverse("sandbox_amazon:consent") == app.SELLER_CENTRAL_PATH + "/apps/authorize/consent"
    assert (
        reverse("sandbox_amazon:notification_preferences")
        == app.SELLER_CENTRAL_PATH + "/notifications/preferences"
    )
    assert (
        reverse("sandbox_amazon:messaging_permissions") == app.SELLER_CENTRAL_PATH + "/messaging/permissions"
    )
    assert reverse("sandbox_amazon:lwa_token") == app.LWA_TOKEN_PATH
    for region in ("na", "eu", "fe"):
        base = app.SPAPI_PATH.format(region=region)
        assert reverse("sandbox_amazon:get_account", args=[region]) == base + "/sellers/v1/account"
        assert (
            reverse("sandbox_amazon:get_marketplace_participations", args=[region])
            == base + "/sellers/v1/marketplaceParticipations"
        )


def test_the_registered_redirect_uri_follows_the_public_url():
    with override_settings(PUBLIC_URL="https://desk.example.com"):
        assert applications.SANDBOX_APPLICATION.redirect_uris() == [
            "https://desk.example.com/amazon/callback/"
        ]
    with override_settings(PUBLIC_URL="http://127.0.0.1:8123/"):
        assert applications.SANDBOX_APPLICATION.redirect_uris() == ["http://127.0.0.1:8123/amazon/callback/"]
