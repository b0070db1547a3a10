"""Quoted history, helpdesk separators, Amazon's quoted template and signatures out of agents' replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskbridge.mail.quotes import (
    quote_start,
    strip_quoted,
    strip_quoted_html,
    strip_quoted_text,
    strip_signature,
)

HELPDESKS = Path(__file__).resolve().parents[1] / "data" / "helpdesks"
# A copy of ../shared/reference/email-samples/02-… (the suite must not reach outside the repository).
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "email-samples"


def _json(kind: str, name: str) -> dict:
    return json.loads((HELPDESKS / kind / name).read_text())


# --- the helpdesks' own payloads: what an agent really sends comes out unchanged -------------------


def test_zendesk_webhook_comment_is_kept_whole():
    comment = _json("zendesk", "webhook-agent-reply.json")["latest_public_comment"]
    assert strip_quoted(text=comment) == "Hello, your replacement ships tomorrow."


def test_kustomer_message_preview_is_kept_whole():
    preview = _json("kustomer", "webhook-agent-reply.json")["data"]["attributes"]["preview"]
    assert strip_quoted(text=preview) == "Sorry about that! A replacement ships tomorrow."


def test_helpscout_reply_thread_body_is_kept_whole():
    thread = _json("helpscout", "webhook-agent-reply.json")["_embedded"]["threads"][0]
    assert thread["type"] == "reply"
    assert strip_quoted(html=thread["body"]) == "Sorry about that! A replacement ships tomorrow."


def test_gorgias_message_html_and_text_agree():
    message = _json("gorgias", "buyer-follow-up.response.json")
    assert (
        strip_quoted(text=message["body_text"])
        == strip_quoted(html=message["body_html"])
        == message["body_text"]
    )


# --- helpdesk reply separators (an agent answering a notification by email) -----------------------


def test_zendesk_separator_and_the_thread_under_it_go():
    comment = _json("zendesk", "webhook-agent-reply.json")["latest_public_comment"]
    mail = (
        f"{comment}\n\n##- Please type your reply above this line -##\n\n"
        "Jane Doe, Oct 21, 2026, 15:00\n\nWhere is my order?"
    )
    assert strip_quoted(text=mail) == comment


def test_zendesk_separator_in_another_language():
    mail = "Ihr Ersatz ist unterwegs.\n\n##- Bitte geben Sie Ihre Antwort über dieser Zeile ein. -##\n\nJane: Wo?"
    assert strip_quoted(text=mail) == "Ihr Ersatz ist unterwegs."


@pytest.mark.parametrize(
    "separator",
    [
        "-- Reply above this line --",
        "## Please reply above this line ##",
        "===== Please type your reply above this line =====",
        "---- Oberhalb dieser Zeile antworten ----",
        "--- Répondez au-dessus de cette ligne ---",
        "— Rispondi sopra questa riga —",
        "--- Responda por encima de esta línea ---",
        "--- Responda acima desta linha ---",
        "--- Boven deze regel antwoorden ---",
        "--- Svara ovanför denna rad ---",
        "--- Odpowiedz powyżej tej linii ---",
        "--- Lütfen bu satırın üstüne yazın ---",
        "--- この行より上に返信してください ---",
        "--- 请在此行上方回复 ---",
        "--- الرجاء الرد فوق هذا السطر ---",
    ],
)
def test_reply_above_this_line_separators(separator):
    mail = f"The replacement ships tomorrow.\n\n{separator}\n\nYou wrote: where is it?"
    assert strip_quoted(text=mail) == "The replacement ships tomorrow."


# --- "On <date>, <name> wrote:" in the marketplaces' languages ------------------------------------

ATTRIBUTIONS = {
    "en": (
        "The replacement ships tomorrow.",
        "On Mon, Apr 3, 2023 at 10:00 AM Jane <jane@example.com> wrote:",
    ),
    "de": (
        "Ihr Ersatz ist unterwegs.",
        "Am Mo., 3. Apr. 2023 um 10:00 Uhr schrieb Jane Doe - Amazon Marketplace <\nabc123@marketplace.amazon.de>:",
    ),
    "fr": (
        "Votre colis arrive demain.",
        "Le lun. 3 avr. 2023 à 10:00, Jean - Marketplace d'Amazon.fr <x@y.fr> a écrit :",
    ),
    "it": ("Il pacco arriva domani.", "Il giorno lun 3 apr 2023 alle ore 10:00 Mario <m@x.it> ha scritto:"),
    "es": ("El paquete llega mañana.", "El lun, 3 abr 2023 a las 10:00, Juan (<j@x.es>) escribió:"),
    "pt": ("O pacote chega amanhã.", "Em seg., 3 de abr. de 2023 às 10:00, João <j@x.br> escreveu:"),
    "nl": ("Het pakket komt morgen.", "Op ma 3 apr 2023 om 10:00 schreef Jan <j@x.nl>:"),
    "sv": ("Paketet kommer i morgon.", "Den mån 3 apr. 2023 kl 10:00 skrev Sven <s@x.se>:"),
    "pl": ("Paczka dotrze jutro.", "pon., 3 kwi 2023 o 10:00 Jan <j@x.pl> napisał(a):"),
    "tr": ("Paketiniz yarın geliyor.", "3 Nis 2023 Pzt, 10:00 tarihinde Ali <a@x.tr> şunu yazdı:"),
    "ar": ("الطرد يصل غدا.", "في الاثنين، 3 أبريل 2023 في 10:00 ص، كتب أحمد <a@x.sa>:"),
    "ja": ("明日お届けします。", "2023年4月3日(月) 10:00 Taro <t@x.jp>:"),
    "zh": ("包裹明天到。", "Li <l@x.cn> 于2023年4月3日周一 10:00写道："),
}


@pytest.mark.parametrize("language", sorted(ATTRIBUTIONS))
def test_attribution_line_and_quote_go(language):
    words, attribution = ATTRIBUTIONS[language]
    mail = f"{words}\n\n{attribution}\n> Where is my order?\n> Thanks"
    assert strip_quoted(text=mail) == words


@pytest.mark.parametrize("language", sorted(ATTRIBUTIONS))
def test_attribution_without_quote_marks_goes_too(language):
    words, attribution = ATTRIBUTIONS[language]
    assert strip_quoted(text=f"{words}\n\n{attribution}\n\nWhere is my order?") == words


def test_outlook_header_block_in_german():
    mail = (
        "Wir senden heute einen Ersatz.\n\n________________________________\n"
        "Von: Jane Doe - Amazon Marketplace <abc@marketplace.amazon.de>\nGesendet: Montag, 3. April 2023 10:00\n"
        "An: shop@example.de\nBetreff: Frage von Amazon-Kunde Jane\n\nWo ist meine Bestellung?"
    )
    assert strip_quoted(text=mail) == "Wir senden heute einen Ersatz."


def test_original_message_separator_in_polish():
    mail = "Wysyłamy dziś.\n\n----- Oryginalna wiadomość -----\nOd: Jan\nDo: sklep\n\nGdzie paczka?"
    assert strip_quoted(text=mail) == "Wysyłamy dziś."


# --- Amazon's own template, quoted (samples 02 and 07) --------------------------------------------


def test_amazon_template_quoted_by_an_agent_goes_with_its_order_lines():
    mail = (
        "We will exchange it for the 14/16.\n\n"
        "Order ID 102-5239268-9612243:\n1 of Girls' Velvet Plush Cozy Robe, Size 7/8 [ASIN: B01FCAWEYM]\n\n"
        "------------- Begin message -------------\n\nDo you have a 12/14?\n\n"
        "------------- End message -------------\n\n"
        "For Your Information: To help arbitrate disputes and preserve trust and safety, we retain all messages"
    )
    assert strip_quoted(text=mail) == "We will exchange it for the 14/16."


@pytest.mark.parametrize(
    "marker",
    [
        "------------- Anfang der Nachricht -------------",
        "------------- Début du message -------------",
        "------------- Inizio messaggio -------------",
        "------------- Iniciar mensaje -------------",
        "------------- メッセージはここから -------------",
        "------------- Message: -------------",
    ],
)
def test_amazon_begin_markers_in_several_languages(marker):
    mail = f"Thanks, it ships today.\n\n# 303-1234567-1234567:\n1 / Kaffeemühle [ASIN: B000000000]\n\n{marker}\nWo?"
    assert strip_quoted(text=mail) == "Thanks, it ships today."


def test_real_2016_buyer_reply_from_sample_02():
    raw = (SAMPLES / "02-en-US-buyer-reply-quoting-seller-2016.html.txt").read_text()
    body = "\n".join(line for line in raw.splitlines() if not line.startswith("#"))
    assert strip_quoted(html=body) == "Yes please, I'd like to exchange it for the 14/16."


def test_amazon_footer_alone_is_cut():
    mail = "Danke!\n\nUm anzugeben, dass für diese Nachricht keine Antwort erforderlich ist, klicken Sie hier: https://x"
    assert strip_quoted(text=mail) == "Danke!"


# --- HTML containers ------------------------------------------------------------------------------


def test_gmail_quote_container_goes_and_links_stay():
    html = (
        '<div dir="ltr">Ships <b>today</b>.<br><a href="https://www.amazon.de/gp/your-account">Your orders</a></div>'
        '<br><div class="gmail_quote"><div class="gmail_attr">On Mon, Apr 3, 2023 Jane wrote:<br></div>'
        '<blockquote class="gmail_quote">Where is it?</blockquote></div>'
    )
    assert strip_quoted(html=html) == "Ships today.\nYour orders (https://www.amazon.de/gp/your-account)"


@pytest.mark.parametrize(
    "quoted",
    [
        '<div class="freshdesk_quote"><blockquote class="freshdesk_quote">Where?</blockquote></div>',
        '<div class="quotedReply"><blockquote>Where?</blockquote></div>',
        '<div class="front-blockquote">Where?</div>',
        '<blockquote type="cite">Where?</blockquote>',
        '<div class="moz-cite-prefix">On 3/4/23 Jane wrote:</div><blockquote type="cite">Where?</blockquote>',
        '<div class="yahoo_quoted">Where?</div>',
        '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Jane</div><div>Where?</div>',
        '<div class="gmail_signature">Anna | shop@example.com | +49 30 1234567</div>',
    ],
)
def test_quote_and_signature_containers_go(quoted):
    assert strip_quoted(html=f"<p>It ships today.</p>{quoted}") == "It ships today."


def test_an_agents_own_blockquote_stays():
    html = "<p>You asked:</p><blockquote>Can I return it?</blockquote><p>Yes, within 30 days.</p>"
    assert strip_quoted_html(html).count("blockquote") == 2
    assert "Can I return it?" in strip_quoted(html=html)


def test_html_is_preferred_over_text_when_both_come():
    assert strip_quoted(text="see our page", html='<p>see <a href="https://x.example">our page</a></p>') == (
        "see our page (https://x.example)"
    )


def test_empty_html_falls_back_to_text():
    assert strip_quoted(text="Hello", html="<p> </p>") == "Hello"


# --- signatures -----------------------------------------------------------------------------------


def test_dash_dash_signature_goes():
    assert strip_quoted(text="Hi,\nit ships today.\n\n-- \nAnna Example\nACME Ltd\n+49 30 1234567") == (
        "Hi,\nit ships today."
    )


@pytest.mark.parametrize(
    "footer",
    ["Sent from my iPhone", "Gesendet von meinem iPhone", "Envoyé de mon iPhone", "Inviato da iPhone",
     "Enviado desde mi iPhone", "Enviado do meu iPhone", "Verzonden met mijn iPhone", "Skickat från min iPhone",
     "Wysłane z iPhone'a", "iPhone'umdan gönderildi", "iPhoneから送信", "发自我的iPhone", "Get Outlook for iOS"],
)  # fmt: skip
def test_phone_footers_go(footer):
    assert strip_quoted(text=f"It ships today.\n\n{footer}") == "It ships today."


def test_a_polite_closing_stays():
    reply = (
        "Hi Jane,\n\nThank you, we have shipped a replacement.\nIt arrives Tuesday.\n\nBest regards,\nAnna"
    )
    assert strip_quoted(text=reply) == reply


def test_a_dash_dash_far_from_the_end_is_not_a_signature():
    reply = "Options:\n--\n" + "\n".join(f"line {i}" for i in range(20))
    assert strip_signature(reply) == reply


# --- what must not be cut -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "Route:\nFrom: Berlin\nTo: Munich\nThen to you.",
        "Som jag skrev tidigare:\n- a\n- b",
        "Data: 3 kwietnia\nDo: Warszawa\nOk",
        "Step 1 -- open the box\nStep 2 -- take the cable",
        "As I wrote:\nthe order ships Monday.",
        "Wir haben am Montag geschrieben: das Paket ist unterwegs.",
        "Order 111-2222222-3333333 ships today, ASIN B000000000.",
    ],
)
def test_agents_own_words_are_not_mistaken_for_quotes(reply):
    assert quote_start(reply) is None
    assert strip_quoted_text(reply) == reply


def test_bottom_posting_keeps_the_answer_under_the_quote():
    assert strip_quoted(text="> Where is my parcel?\n> Thanks\n\nIt ships tomorrow.") == "It ships tomorrow."


def test_a_reply_only_of_quotes_is_empty():
    assert strip_quoted(text="On Mon, Apr 3, 2023 Jane <j@x.com> wrote:\n> Where?") == ""


def test_control_characters_in_html_are_dropped_not_fatal():
    """Found by hypothesis: lxml refused a control character when a quote's tail text moved."""
    assert strip_quoted(html='<A00 CLASS="gmail_quote"></A00>\x1f') == ""
    assert strip_quoted(html="<p>Danke\x1f f\x0bür Ihre Geduld</p>") == "Danke für Ihre Geduld"
