"""The sandbox Amazon over real HTTP: uvicorn on loopback, driven by httpx like deskbridge's clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin

import httpx
import pytest

from deskbridge.sandbox.amazon import app
from deskbridge.sandbox.amazon.seed import SANDBOX_PASSWORD, seed_sandbox_sellers
from tests.conftest import uvicorn_in_thread
from tests.sandbox.conftest import CALLBACK, EU, OWNERS, consent_url, meta_refresh_target, query_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(sandbox_urls) -> Iterator[str]:
    with uvicorn_in_thread() as url:
        yield url


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_consent_code_exchange_and_sellers_api_over_http(server: str):
    seed_sandbox_sellers()
    with httpx.Client(base_url=server, follow_redirects=False, timeout=10) as browser:
        url = consent_url(state="loopback-state")
        signin = browser.get(url)
        assert signin.status_code == 302
        page = browser.get(signin.headers["location"])
        verify = browser.post(
            signin.headers["location"],
            data={
                "email": OWNERS[EU],
                "password": SANDBOX_PASSWORD,
                "return_to": url,
                "csrfmiddlewaretoken": _csrf(page.text),
            },
        )
        assert verify.status_code == 302, verify.text
        verify_url = urljoin(str(verify.url), verify.headers["location"])
        page = browser.get(verify_url)
        code = re.search(r"<strong>(\d{6})</strong>", page.text).group(1)
        back = browser.post(
            verify_url, data={"otp": code, "return_to": url, "csrfmiddlewaretoken": _csrf(page.text)}
        )
        assert back.status_code == 302
        page = browser.get(back.headers["location"])
        assert page.status_code == 200
        done = browser.post(
            app.SELLER_CENTRAL_PATH + "/apps/authorize/consent",
            data={
                "application_id": app.SANDBOX_APP_ID,
                "state": "loopback-state",
                "version": "beta",
                "confirm": "on",
                "csrfmiddlewaretoken": _csrf(page.text),
            },
        )
        assert done.status_code == 200
        params = query_of(meta_refresh_target(done.text))
        assert params["state"] == ["loopback-state"] and params["selling_partner_id"] == [EU]

    with httpx.Client(base_url=server, timeout=10) as api:
        form = {
            "grant_type": "authorization_code",
            "code": params["spapi_oauth_code"][0],
            "redirect_uri": CALLBACK,
            "client_id": app.SANDBOX_LWA_CLIENT_ID,
            "client_secret": app.SANDBOX_LWA_CLIENT_SECRET,
        }
        tokens = api.post(app.LWA_TOKEN_PATH, data=form)
        assert tokens.status_code == 200, tokens.text
        assert tokens.headers["content-type"].startswith("application/json")
        refreshed = api.post(
            app.LWA_TOKEN_PATH,
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens.json()["refresh_token"],  # "Atzr|…": httpx form-encodes the bar
                "client_id": app.SANDBOX_LWA_CLIENT_ID,
                "client_secret": app.SANDBOX_LWA_CLIENT_SECRET,
            },
        )
        assert refreshed.status_code == 200
        as_json = api.post(app.LWA_TOKEN_PATH, json=form)
        assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"

        base = app.SPAPI_PATH.format(region="eu")
        response = api.get(
            base + "/sellers/v1/marketplaceParticipations",
            headers={
                "x-amz-access-token": refreshed.json()["access_token"],
                "user-agent": "deskbridge-test/1.0",
            },
        )
        assert response.status_code == 200
        assert response.headers["x-amzn-ratelimit-limit"] == "0.016"
        assert response.headers["x-amzn-requestid"]
        assert {p["marketplace"]["countryCode"] for p in response.json()["payload"]} >= {
            "DE",
            "FR",
            "IT",
            "ES",
            "UK",
        }
        denied = api.get(base + "/sellers/v1/account")
        assert denied.status_code == 403 and denied.headers["x-amzn-errortype"] == "AccessDeniedException"
