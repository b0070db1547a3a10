"""The demo's whole round trip in Chromium, against a real `deskbridge demo` process: a buyer message
sent with `deskbridge sandbox buyer-message` becomes a ticket on the sandbox Zendesk's agent page with
its order; the agent answers there; the answer reaches the buyer through the sandbox Amazon relay (its
mailbox page and demo.json's relay_outbox), and deskbridge's Conversations page shows all three. A
reply with a phone number in it is held back: a note on the ticket, nothing in the buyer's mailbox."""

from __future__ import annotations

import email
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from deskbridge.amazon import marketplaces
from deskbridge.sandbox.amazon.mail import buyer_alias
from tests.core.test_demo_helpdesk import eventually, read_demo_json, send_buyer_message, start_demo
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_phone import SCREENSHOTS, assert_fits
from tests.processes import bare_env, stop

US = "ATVPDKIKX0DER"
WAIT_MS = 120_000  # the pipeline runs in the demo's worker, on two cores shared with other test runs


@dataclass
class Demo:
    process: subprocess.Popen
    env: dict[str, str]
    data_dir: Path
    json: dict[str, Any]

    @property
    def web_url(self) -> str:
        return str(self.json["web_url"])

    def outbox(self) -> list[dict[str, Any]]:
        answer = httpx.get(self.json["relay_outbox"], timeout=10)
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    def buyer_message(self, order: str, text: str) -> str:
        """Send it as the buyer; returns the buyer's relay alias (the From of Amazon's mail)."""
        send_buyer_message(self.env, self.data_dir, self.json["addresses"][US], order, text)
        marketplace = marketplaces.by_id(US)
        assert marketplace is not None
        return buyer_alias(self.json["seller_id"], order, marketplace)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`deskbridge demo` (Zendesk, the default) on free ports, its relay included, until demo.json says
    it is ready."""
    tmp_path = tmp_path_factory.mktemp("demo")
    data_dir = tmp_path / "demo-data"
    env = bare_env(tmp_path)
    process = start_demo(env, data_dir)
    try:
        found = eventually("demo.json", lambda: read_demo_json(data_dir / "demo.json", "zendesk"), process)
        yield Demo(process, env, data_dir, found)
    finally:
        stop(process)


@pytest.fixture
def page(browser: Browser, demo: Demo) -> Iterator[Page]:
    """A browser context of its own on the demo's web server (not the test server of conftest)."""
    context = browser.new_context(base_url=demo.web_url, viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def refused(page: Page) -> list[str]:
    """What the Content-Security-Policy refused on the pages (an inline style, a script)."""
    messages: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            messages.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    return messages


def log_in(page: Page, demo: Demo) -> None:
    """Through the log-in form, with demo.json's login: the demo is another process."""
    page.goto("/login/")
    page.locator("input[name=username]").fill(demo.json["login"]["email"])
    page.locator("input[name=password]").fill(demo.json["login"]["password"])
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(f"{demo.web_url}/login/")


def reload_until(page: Page, found: Locator, timeout_ms: int = WAIT_MS) -> None:
    """Reload the page until `found` is on it (the demo's worker does its part meanwhile)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        if found.count():
            return
        if time.monotonic() > deadline:
            expect(found.first).to_be_visible(timeout=1)  # fails with Playwright's own message
        page.wait_for_timeout(500)
        page.reload()


def ticket_with(page: Page, text: str) -> Locator:
    return page.locator("section.zd-ticket").filter(has=page.locator(".message-text", has_text=text))


def field(ticket: Locator, title: str) -> Locator:
    """The value beside a title in a ticket's summary (Zendesk's custom field)."""
    return ticket.locator(f'dl.summary dt:text-is("{title}") + dd')


def answer_as_agent(page: Page, ticket: Locator, text: str) -> None:
    form = ticket.locator("form")
    form.locator("textarea[name=text]").fill(text)
    expect(form.locator("input[name=visibility][value=public]")).to_be_checked()
    form.get_by_role("button", name="Submit").click()


def parse(raw: str) -> EmailMessage:
    message = email.message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def assert_values_readable(page: Page) -> None:
    """Every value in a summary list (a ticket's fields, an order's facts) gets a third of the
    screen's width or more: long titles beside them must not squeeze them to a letter a line."""
    widths = page.locator("dl.summary dd").evaluate_all(
        "values => values.map(v => [v.textContent.trim().slice(0, 40), v.getBoundingClientRect().width])"
    )
    narrow = [(text, width) for text, width in widths if width < page.viewport_size["width"] / 3]
    assert narrow == [], f"{page.url}: values squeezed at {page.viewport_size['width']} px: {narrow}"


def screenshots(page: Page, name: str) -> None:
    """The page at desktop width and at 375 px (where it must not scroll sideways)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"demo-{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    assert_fits(page)
    assert_values_readable(page)
    page.screenshot(path=SCREENSHOTS / f"demo-{name}-375.png", full_page=True)
    page.set_viewport_size(DESKTOP)


@pytest.mark.browser
def test_a_buyer_message_and_the_agents_reply_go_all_the_way_round(
    page: Page, demo: Demo, refused: list[str]
) -> None:
    order = demo.json["orders"][0]
    question = "Hello, where is my parcel? The tracking has not moved since Monday."
    answer = "Hi, thanks for waiting. Your parcel left our warehouse yesterday and arrives on Thursday."

    # 1. Log in to deskbridge with demo.json's login.
    log_in(page, demo)

    # 2. The buyer writes, to the seller's US forwarding address, about one of the demo's orders.
    alias = demo.buyer_message(order, question)

    # 3. It becomes a ticket on the sandbox Zendesk's agent page, with the order on it.
    page.goto(demo.json["helpdesk"]["page"])
    ticket = ticket_with(page, question)
    reload_until(page, field(ticket, "Amazon order ID"))
    expect(ticket).to_have_count(1)
    expect(ticket.locator("h2")).to_contain_text(order)
    expect(field(ticket, "Amazon order ID")).to_have_text(order)
    expect(field(ticket, "Amazon marketplace")).to_have_text("amazon.com")
    expect(field(ticket, "Amazon order status")).not_to_be_empty()
    note = ticket.locator(".message.note .message-text", has_text=f"Amazon order {order}")
    reload_until(page, note)
    expect(note).to_contain_text("Status:")
    outbox_before = demo.outbox()

    # 4. The agent answers in the ticket's reply form.
    answer_as_agent(page, ticket, answer)
    expect(ticket.locator(".message.agent .message-text", has_text=answer)).to_have_count(1)
    screenshots(page, "zendesk-ticket")

    # 5. The buyer's mailbox at the sandbox relay has it, delivered; the outbox JSON has it once,
    # from the forwarding address to the buyer's alias.
    page.goto("/sandbox/amazon/relay/")
    delivered = page.locator("article[id^=relay-message-]").filter(has_text=answer)
    reload_until(page, delivered)
    expect(delivered).to_have_count(1)
    expect(delivered.locator(".badge")).to_have_text("Delivered")
    expect(delivered.locator("code.alias").nth(0)).to_have_text(demo.json["addresses"][US])
    expect(delivered.locator("code.alias").nth(1)).to_have_text(alias)
    screenshots(page, "relay-mailbox")

    ours = [m for m in demo.outbox() if answer in body_text(parse(m["raw"]))]
    assert len(ours) == 1, ours
    (sent,) = ours
    assert len(demo.outbox()) == len(outbox_before) + 1
    assert sent["status"] == "delivered"
    assert (sent["mail_from"], sent["rcpt_to"]) == (demo.json["addresses"][US], alias)
    message = parse(sent["raw"])
    assert message["From"].addresses[0].addr_spec == demo.json["addresses"][US]
    assert message["To"].addresses[0].addr_spec == alias
    assert str(message["Subject"]).startswith("Re: ") and order in str(message["Subject"])
    assert message["In-Reply-To"]

    # 6. deskbridge's Conversations page: the conversation, the buyer's message, the order, the reply.
    page.goto("/conversations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversations")
    row = page.locator("table.conversations tbody tr").filter(has_text=order)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(alias)
    screenshots(page, "conversations")
    row.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    expect(page.locator(".conversation-facts .alias")).to_have_text(alias)
    buyer = page.locator("article.message-buyer")
    expect(buyer).to_have_count(1)
    expect(buyer.locator(".message-text")).to_contain_text(question)
    agent = page.locator("article.message-agent")
    expect(agent).to_have_count(1)
    expect(agent.locator(".message-text")).to_contain_text(answer)
    expect(page.locator("aside.side")).to_contain_text(order)
    screenshots(page, "conversation")
    assert refused == []


@pytest.mark.browser
def test_a_reply_with_a_phone_number_is_held_back_with_a_note(
    page: Page, demo: Demo, refused: list[str]
) -> None:
    order = demo.json["orders"][1]
    question = "Can I still change the gift message on this order?"
    answer = "Of course. Call us on +1 206 555 0142 and we will change it for you."

    demo.buyer_message(order, question)
    page.goto(demo.json["helpdesk"]["page"])
    ticket = ticket_with(page, question)
    reload_until(page, ticket)
    expect(ticket).to_have_count(1)
    outbox_before = demo.outbox()

    answer_as_agent(page, ticket, answer)
    expect(ticket.locator(".message.agent .message-text", has_text=answer)).to_have_count(1)
    note = ticket.locator(".message.note .message-text", has_text="was NOT sent to the buyer")
    reload_until(page, note)
    expect(note).to_contain_text(answer.split(".")[0])
    expect(note).to_contain_text("phone")
    screenshots(page, "zendesk-blocked")

    # Nothing reached the relay, now or a little later (the note comes after the decision).
    page.wait_for_timeout(2000)
    assert demo.outbox() == outbox_before
    page.goto("/sandbox/amazon/relay/")
    expect(page.locator("article[id^=relay-message-]").filter(has_text="555 0142")).to_have_count(0)

    # deskbridge shows the buyer's message and no reply that went to the buyer (the held-back one,
    # where the page shows it, marked as such).
    log_in(page, demo)
    page.goto("/conversations/")
    page.locator("table.conversations tbody tr").filter(has_text=order).locator("a").first.click()
    expect(page.locator("article.message-buyer .message-text")).to_contain_text(question)
    expect(page.locator("article.message-agent:not(.message-unsent)")).to_have_count(0)
    outcomes = page.locator("article.message-agent").evaluate_all(
        "articles => articles.map(a => a.dataset.replyOutcome || '')"
    )
    assert set(outcomes) <= {"blocked"}, outcomes
    screenshots(page, "conversation-blocked")
    assert refused == []
