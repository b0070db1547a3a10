"""With real DESKBRIDGE_AMAZON_* values the same code builds Amazon's real URLs and requests.

The token request goes to a loopback server standing in for api.amazon.com, which records the
exact request (method, path, headers, form) so it can be compared with amazon.md §1.5.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from deskbridge.amazon import endpoints, lwa, marketplaces

APP_ID = "amzn1.sellerapps.app.0bf296b5-36a6-4942-a13e-EXAMPLEfcd28"
CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef"
CLIENT_SECRET = "amzn1.oa2-cs.v1.secret-example"


@pytest.fixture
def real_amazon(settings):
    settings.AMAZON_APP_ID = APP_ID
    settings.AMAZON_LWA_CLIENT_ID = CLIENT_ID
    settings.AMAZON_LWA_CLIENT_SECRET = CLIENT_SECRET
    settings.AMAZON_SELLER_CENTRAL_URL = ""
    settings.AMAZON_LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
    settings.AMAZON_SPAPI_URL = ""
    settings.PUBLIC_URL = "https://app.deskbridge.example"
    return settings


@pytest.mark.parametrize(
    ("country", "host"),
    [
        ("US", "https://sellercentral.amazon.com"),
        ("DE", "https://sellercentral-europe.amazon.com"),
        ("UK", "https://sellercentral-europe.amazon.com"),
        ("NL", "https://sellercentral.amazon.nl"),
        ("JP", "https://sellercentral.amazon.co.jp"),
    ],
)
def test_the_consent_url_has_amazons_documented_shape(real_amazon, country, host):
    real_amazon.AMAZON_APP_DRAFT = False
    url = lwa.consent_url(marketplaces.by_country(country), "state-123")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{host}/apps/authorize/consent"
    assert parse_qs(parts.query) == {
        "application_id": [APP_ID],
        "state": ["state-123"],
        "redirect_uri": ["https://app.deskbridge.example/amazon/callback/"],
    }


def test_a_draft_app_adds_version_beta(real_amazon):
    real_amazon.AMAZON_APP_DRAFT = True
    url = lwa.consent_url(marketplaces.by_country("DE"), "s")
    assert parse_qs(urlsplit(url).query)["version"] == ["beta"]


def test_real_sp_api_and_lwa_endpoints(real_amazon):
    assert endpoints.spapi("NA") == "https://sellingpartnerapi-na.amazon.com"
    assert endpoints.spapi("EU") == "https://sellingpartnerapi-eu.amazon.com"
    assert endpoints.spapi("FE") == "https://sellingpartnerapi-fe.amazon.com"
    assert endpoints.lwa_token_url() == "https://api.amazon.com/auth/o2/token"
    assert endpoints.notification_preferences(marketplaces.by_country("FR")) == (
        "https://sellercentral-europe.amazon.com/notifications/preferences"
    )


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict] = []
    reply: tuple[int, dict] = (200, {})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status, payload = type(self).reply
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_endpoint(real_amazon) -> Iterator[type[Recorder]]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real_amazon.AMAZON_LWA_TOKEN_URL = f"http://127.0.0.1:{server.server_port}/auth/o2/token"
    yield Recorder
    server.shutdown()


def test_the_code_exchange_is_amazons_documented_request(token_endpoint):
    token_endpoint.reply = (
        200,
        {"access_token": "Atza|a", "token_type": "bearer", "expires_in": 3600, "refresh_token": "Atzr|r"},
    )
    tokens = lwa.exchange_code("ANdNAVhyhqirUelHGEHA")
    assert tokens == lwa.Tokens("Atza|a", "Atzr|r", 3600)
    (request,) = token_endpoint.seen
    assert request["path"] == "/auth/o2/token"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"
    assert parse_qs(request["body"]) == {
        "grant_type": ["authorization_code"],
        "code": ["ANdNAVhyhqirUelHGEHA"],
        "redirect_uri": ["https://app.deskbridge.example/amazon/callback/"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }


def test_the_refresh_is_amazons_documented_request_with_the_token_form_encoded(token_endpoint):
    token_endpoint.reply = (200, {"access_token": "Atza|b", "token_type": "bearer", "expires_in": 3600})
    tokens = lwa.refresh("Atzr|IwEB+/x=")
    assert tokens.refresh_token == "Atzr|IwEB+/x="
    (request,) = token_endpoint.seen
    assert "refresh_token=Atzr%7CIwEB%2B%2Fx%3D" in request["body"]
    assert parse_qs(request["body"]) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["Atzr|IwEB+/x="],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }


def test_an_oauth_error_body_becomes_an_lwa_error(token_endpoint):
    token_endpoint.reply = (
        400,
        {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : code"},
    )
    with pytest.raises(lwa.LwaError) as raised:
        lwa.exchange_code("expired")
    assert (raised.value.error, raised.value.status) == ("invalid_grant", 400)
    assert raised.value.needs_reauthorization
