"""The helpdesk pages against the emulators over loopback (`live_url`): connecting with the
connector's own form (verified and provisioned on save, or refused with the helpdesk's reason and
nothing saved), Help Scout's OAuth round-trip through its sandbox consent page, the settings page's
health, Check now and Disconnect, secrets kept encrypted and never shown again, who may change what,
the wizard's helpdesk step and the notices that lead to connecting the chosen helpdesk."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection as db
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskbridge.amazon.models import SellerAccount
from deskbridge.helpdesks.models import Health, HelpdeskConnection
from deskbridge.pipeline.models import InboundMessage
from deskbridge.pipeline.workrows import WorkState
from deskbridge.sandbox.helpdesks.helpscout import seed as helpscout
from deskbridge.sandbox.helpdesks.helpscout import store as helpscout_store
from deskbridge.sandbox.helpdesks.zendesk import seed as zendesk
from deskbridge.sandbox.helpdesks.zendesk import store as zendesk_store
from tests.conftest import Tenant

CONNECT_ZENDESK = reverse("helpdesk_connect", args=["zendesk"])
CONNECT_HELPSCOUT = reverse("helpdesk_connect", args=["helpscout"])
SETTINGS = reverse("helpdesk_settings")


def zendesk_account(tenant: Tenant) -> tuple[str, dict[str, str]]:
    name = f"shop{tenant.organisation.pk}"
    return name, zendesk.create_account(name)


def connect_zendesk(client: Client, config: dict[str, str], query: str = "") -> Any:
    return client.post(CONNECT_ZENDESK + query, config)


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- connecting with credentials -------------------------------------------------------------


def test_a_wrong_zendesk_token_is_refused_beside_the_form_and_nothing_is_saved(live_url, tenant):
    _name, config = zendesk_account(tenant)
    response = connect_zendesk(tenant.client(), {**config, "api_token": "not-the-token"})

    assert response.status_code == 422
    page = text_of(response)
    assert '<div class="errors" role="alert"><p>The helpdesk refused these credentials:' in page
    assert "Couldn&#x27;t authenticate you" in page or "authenticate" in page
    assert 'value="not-the-token"' not in page  # a secret is never echoed back
    assert f'value="{config["email"]}"' in page  # what is not secret stays typed
    assert not HelpdeskConnection.objects.exists()


def test_right_zendesk_credentials_connect_and_provision_the_webhook_and_trigger(live_url, tenant):
    name, config = zendesk_account(tenant)
    response = connect_zendesk(tenant.client(), config)

    assert response.status_code == 302 and response.url == SETTINGS
    connection = HelpdeskConnection.objects.get(organisation=tenant.organisation, kind="zendesk")
    assert connection.health == Health.HEALTHY and connection.problem == ""
    assert connection.account_name == f"{name}.zendesk.com"
    # What provision made, as the sandbox Zendesk holds it: the webhook to our URL, signed, and the
    # trigger that calls it.
    records = zendesk_store.records(name)
    (webhook,) = records.all("webhooks")
    assert webhook.data["endpoint"] == connection.webhook_url
    assert webhook.data["secret"] and connection.secret_values()
    triggers = records.all("triggers")
    assert any(
        action.get("field") == "notification_webhook"
        and action["value"][0] == connection.settings["webhook_id"]
        for trigger in triggers
        for action in trigger.data["actions"]
    ), [t.data for t in triggers]

    page = text_of(tenant.client().get(SETTINGS))
    assert 'class="status status-healthy">Working<' in page
    assert f"{name}.zendesk.com" in page
    assert "Check now" in page and "Change credentials" in page and "Disconnect" in page
    assert config["api_token"] not in page


def test_secrets_are_encrypted_at_rest(live_url, tenant):
    _name, config = zendesk_account(tenant)
    connect_zendesk(tenant.client(), config)
    connection = HelpdeskConnection.objects.get()
    assert connection.secret_values()["api_token"] == config["api_token"]

    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT secrets, settings FROM {HelpdeskConnection._meta.db_table} WHERE id = %s",
            [connection.pk],
        )
        raw_secrets, raw_settings = cursor.fetchone()
    assert config["api_token"] not in raw_secrets
    assert "api_token" not in raw_secrets  # not even the names: the whole JSON is one token
    assert raw_secrets.startswith("gAAAAA")  # a Fernet token
    assert config["api_token"] not in str(raw_settings)
    assert config["email"] in str(raw_settings)


def test_an_existing_connection_s_form_leaves_secrets_empty_and_keeps_them_when_left_empty(live_url, tenant):
    name, config = zendesk_account(tenant)
    client = tenant.client()
    connect_zendesk(client, config)

    form = client.get(CONNECT_ZENDESK)
    page = text_of(form)
    assert config["api_token"] not in page
    assert re.search(r'<input type="password" name="api_token"[^>]*>', page)
    assert not re.search(r'<input type="password" name="api_token"[^>]*value=', page)
    assert f'value="{config["email"]}"' in page and f'value="{name}"' in page
    assert "leave a secret empty to keep it" in page

    response = connect_zendesk(client, {**config, "api_token": ""})
    assert response.status_code == 302
    connection = HelpdeskConnection.objects.get()
    assert connection.secret_values()["api_token"] == config["api_token"]
    assert connection.health == Health.HEALTHY

    # A new one typed replaces it (and is checked: a wrong one is refused, the saved one stays).
    refused = connect_zendesk(client, {**config, "api_token": "wrong"})
    assert refused.status_code == 422
    connection.refresh_from_db()
    assert connection.secret_values()["api_token"] == config["api_token"]


def test_a_new_connection_needs_its_secret(live_url, tenant):
    _name, config = zendesk_account(tenant)
    response = connect_zendesk(tenant.client(), {**config, "api_token": ""})
    assert response.status_code == 422
    assert 'id="id_api_token-error">This field is required.<' in text_of(response)
    assert not HelpdeskConnection.objects.exists()


def test_help_scout_without_custom_fields_shows_the_manual_step(live_url, tenant):
    account = f"scout{tenant.organisation.pk}"
    config = helpscout.create_account(account, custom_fields=False)
    response = tenant.client().post(CONNECT_HELPSCOUT, config)

    assert response.status_code == 302
    connection = HelpdeskConnection.objects.get(kind="helpscout")
    assert connection.health == Health.HEALTHY
    assert connection.manual_steps, "Help Scout cannot create fields: the page must ask for them"
    (hook,) = helpscout_store.records(account).all("webhooks")
    assert hook.data["url"] == connection.webhook_url

    page = text_of(tenant.client().get(SETTINGS))
    assert "Finish the set-up in the helpdesk" in page
    assert "Amazon order ID" in page  # the fields to add, by name
    assert connection.manual_steps[0][:40].replace("'", "&#x27;") in page


def test_connecting_wakes_the_messages_that_wait_for_a_helpdesk(live_url, tenant, monkeypatch):
    woken: list[tuple[Any, ...]] = []
    monkeypatch.setattr("deskbridge.pipeline.workrows.jobs.enqueue", lambda *args, **kw: woken.append(args))
    later = timezone.now() + timezone.timedelta(hours=1)
    waiting, done = (
        InboundMessage.objects.create(
            organisation=tenant.organisation,
            rcpt_to="shop@deskbridge.localhost",
            raw=b"From: x",
            size=7,
            state=state,
            next_attempt_at=later,
        )
        for state in (WorkState.RETRY, WorkState.DONE)
    )
    _name, config = zendesk_account(tenant)
    connect_zendesk(tenant.client(), config)

    waiting.refresh_from_db()
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at <= timezone.now()
    assert [args[2] for args in woken] == [waiting.pk], woken
    assert done.pk not in [args[2] for args in woken]


def test_next_takes_the_person_back_only_to_a_local_page(live_url, tenant):
    _name, config = zendesk_account(tenant)
    client = tenant.client()
    form = client.get(CONNECT_ZENDESK + "?next=/amazon/")
    assert '<input type="hidden" name="next" value="/amazon/">' in text_of(form)
    assert connect_zendesk(client, config, "?next=/amazon/").url == "/amazon/"
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = connect_zendesk(client, config, "?" + urlencode({"next": elsewhere}))
        assert response.status_code == 302 and response.url == SETTINGS, elsewhere


# --- Check now, disconnect ------------------------------------------------------------------------


def test_check_now_with_a_revoked_token_says_needs_attention_with_the_reason(live_url, tenant):
    name, config = zendesk_account(tenant)
    client = tenant.client()
    connect_zendesk(client, config)
    connection = HelpdeskConnection.objects.get()

    token = zendesk_store.records(name).find("tokens", zendesk_store.token_key(config["api_token"]))
    assert token is not None
    token.delete()  # revoked in Zendesk's admin centre
    response = client.post(reverse("helpdesk_check", args=[connection.pk]), follow=True)

    connection.refresh_from_db()
    assert connection.health == Health.FAILING
    assert "refused these credentials" in connection.problem and "authenticate" in connection.problem
    page = text_of(response)
    assert 'class="status status-failing">Needs attention<' in page
    assert f'<p class="error" role="alert">{connection.problem}'.replace("'", "&#x27;") in page
    assert "Zendesk needs attention" in page

    # Fixed in Zendesk: Check now says it works again.
    zendesk.create_account(name)
    client.post(reverse("helpdesk_check", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.health == Health.HEALTHY and connection.problem == ""


def test_disconnect_deletes_the_connection_and_its_credentials(live_url, tenant):
    _name, config = zendesk_account(tenant)
    client = tenant.client(role="admin")
    connect_zendesk(client, config)
    connection = HelpdeskConnection.objects.get()

    response = client.post(reverse("helpdesk_disconnect", args=[connection.pk]), follow=True)
    assert not HelpdeskConnection.objects.exists()
    assert "Zendesk is disconnected. Its credentials are deleted." in text_of(response)


def test_an_agent_sees_the_page_but_cannot_change_anything(live_url, tenant):
    _name, config = zendesk_account(tenant)
    tenant.client().post(CONNECT_ZENDESK, config)
    connection = HelpdeskConnection.objects.get()
    agent = tenant.client(role="agent")

    page = agent.get(SETTINGS)
    assert page.status_code == 200
    text = text_of(page)
    assert "Working" in text and "Check now" not in text and "Disconnect" not in text
    assert "Only an owner or admin of the organisation can connect or change a helpdesk." in text
    for url in (
        CONNECT_ZENDESK,
        reverse("helpdesk_oauth_start", args=["helpscout"]),
        reverse("helpdesk_check", args=[connection.pk]),
        reverse("helpdesk_disconnect", args=[connection.pk]),
    ):
        assert agent.post(url, config).status_code == 403, url
    assert agent.get(CONNECT_ZENDESK).status_code == 403
    assert HelpdeskConnection.objects.get().secret_values()["api_token"] == config["api_token"]


def test_another_organisation_s_connection_is_not_found(live_url, tenant, other_tenant):
    _name, config = zendesk_account(tenant)
    tenant.client().post(CONNECT_ZENDESK, config)
    connection = HelpdeskConnection.objects.get()
    stranger = other_tenant.client()
    assert stranger.post(reverse("helpdesk_check", args=[connection.pk])).status_code == 404
    assert stranger.post(reverse("helpdesk_disconnect", args=[connection.pk])).status_code == 404
    assert "Check now" not in text_of(stranger.get(SETTINGS))
    assert HelpdeskConnection.objects.count() == 1


def test_unknown_or_unavailable_helpdesks_are_not_found(tenant):
    client = tenant.client()
    assert client.get(reverse("helpdesk_connect", args=["freshdesk"])).status_code == 404
    assert client.get(reverse("helpdesk_connect", args=["nothing"])).status_code == 404
    assert client.post(reverse("helpdesk_oauth_start", args=["zendesk"])).status_code == 404


# --- Help Scout's OAuth --------------------------------------------------------------------------


def start_oauth(client: Client, query: str = "") -> tuple[str, dict[str, str]]:
    """POST "Connect with Help Scout": the consent page's path and its query."""
    response = client.post(reverse("helpdesk_oauth_start", args=["helpscout"]) + query)
    assert response.status_code == 302, response
    consent = urlsplit(response.url)
    assert consent.path == "/sandbox/helpscout/authentication/authorizeClientApplication"
    return consent.path, {k: v[0] for k, v in parse_qs(consent.query).items()}


def test_connect_with_help_scout_through_its_consent_page(live_url, tenant):
    client = tenant.client()
    form = text_of(client.get(CONNECT_HELPSCOUT))
    assert "Connect with Help Scout" in form and "Or use your own app's credentials" in form

    path, params = start_oauth(client, "?next=/dashboard/")
    assert params["redirect_uri"] == f"{live_url}{reverse('helpdesk_oauth_callback', args=['helpscout'])}"
    account = f"oauth{tenant.organisation.pk}"
    granted = client.post(path, {**params, "account": account, "authorize": "1"})
    back = urlsplit(granted.url)
    assert back.path == reverse("helpdesk_oauth_callback", args=["helpscout"])
    assert parse_qs(back.query)["state"] == [params["state"]]

    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 302 and response.url == "/dashboard/"
    connection = HelpdeskConnection.objects.get(kind="helpscout")
    assert connection.health == Health.HEALTHY
    assert connection.account_name == f"{account} support"
    assert {"access_token", "refresh_token"} <= set(connection.secret_values())
    (hook,) = helpscout_store.records(account).all("webhooks")
    assert hook.data["url"] == connection.webhook_url

    # The same code again (a reload of the callback): refused, since the state was used.
    again = client.get(f"{back.path}?{back.query}", follow=True)
    assert "That authorization link is not valid any more" in text_of(again)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda state: {"state": state + "x"},
        lambda state: {"state": ""},
        lambda state: {},
    ],
    ids=["wrong", "empty", "missing"],
)
def test_the_oauth_callback_with_a_wrong_state_is_refused(live_url, tenant, tamper):
    client = tenant.client()
    path, params = start_oauth(client)
    granted = client.post(path, {**params, "account": f"evil{tenant.organisation.pk}", "authorize": "1"})
    code = parse_qs(urlsplit(granted.url).query)["code"][0]

    response = client.get(
        reverse("helpdesk_oauth_callback", args=["helpscout"])
        + "?"
        + urlencode({"code": code, **tamper(params["state"])}),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == CONNECT_HELPSCOUT
    assert "That authorization link is not valid any more. Please connect again." in text_of(response)
    assert not HelpdeskConnection.objects.exists()


def test_the_oauth_callback_of_another_session_is_refused(live_url, tenant):
    path, params = start_oauth(tenant.client())
    granted = tenant.client().post(
        path, {**params, "account": f"x{tenant.organisation.pk}", "authorize": "1"}
    )
    other = tenant.client(role="admin")  # same organisation, but not the session that started it
    response = other.get(granted.url.replace(live_url, ""), follow=True)
    assert "That authorization link is not valid any more" in text_of(response)
    assert not HelpdeskConnection.objects.exists()


def test_denied_at_help_scout_says_so_and_saves_nothing(live_url, tenant):
    client = tenant.client()
    path, params = start_oauth(client)
    denied = client.post(path, {**params, "account": "whatever", "deny": "1"})
    response = client.get(denied.url.replace(live_url, ""), follow=True)
    assert "Help Scout did not grant access." in text_of(response)
    assert not HelpdeskConnection.objects.exists()


# --- the wizard's helpdesk step and the notices ----------------------------------------------------


def test_the_wizard_offers_the_available_helpdesks_and_lists_the_others_as_coming_soon(tenant):
    client = tenant.client()
    session = client.session
    session["amazon_wizard"] = {"region": "EU", "marketplaces": ["A1PA6795UKMFR9"]}
    session.save()

    page = text_of(client.get(reverse("amazon_add_helpdesk")))
    offered = re.findall(r'<input type="radio" name="helpdesk" value="(\w*)"', page)
    assert offered == ["zendesk", "helpscout", "gorgias", "kustomer", ""]
    assert re.search(r'value=""[^>]*checked', page)  # "Choose later" unless one is picked
    soon = re.search(r'<ul class="chips coming-soon">(.*?)</ul>', page)
    assert soon and re.findall(r"<li>(.*?)</li>", soon.group(1)) == [
        "Freshdesk",
        "Re:amaze",
        "Zoho Desk",
        "Onsite",
    ]

    assert client.post(reverse("amazon_add_helpdesk"), {"helpdesk": "freshdesk"}).status_code == 200
    assert client.post(reverse("amazon_add_helpdesk"), {"helpdesk": "zendesk"}).status_code == 302
    assert client.session["amazon_wizard"]["helpdesk"] == "zendesk"
    assert "Zendesk" in text_of(client.get(reverse("amazon_add_connect")))


def seller(tenant: Tenant, kind: str) -> SellerAccount:
    return SellerAccount.objects.create(
        organisation=tenant.organisation,
        selling_partner_id=f"A2NOTICE{tenant.organisation.pk:06d}",
        region="EU",
        store_name="Harbour Lights",
        refresh_token="Atzr|secret",
        authorized_at=timezone.now(),
        helpdesk_kind=kind,
    )


def test_the_account_page_and_dashboard_ask_to_connect_the_chosen_helpdesk(live_url, tenant):
    account = seller(tenant, "zendesk")
    account_url = reverse("amazon_account", args=[account.pk])
    link = f'href="{CONNECT_ZENDESK}?{urlencode({"next": account_url})}"'
    client = tenant.client()
    for url in (account_url, reverse("dashboard")):
        page = text_of(client.get(url))
        assert "Connect Zendesk to start receiving tickets" in page, url
    assert link.replace("&", "&amp;") in text_of(client.get(account_url)) or link in text_of(
        client.get(account_url)
    )
    agent_page = text_of(tenant.client(role="agent").get(account_url))
    assert "Connect Zendesk to start receiving tickets" in agent_page and CONNECT_ZENDESK not in agent_page

    # Following it connects Zendesk and comes back to the account page, without the notice.
    _name, config = zendesk_account(tenant)
    response = client.post(f"{CONNECT_ZENDESK}?{urlencode({'next': account_url})}", config, follow=True)
    assert response.redirect_chain == [(account_url, 302)]
    page = text_of(response)
    assert "Zendesk is connected." in page and "to start receiving tickets" not in page
    dashboard = text_of(client.get(reverse("dashboard")))
    assert "to start receiving tickets" not in dashboard
    assert 'Zendesk · <span class="status-healthy">Working</span>' in dashboard


def test_no_notice_without_a_chosen_helpdesk(tenant):
    account = seller(tenant, "")
    for url in (reverse("amazon_account", args=[account.pk]), reverse("dashboard")):
        assert "to start receiving tickets" not in text_of(tenant.client().get(url))
