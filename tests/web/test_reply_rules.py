"""Replies to buyers as the seller sees them: the reply-rules page (owners and admins choose Block or
Warn per rule, agents read them, one organisation's choices never touch another's), and the
dashboard's count of the last 7 days' replies by outcome, in one query, for one organisation only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deskbridge.amazon import relay
from deskbridge.amazon.models import ReplyPolicy
from deskbridge.core.models import Role
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.models import OutboundReply, ReplyOutcome
from deskbridge.pipeline.workrows import WorkState
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

RULES = reverse("helpdesk_reply_rules")
DASHBOARD = reverse("dashboard")
PHONE_REPLY = "Please call us on +49 30 12345678 and we will sort it out."


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def choices(**changes: str) -> dict[str, str]:
    return {**relay.DEFAULT_POLICY, **changes}


def checked(html: str, rule: str) -> str:
    """The value of the radio that is checked for `rule`."""
    found = re.findall(rf'<input type="radio" name="{rule}" value="(\w+)"[^>]*\bchecked\b', html)
    assert len(found) == 1, (rule, found)
    return found[0]


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_each_rule_what_it_catches_and_amazon_s_defaults(tenant):
    response = tenant.client().get(RULES)

    assert response.status_code == 200
    html = text_of(response)
    for rule, default in relay.DEFAULT_POLICY.items():
        assert f'id="rule-{rule}"' in html
        assert str(relay.RULE_DESCRIPTIONS[rule]) in html.replace("&#x27;", "'")
        assert checked(html, rule) == default
        label = "Block" if default == "block" else "Warn"
        assert re.search(
            rf'<input type="radio" name="{rule}" value="{default}"[^>]*> <span>{label} \(Amazon&#x27;s default\)</span>',
            html,
        ), rule
    assert "Block: the reply is not sent, and the agent gets a note on the ticket" in html
    assert "Warn: the reply is sent, and the note lists what was found" in html
    assert "Save the rules" in html


def test_the_helpdesk_settings_page_links_to_the_rules(tenant):
    html = tenant.client(Role.AGENT).get(reverse("helpdesk_settings")).content.decode()
    assert "<title>Helpdesk · deskbridge</title>" in html
    (section,) = re.findall(r'<section class="card" id="reply-rules">.*?</section>', html, re.S)
    assert f'<a href="{RULES}">Reply rules</a>' in section


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_an_owner_or_admin_saves_the_rules_and_replies_are_checked_with_them(tenant, role):
    client = tenant.client(role)
    # Before: a phone number blocks the reply.
    before = relay.check_reply(PHONE_REPLY, ReplyPolicy.rules_for(tenant.organisation))
    assert [f.severity for f in before if f.rule == "phone_number"] == ["block"]

    response = client.post(RULES, choices(phone_number="warn", emoji="block"))

    assert response.status_code == 302 and response.url == RULES
    row = ReplyPolicy.objects.get(organisation=tenant.organisation)
    assert row.rules == choices(phone_number="warn", emoji="block")
    after = relay.check_reply(PHONE_REPLY, ReplyPolicy.rules_for(tenant.organisation))
    assert [f.severity for f in after if f.rule == "phone_number"] == ["warn"]

    page = client.get(RULES)
    html = text_of(page)
    assert "The reply rules are saved." in html
    assert checked(html, "phone_number") == "warn" and checked(html, "emoji") == "block"
    assert checked(html, "email_address") == "block"

    # Saving again changes the one row.
    client.post(RULES, choices(phone_number="block"))
    assert ReplyPolicy.objects.filter(organisation=tenant.organisation).count() == 1
    assert ReplyPolicy.rules_for(tenant.organisation)["phone_number"] == "block"


@pytest.mark.parametrize(
    ("posted", "rule"),
    [
        (choices(phone_number="maybe"), "phone_number"),
        ({k: v for k, v in choices().items() if k != "external_link"}, "external_link"),
    ],
    ids=["a value that is neither", "a rule left out"],
)
def test_a_wrong_choice_is_refused_beside_its_rule_and_nothing_is_saved(tenant, posted, rule):
    response = tenant.client().post(RULES, posted)

    assert response.status_code == 422
    html = text_of(response)
    fieldset = re.search(rf'<fieldset class="card rule invalid" id="rule-{rule}".*?</fieldset>', html)
    assert fieldset is not None, html
    assert f'<p class="error" id="id_{rule}-error" role="alert">Choose Block or Warn.</p>' in fieldset.group(
        0
    )
    assert html.count('class="error"') == 1  # only beside that rule
    assert not ReplyPolicy.objects.exists()


def test_an_agent_reads_the_rules_but_cannot_change_them(tenant):
    ReplyPolicy.objects.create(organisation=tenant.organisation, rules=choices(tracking_link="block"))
    client = tenant.client(Role.AGENT)

    page = client.get(RULES)
    html = text_of(page)
    assert page.status_code == 200
    assert checked(html, "tracking_link") == "block"
    assert "Only an owner or admin of the organisation can change the reply rules." in html
    assert "Save the rules" not in html
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert radios and all(" disabled" in radio for radio in radios)

    response = client.post(RULES, choices(tracking_link="warn"))
    assert response.status_code == 403
    assert ReplyPolicy.rules_for(tenant.organisation)["tracking_link"] == "block"


def test_the_page_needs_a_login(client):
    response = client.get(RULES)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_one_organisation_s_rules_do_not_touch_another_s(tenant, other_tenant):
    ReplyPolicy.objects.create(organisation=other_tenant.organisation, rules=choices(marketing="warn"))

    tenant.client().post(RULES, choices(phone_number="warn"))

    assert ReplyPolicy.rules_for(other_tenant.organisation) == choices(marketing="warn")
    assert ReplyPolicy.rules_for(tenant.organisation) == choices(phone_number="warn")
    other_html = text_of(other_tenant.client().get(RULES))
    assert checked(other_html, "phone_number") == "block" and checked(other_html, "marketing") == "warn"
    own_html = text_of(tenant.client().get(RULES))
    assert checked(own_html, "marketing") == "block"


def test_the_page_speaks_chinese(tenant):
    client = tenant.client()
    client.cookies["django_language"] = "zh-hans"
    html = text_of(client.get(RULES))
    assert "<h1>回复规则</h1>" in html
    assert "阻止（亚马逊默认）" in html and "警告" in html
    assert "电子邮件地址" in html  # RULE_DESCRIPTIONS, translated
    response = client.post(RULES, choices(emoji="often"))
    assert "请选择“阻止”或“警告”。" in text_of(response)


# --- the dashboard's replies ------------------------------------------------------------------


def helpdesk(tenant: Tenant) -> HelpdeskConnection:
    return HelpdeskConnection.objects.get_or_create(organisation=tenant.organisation, kind="zendesk")[0]


def reply(tenant: Tenant, outcome: str, state: str = WorkState.DONE, days_ago: float = 0) -> OutboundReply:
    made = OutboundReply.objects.create(
        organisation=tenant.organisation,
        connection=helpdesk(tenant),
        ticket_id="1",
        helpdesk_message_id=f"m{OutboundReply.objects.count() + 1}",
        outcome=outcome,
        state=state,
    )
    if days_ago:
        OutboundReply.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return made


def outcome_counts(response: Any) -> dict[str, int]:
    return {row["key"]: row["count"] for row in response.context["reply_outcomes"]}


def test_the_dashboard_counts_the_last_7_days_replies_of_its_own_organisation(tenant, other_tenant):
    for outcome, n in [
        (ReplyOutcome.SENT, 3),
        (ReplyOutcome.BLOCKED, 2),
        (ReplyOutcome.REFUSED, 2),
        (ReplyOutcome.FAILED, 1),
        (ReplyOutcome.UNKNOWN, 1),
    ]:
        for _ in range(n):
            reply(tenant, outcome)
    reply(tenant, "", state=WorkState.PENDING)
    reply(tenant, "", state=WorkState.RETRY)
    reply(tenant, "", state=WorkState.FAILED)  # retries used up: could not be sent
    reply(tenant, ReplyOutcome.REFUSED, days_ago=8)  # too old
    reply(tenant, ReplyOutcome.SENT, days_ago=6.9)
    # Another organisation's replies, of every kind: none is counted.
    for outcome in (*ReplyOutcome.values, ""):
        for _ in range(4):
            reply(other_tenant, outcome, state=WorkState.PENDING if not outcome else WorkState.DONE)

    response = tenant.client(Role.AGENT).get(DASHBOARD)

    assert outcome_counts(response) == {
        "sent": 4,
        "blocked": 2,
        "refused": 2,
        "failed": 2,
        "unknown": 1,
        "waiting": 2,
    }
    html = text_of(response)
    assert (
        '<li class="outcome-refused highlight" data-outcome="refused"><span>Refused by Amazon</span> '
        "<strong>2</strong></li>"
    ) in html
    assert (
        '<li class="outcome-sent" data-outcome="sent"><span>Sent to the buyer</span> <strong>4</strong>'
        in html
    )
    assert "Not sent: against Amazon&#x27;s rules</span> <strong>2</strong>" in html
    assert "Waiting to be sent</span> <strong>2</strong>" in html

    other = outcome_counts(other_tenant.client().get(DASHBOARD))
    assert other == {"sent": 4, "blocked": 4, "refused": 4, "failed": 4, "unknown": 4, "waiting": 4}


def test_no_refused_reply_is_not_highlighted(tenant):
    reply(tenant, ReplyOutcome.SENT)
    html = text_of(tenant.client().get(DASHBOARD))
    assert (
        '<li class="outcome-refused" data-outcome="refused"><span>Refused by Amazon</span> <strong>0</strong>'
        in html
    )
    assert "highlight" not in html


def test_the_dashboard_counts_replies_in_one_query_however_many(tenant):
    client = tenant.client()

    def reply_queries() -> int:
        with CaptureQueriesContext(db) as captured:
            assert client.get(DASHBOARD).status_code == 200
        return sum(OutboundReply._meta.db_table in q["sql"] for q in captured.captured_queries)

    reply(tenant, ReplyOutcome.SENT)
    few = reply_queries()
    for outcome in (*ReplyOutcome.values, "") * 10:
        reply(tenant, outcome)
    many = reply_queries()

    assert few == many
    # One for the panel; the Processing card's own count and failed list of agent replies are the rest.
    assert few == 3


def test_the_dashboard_panel_speaks_chinese(tenant):
    reply(tenant, ReplyOutcome.REFUSED)
    client = tenant.client()
    client.cookies["django_language"] = "zh-hans"
    html = text_of(client.get(DASHBOARD))
    assert "给买家的回复" in html and "最近 7 天" in html
    assert "<span>被亚马逊拒收</span> <strong>1</strong>" in html


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("zendesk", ["Zendesk 子域名", "API 令牌", "启用令牌访问"]),
        ("kustomer", ["组织名称", "API 密钥", "角色之后无法更改"]),
        ("gorgias", ["Gorgias 域名", "用户名（邮箱）"]),
        ("helpscout", ["收件箱 ID", "同一应用的 App Secret。"]),
    ],
)
def test_the_helpdesks_connect_forms_speak_chinese(tenant, kind, expected):
    """The connectors' field labels and help texts are translated where the form shows them."""
    client = tenant.client()
    client.cookies["django_language"] = "zh-hans"
    html = text_of(client.get(reverse("helpdesk_connect", args=[kind])))
    for text in expected:
        assert text in html, (kind, text)
    english = text_of(tenant.client().get(reverse("helpdesk_connect", args=[kind])))
    assert not any(text in english for text in expected)
