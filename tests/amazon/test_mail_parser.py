"""Unit tests for the tricky parts of reading Amazon mail (amazon.md §12, §15; email-samples/)."""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from deskbridge.amazon.mail import (
    AmazonMail,
    AttachmentInfo,
    FailureInfo,
    MailClass,
    attachment_payloads,
    read_amazon_mail,
)
from deskbridge.amazon.mail import reader as reader_module
from deskbridge.amazon.mail.extract import extract_message, parse_subject
from deskbridge.amazon.mail.mime import repair_mojibake

CORPUS = Path(__file__).resolve().parents[1] / "data" / "eml"
US_ALIAS = "th6wqr1vf6dr43f@marketplace.amazon.com"
DE_FORWARDING = "amz-de-a1pa6795ukmfr9-a3th9s8bh6gogm@deskbridge.localhost"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def mail(
    body: str = "",
    *,
    sender: str = f'"Jo - Amazon Marketplace" <{US_ALIAS}>',
    subject: str = "Inquiry from Amazon customer Jo (Order: 111-1234567-7654321)",
    html: bool = False,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = "amz-us-atvpdkikx0der-a3th9s8bh6gogm@deskbridge.localhost"
    msg["Subject"] = subject
    msg["Message-ID"] = "<m1@amazonses.example>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body, subtype="html" if html else "plain")
    return msg.as_bytes()


def buyer_body(
    text: str, begin: str = "Begin message", end: str | None = "End message", dashes: int = 13
) -> str:
    d = "-" * dashes
    closing = f"{d} {end} {d}\n\n" if end else ""
    return (
        f"# 111-1234567-7654321:\n1 / Test item [ASIN: B000TEST01]\n\n{d} {begin} {d}\n\n{text}\n\n"
        f"{closing}Was this email helpful?\n"
    )


# --- sample 02: the buyer's new text is before the quoted, nested Amazon template ------------------


def test_sample_02_new_text_is_before_original_message() -> None:
    read = read_amazon_mail(corpus("us/01-buyer-reply-quoting-seller-2016.eml"))
    assert read.mail_class == MailClass.BUYER_MESSAGE
    assert read.text == "Yes please, I'd like to exchange it for the 14/16."
    assert "Unfortunately" not in read.text and "Dear Mr./Mrs. Doe" not in read.text
    assert "quoted_history_removed" in read.flags and "html_only" in read.flags
    # The footer's identifiers survive: commMgrTok equals the links' msg=, and mp= names amazon.com.
    assert read.commmgr_token == "AF9E104T7W2Q2"
    assert read.marketplace_id == "ATVPDKIKX0DER"
    assert read.no_response_url is not None and "msg=AF9E104T7W2Q2" in read.no_response_url


def test_naive_marker_extraction_would_return_the_quoted_history() -> None:
    """The reason quoted history is cut first: between the markers lies the seller's old message."""
    read = read_amazon_mail(corpus("us/01-buyer-reply-quoting-seller-2016.eml"))
    assert "Unfortunately we don't have size L" not in read.text


def test_quote_inside_the_markers_is_cut_too() -> None:
    body = buyer_body(
        "Thanks, that works.\n\nOn Mon, 3 Mar 2026 at 10:00, Shop wrote:\n> We can send a new one."
    )
    read = read_amazon_mail(mail(body))
    assert read.text == "Thanks, that works."
    assert "quoted_history_removed" in read.flags


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "----- Ursprüngliche Nachricht -----",
        "-------- Message d'origine --------",
        "Am 03.03.2026 um 10:00 schrieb Shop <x@example.com>:",
        "Il giorno lun 3 mar 2026 alle ore 10:00 Shop - Marketplace Amazon <x@y> ha scritto:",
        "El lun, 3 mar 2026 a las 10:00, Tienda escribió:",
        "From: Shop\nSent: Monday, March 3, 2026 10:00 AM",
    ],
)
def test_quote_separators_in_several_languages(separator: str) -> None:
    read = read_amazon_mail(mail(buyer_body(f"New words.\n\n{separator}\nold words")))
    assert read.text == "New words."


# --- sample 03: a seller-reply copy with Chinese labels -------------------------------------------


def test_sample_03_seller_copy_with_chinese_labels() -> None:
    read = read_amazon_mail(corpus("us/06-seller-copy-zh-locale-2020.eml"))
    assert read.mail_class == MailClass.SELLER_COPY
    assert read.order_id == "114-2960162-5573021"  # after the label 订单编号：
    assert read.buyer_name == "John Doe-Roe"
    assert (read.asin, read.quantity) == ("B07KZMTTD2", 1)
    assert read.product_title is not None and read.product_title.endswith("w/Ho")  # truncated as sent
    assert read.text.startswith("Dear customer,") and read.text.endswith("Customer Service Team")
    assert "此电子邮件是否有用" not in read.text and "For Your Information" not in read.text
    assert read.buyer_alias is None


def test_seller_copy_is_recognised_by_header_even_without_the_english_sentence() -> None:
    read = read_amazon_mail(corpus("br/02-seller-copy-seu-email.eml"))
    assert read.mail_class == MailClass.SELLER_COPY
    assert read.order_id is None  # a pre-sale question: the copy has no order id


# --- sample 05: subjects -----------------------------------------------------------------------------

SUBJECTS = [
    # subject, topic, order id, name, language of "(Order: …)"
    (
        "Ship faster inquiry from Amazon customer John Q. Public (Order: 111-7366207-0755439)",
        "Ship faster inquiry from Amazon customer",
        "111-7366207-0755439",
        "John Q. Public",
        "en",
    ),
    (
        "Product details inquiry from Amazon customer carol (Order: 113-0273723-9215468)",
        "Product details inquiry from Amazon customer",
        "113-0273723-9215468",
        "carol",
        "en",
    ),
    (
        "Re: Product details inquiry from Amazon customer Cherri (Order: 111-3958185-1645065)",
        "Product details inquiry from Amazon customer",
        "111-3958185-1645065",
        "Cherri",
        "en",
    ),
    (
        "Inquiry from Amazon customer Josh (Order: 111-0944945-3989852)",
        "Inquiry from Amazon customer",
        "111-0944945-3989852",
        "Josh",
        "en",
    ),
    (
        "Return policy inquiry from Amazon customer Sakina(Order: 111-1537220-523865...",
        "Return policy inquiry from Amazon customer",
        None,  # truncated in the UI it was copied from: no complete id
        "Sakina",
        "en",
    ),
    (
        "Order delivery inquiry from Amazon customer  (Order: 114-5652017-6650426)",
        "Order delivery inquiry from Amazon customer",
        "114-5652017-6650426",
        None,
        "en",
    ),
    ("Inquiry from Amazon customer", "Inquiry from Amazon customer", None, None, None),
    (
        "Exchange request for order (Order: 102-5239268-9612243)",
        "Exchange request for order",
        "102-5239268-9612243",
        None,
        "en",
    ),
    (
        "RE: Exchange request for order (Order: 102-5239268-9612243) [EXTERNAL]",
        "Exchange request for order",
        "102-5239268-9612243",
        None,
        "en",
    ),
    (
        "Paket nicht angekommen: Gutschrift anfordern(Bestellung: 301-0000001-0000001)",
        "Paket nicht angekommen: Gutschrift anfordern",
        "301-0000001-0000001",
        None,
        "de",
    ),
    (
        "Frage von Amazon-Kunde True (Bestellung: 302-0000002-0000002)",
        "Frage von Amazon-Kunde",
        "302-0000002-0000002",
        "True",
        "de",
    ),
    (
        "Paket nicht angekommen(Bestellung: 301-1111111-2222222)",
        "Paket nicht angekommen",
        "301-1111111-2222222",
        None,
        "de",
    ),
    (
        "Consulta sobre el envío del cliente de Amazon Luis (Pedido: 701-2223334-4455566)",
        "Consulta sobre el envío del cliente de Amazon",
        "701-2223334-4455566",
        "Luis",
        "es",
    ),
    ("Messaggio dall'acquirente", "Messaggio dall'acquirente", None, None, None),
    (
        "Re: Order information from Amazon seller Shop",
        "Order information from Amazon seller Shop",
        None,
        None,
        None,
    ),
    ("Seu e-mail para Maria Silva", "Seu e-mail para Maria Silva", None, None, None),
    (
        "Rücksendeanfrage für Bestellung 304-2345678-3456789",
        "Rücksendeanfrage für Bestellung",
        "304-2345678-3456789",
        None,
        None,
    ),
]


@pytest.mark.parametrize(("subject", "topic", "order_id", "name", "language"), SUBJECTS)
def test_subject_parts(
    subject: str, topic: str, order_id: str | None, name: str | None, language: str | None
) -> None:
    parsed = parse_subject(subject)
    assert (parsed.topic, parsed.order_id, parsed.name, parsed.language) == (topic, order_id, name, language)


def test_empty_name_and_generic_display_name_give_no_buyer_name() -> None:
    read = read_amazon_mail(
        mail(
            buyer_body("Hi"),
            sender=f'"Acquirente Amazon" <{US_ALIAS}>',
            subject="Order delivery inquiry from Amazon customer  (Order: 114-5652017-6650426)",
        )
    )
    assert read.buyer_name is None
    assert read.subject == "Order delivery inquiry from Amazon customer  (Order: 114-5652017-6650426)"


@pytest.mark.parametrize(
    ("display", "name"),
    [
        ("Cherri - Amazon Marketplace", "Cherri"),
        ("Camille - Marketplace d'Amazon.fr", "Camille"),
        ("Giulia - Marketplace Amazon", "Giulia"),
        ("Maria Silva", "Maria Silva"),
        ("Cliente Amazon", None),
    ],
)
def test_display_names(display: str, name: str | None) -> None:
    read = read_amazon_mail(mail(buyer_body("Hi"), sender=f'"{display}" <{US_ALIAS}>', subject="Inquiry"))
    assert read.buyer_name == name


def test_display_name_that_swallowed_the_address() -> None:
    """From: "Alisa - Amazon Marketplace <xxx@marketplace.amazon.com>" (email-samples/06)."""
    raw = (
        b'From: "Alisa - Amazon Marketplace <x1y2z3@marketplace.amazon.com>"\r\n'
        b"Subject: Inquiry from Amazon customer Alisa\r\n\r\n" + buyer_body("Hello").encode()
    )
    read = read_amazon_mail(raw)
    assert read.mail_class == MailClass.BUYER_MESSAGE
    assert (read.buyer_alias, read.buyer_name) == ("x1y2z3@marketplace.amazon.com", "Alisa")


# --- markers per language (email-samples/07) --------------------------------------------------------

MARKERS = [
    ("Begin message", "End message", 13, "en"),
    ("Begin message / Début du message", "End message / Fin du message", 14, "en"),
    ("Anfang der Nachricht", "Ende der Nachricht", 13, "de"),
    ("Inizio messaggio", "Fine messaggio", 13, "it"),
    ("Début du message", "Fin du message", 13, "fr"),
    ("Iniciar mensaje", "Finalizar mensaje", 13, "es"),
    ("メッセージはここから", "メッセージはここまで", 13, "ja"),
    ("Mensagem:  ", "Encerrar mensagem", 13, "pt"),
    ("Iniciar mensagem", "Mensagem final", 13, "pt"),
    ("Início da mensagem", "Fim da mensagem", 13, "pt"),
    ("Inicio da mensagem", "Fim da mensagem", 13, "pt"),
    ("Message:", "End message", 13, "en"),
    ("Message:", "Ende der Nachricht", 13, "de"),  # the generic start takes the end marker's language
    ("Messaggio:", "Fine messaggio", 13, "it"),
    ("Mensaje:", "Finalizar mensaje", 13, "es"),
    ("Wiadomość:", "Koniec wiadomości", 13, None),  # unknown words: found by shape, language unknown
]


@pytest.mark.parametrize(("begin", "end", "dashes", "language"), MARKERS)
def test_markers(begin: str, end: str, dashes: int, language: str | None) -> None:
    read = read_amazon_mail(mail(buyer_body("Der Text.\nZweite Zeile.", begin, end, dashes)))
    assert read.text == "Der Text.\nZweite Zeile."
    assert read.language == language
    assert "no_end_marker" not in read.flags


def test_mojibake_begin_marker_is_repaired() -> None:
    body = buyer_body("Ã‡a ne marche pas, dÃ©solÃ©e.", "DÃ©but du message", "Fin du message")
    read = read_amazon_mail(mail(body))
    assert read.text == "Ça ne marche pas, désolée."
    assert read.language == "fr"
    assert "mojibake_repaired" in read.flags


@pytest.mark.parametrize(
    "footer",
    [
        "Was this email helpful?",
        "Resolve case: https://sellercentral.amazon.com/messaging/no-response-needed?t=1&h=2",
        "[commMgrTok:ABC123]",
        "For Your Information: To help arbitrate disputes ...",
        "Wichtiger Hinweis: Zum Schutz ...",
        "Um anzugeben, dass für diese Nachricht keine Antwort erforderlich ist, klicken Sie hier: x",
        "Pour marquer ce message comme ne nécessitant pas de réponse, cliquez ici x",
        "Nota informativa: ...",
        "Per contrassegnare che questo messaggio non richiede una risposta, clicca qui: x",
        "Este e-mail foi útil?",
        "此电子邮件是否有用？",
    ],
)
def test_missing_end_marker_cuts_at_the_first_footer_phrase(footer: str) -> None:
    body = (
        "# 111-1234567-7654321:\n\n------------- Message: -------------\n\nMy words.\n\n" + footer + "\nmore"
    )
    read = read_amazon_mail(mail(body))
    assert read.text == "My words."
    assert "no_end_marker" in read.flags


def test_missing_end_marker_and_footer_keeps_everything_after_the_marker() -> None:
    read = read_amazon_mail(mail("------------- Begin message -------------\n\nAll of it.\nStill mine."))
    assert read.text == "All of it.\nStill mine."
    assert "no_end_marker" in read.flags


def test_html_that_puts_marker_and_text_on_one_line() -> None:
    html = (
        "<div>------------- Message: ------------- Hello there "
        "------------- End message -------------</div><p>Was this email helpful?</p>"
    )
    read = read_amazon_mail(mail(html, html=True))
    assert read.text == "Hello there"
    assert "html_only" in read.flags


def test_plain_part_without_markers_falls_back_to_the_html_part() -> None:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = US_ALIAS
    msg.set_content("This message is best viewed in HTML.")
    msg.add_alternative("<p>" + buyer_body("From the HTML").replace("\n", "<br>") + "</p>", subtype="html")
    read = read_amazon_mail(msg.as_bytes())
    assert read.text == "From the HTML"
    assert read.flags == ("html_used",)


def test_unknown_layout_keeps_the_whole_text_flagged_unparsed() -> None:
    read = read_amazon_mail(mail("Something Amazon has never sent before.\n\nOrder 111-1234567-7654321"))
    assert read.mail_class == MailClass.BUYER_MESSAGE
    assert read.text == "Something Amazon has never sent before.\n\nOrder 111-1234567-7654321"
    assert read.flags == ("unparsed",)


def test_empty_message_between_markers_is_flagged() -> None:
    read = read_amazon_mail(mail(buyer_body("")))
    assert read.text == ""
    assert "empty_text" in read.flags


def test_buyer_words_are_not_searched_for_an_order_id() -> None:
    body = "Ceramic mug [ASIN: B000TEST01]\n\n------------- Message: -------------\n\nIs it like 111-9999999-9999999?\n"
    read = read_amazon_mail(
        mail(body + "------------- End message -------------\n", subject="Product question")
    )
    assert read.order_id is None


# --- item lines ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "quantity", "title", "asin", "sku"),
    [
        ("1 of Robe, Size 7/8 [ASIN: B01FCAWEYM]", 1, "Robe, Size 7/8", "B01FCAWEYM", None),
        (
            "2 / Glass Containers, 10 Pack [ASIN: B07R8F3M4N]",
            2,
            "Glass Containers, 10 Pack",
            "B07R8F3M4N",
            None,
        ),
        ("1 / Moka 6 tazze | MOKA-6 [ASIN: B000FJGY3C]", 1, "Moka 6 tazze", "B000FJGY3C", "MOKA-6"),
        ("1 of / de Snow Brush [ASIN: B0018BE6Q6]", 1, "Snow Brush", "B0018BE6Q6", None),
        ("3 von Kaffeemühle [ASIN: B07MZ3KQ9V]", 3, "Kaffeemühle", "B07MZ3KQ9V", None),
        ("Ceramic Dripper [ASIN: B08TDW5XKZ]", None, "Ceramic Dripper", "B08TDW5XKZ", None),
    ],
)
def test_item_lines(line: str, quantity: int | None, title: str, asin: str, sku: str | None) -> None:
    body = f"# 111-1234567-7654321:\n{line}\n\n------------- Message: -------------\n\nHi\n"
    read = read_amazon_mail(mail(body + "------------- End message -------------\n"))
    assert (read.quantity, read.product_title, read.asin, read.sku) == (quantity, title, asin, sku)


# --- classification order ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "subject", "body", "headers", "expected"),
    [
        (US_ALIAS, "Inquiry", "hi", {}, MailClass.BUYER_MESSAGE),
        # The header wins over the sender (a return-request notice is never a buyer message).
        (US_ALIAS, "Inquiry", "hi", {"X-Space-Notification-Type": "RETURN_REQUEST"}, MailClass.RETURN_REQUEST),
        ("donotreply@amazon.com", "x", "hi", {"X-Space-Notification-Type": "BBC_MESSAGE_SENT_TO_MERCHANT"},
         MailClass.BUYER_MESSAGE),
        ("donotreply@amazon.com", "Seu e-mail para Ana", "<p>x</p>", {}, MailClass.SELLER_COPY),
        ("donotreply@amazon.com", "Copy", "Here is a copy of the e-mail that you sent to Ana.", {},
         MailClass.SELLER_COPY),
        ("donotreply@amazon.com", "Your message could not be delivered",
         "because the buyer has chosen to opt out of receiving unsolicited messages", {}, MailClass.BUYER_OPT_OUT),
        ("auto-communication@amazon.com", "x", f'<a href="mailto:{US_ALIAS}">buyer</a>',
         {"X-Space-Notification-Type": "BUYER_OPTED_OUT_BSM_MESSAGES"}, MailClass.BUYER_OPT_OUT),
        ("no-reply@amazon.de", "Message not sent", "This message was not sent as it did not meet the guidelines.",
         {}, MailClass.DELIVERY_FAILURE),
        ("donotreply@amazon.com", "Return request for order 111-1234567-7654321", "x", {},
         MailClass.RETURN_REQUEST),
        ("atoz-guarantee-no-reply@amazon.com", "Claim", "x", {}, MailClass.A_TO_Z_CLAIM),
        ("donotreply@amazon.com", "x", "x", {"X-Space-Notification-Type": "A_Z_CLAIM_SOMETHING_NEW"},
         MailClass.A_TO_Z_CLAIM),
        ("donotreply@amazon.com", "x", "x", {"X-Space-Notification-Type": "BRC_SELLER_NOTIFICATION"},
         MailClass.OTHER_NOTICE),
        ("donotreply@amazon.com", "x", "x", {"X-Space-Notification-Type": "SOMETHING_NEW"}, MailClass.OTHER_NOTICE),
        ("fba-noreply@amazon.co.uk", "Shipment closed", "x", {}, MailClass.OTHER_NOTICE),
        ("MAILER-DAEMON@mx.example.com", "Undelivered Mail Returned to Sender", "x", {}, MailClass.MAILER_DAEMON),
        ("friend@example.com", "Hello", "------------- Begin message -------------\nhi", {}, MailClass.NOT_AMAZON),
        ("amazon@phishing.example", "Inquiry from Amazon customer", "x", {}, MailClass.NOT_AMAZON),
        ("x@amazon.com.evil.example", "x", "x", {}, MailClass.NOT_AMAZON),
    ],
)  # fmt: skip
def test_classification(
    sender: str, subject: str, body: str, headers: dict[str, str], expected: MailClass
) -> None:
    html = body.startswith("<")
    read = read_amazon_mail(mail(body, sender=sender, subject=subject, html=html, headers=headers))
    assert read.mail_class == expected


def test_opt_out_mailto_alias_is_the_failed_recipient_not_a_buyer_message() -> None:
    read = read_amazon_mail(corpus("de/05-opt-out-html-2026.eml"))
    assert read.mail_class == MailClass.BUYER_OPT_OUT
    assert read.failure is not None and read.failure.recipient == "stb6ssjkf7gpxz4@marketplace.amazon.de"
    assert read.failure.reason == "opted_out"


# --- delivery failures -----------------------------------------------------------------------------


def dsn(diagnostic: str, status: str = "5.0.0") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "In-Reply-To: <ignored-when-the-original-is-attached@x>\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {US_ALIAS}\r\nAction: failed\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        "--b\r\nContent-Type: message/rfc822\r\n\r\n"
        f"To: {US_ALIAS}\r\nSubject: Re: Inquiry (Order: 111-1234567-7654321)\r\nMessage-ID: <ours-1@x>\r\n\r\nhi\r\n"
        "--b--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("diagnostic", "status", "reason"),
    [
        ("550 5.7.1 Sender address not authorized", "5.7.1", "unauthorized_sender"),
        ("550 5.7.26 Unauthenticated email is not accepted due to DMARC policy", "5.7.26", "auth_failed"),
        ("550 5.7.1 SPF check failed", "5.7.1", "auth_failed"),
        ("550 5.1.1 User unknown", "5.1.1", "unknown_recipient"),
        ("554 Message content rejected", "5.6.0", "content_rejected"),
        ("451 try later, too many retries", "4.4.7", "unknown"),
    ],
)
def test_dsn_reasons(diagnostic: str, status: str, reason: str) -> None:
    read = read_amazon_mail(dsn(diagnostic, status))
    assert read.mail_class == MailClass.MAILER_DAEMON
    assert read.failure == FailureInfo(
        reason=reason,
        recipient=US_ALIAS,
        order_id="111-1234567-7654321",
        message_id="<ours-1@x>",
        subject="Re: Inquiry (Order: 111-1234567-7654321)",
        status=status,
        detail=f"smtp; {diagnostic}",
    )
    assert read.buyer_alias == US_ALIAS and read.order_id == "111-1234567-7654321"


def test_bounce_for_a_non_amazon_recipient_names_no_buyer() -> None:
    read = read_amazon_mail(dsn("550 5.1.1 User unknown").replace(US_ALIAS.encode(), b"someone@example.com"))
    assert read.failure is not None and read.failure.recipient == "someone@example.com"
    assert read.buyer_alias is None


def test_opt_out_notice_has_no_message_id_and_matches_by_order() -> None:
    read = read_amazon_mail(corpus("us/07-opt-out-notice-2017.eml"), "amz-us-atvpdkikx0der-a3th9s8bh6gogm@x")
    assert read.failure is not None
    assert (read.failure.order_id, read.failure.message_id, read.failure.reason) == (
        "112-4455667-7788990",
        None,
        "opted_out",
    )


# --- marketplace --------------------------------------------------------------------------------------


def test_marketplace_from_relay_domain_first() -> None:
    read = read_amazon_mail(mail(buyer_body("x")), DE_FORWARDING)
    assert (read.marketplace_id, read.marketplace_source) == ("ATVPDKIKX0DER", "relay_domain")
    assert "marketplace_mismatch" in read.flags  # the forwarding address says Germany


def test_marketplace_from_mp_parameter_then_forwarding_address() -> None:
    link = "http://www.amazon.fr/gp/communication-manager/report.html?msg=X&mp=A13V1IB3VIYZZH&v=1"
    copy = mail(f"Here is a copy of the e-mail that you sent to Ana.\n{link}", sender="donotreply@amazon.com")
    assert read_amazon_mail(copy, DE_FORWARDING).marketplace_source == "mp_param"
    assert read_amazon_mail(copy).marketplace_id == "A13V1IB3VIYZZH"
    plain = mail("Here is a copy of the e-mail that you sent to Ana.", sender="donotreply@amazon.com")
    assert read_amazon_mail(plain, DE_FORWARDING).marketplace_id == "A1PA6795UKMFR9"
    assert read_amazon_mail(plain, DE_FORWARDING).marketplace_source == "forwarding_address"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (DE_FORWARDING, "A1PA6795UKMFR9"),
        ("AMZ-DE-A1PA6795UKMFR9-A3TH9S8BH6GOGM@Deskbridge.Localhost", "A1PA6795UKMFR9"),
        ("amz-de-a1pa6795ukmfr9-a3th9s8bh6gogm-2@deskbridge.localhost", "A1PA6795UKMFR9"),
        ("amz-gb-a1f83g8c2aro7p-a3th9s8bh6gogm@deskbridge.localhost", "A1F83G8C2ARO7P"),
        ("amz-fr-a1pa6795ukmfr9-a3th9s8bh6gogm@deskbridge.localhost", None),  # country and id disagree
        ("amz-de-unknownid123-a3th9s8bh6gogm@deskbridge.localhost", None),
        ("support@deskbridge.localhost", None),  # edited by the seller
        ("", None),
    ],
)
def test_forwarding_address_is_used_only_when_it_parses(address: str, expected: str | None) -> None:
    read = read_amazon_mail(mail("x", sender="donotreply@amazon.com", subject="Notice"), address)
    assert read.marketplace_id == expected


def test_caller_can_name_the_forwarding_marketplace() -> None:
    raw = mail("x", sender="donotreply@amazon.com", subject="Notice")
    read = read_amazon_mail(raw, "support@shop.example", forwarding_marketplace_id="APJ6JRA9NG5V4")
    assert (read.marketplace_id, read.marketplace_source) == ("APJ6JRA9NG5V4", "forwarding_address")
    assert read_amazon_mail(raw, DE_FORWARDING, forwarding_marketplace_id="APJ6JRA9NG5V4").marketplace_id == (
        "APJ6JRA9NG5V4"
    )


def test_x_marketplace_id_header_names_the_marketplace() -> None:
    raw = mail(
        "x", sender="donotreply@amazon.com", subject="Notice", headers={"X-Marketplace-ID": "A1AM78C64UM0Y8"}
    )
    read = read_amazon_mail(raw)
    assert (read.marketplace_id, read.marketplace_source) == ("A1AM78C64UM0Y8", "header")


# --- identifiers, threading, dedupe ------------------------------------------------------------------


def test_alias_case_suffix_and_headers() -> None:
    raw = mail(
        buyer_body("x"),
        sender='"Jo - Amazon Marketplace" <SZ2Y5YWH1QG1VHX+133A066E@Marketplace.Amazon.com>',
        headers={"In-Reply-To": "<out-1@deskbridge>", "References": "<a@b> <out-1@deskbridge>"},
    )
    read = read_amazon_mail(raw)
    assert read.buyer_alias == "sz2y5ywh1qg1vhx+133a066e@marketplace.amazon.com"
    assert read.case_id == "133a066e"
    assert read.in_reply_to == "<out-1@deskbridge>"
    assert read.references == ("<a@b>", "<out-1@deskbridge>")
    assert read.message_id == "<m1@amazonses.example>"


def test_fingerprint_ignores_whitespace_and_case_but_not_the_buyer() -> None:
    first = read_amazon_mail(mail(buyer_body("Where is  my parcel?\nThanks")))
    again = read_amazon_mail(mail(buyer_body("where is my parcel? thanks")))
    other = read_amazon_mail(
        mail(buyer_body("Where is my parcel? Thanks"), sender="b@marketplace.amazon.com")
    )
    assert first.fingerprint() == again.fingerprint()
    assert first.fingerprint() != other.fingerprint()
    assert (
        read_amazon_mail(mail(buyer_body("Where is  my parcel?\nThanks"))).fingerprint()
        == first.fingerprint()
    )


# --- attachments, JSON -------------------------------------------------------------------------------


def test_attachments_metadata_and_payloads() -> None:
    raw = corpus("us/11-attachment-photo.eml")
    read = read_amazon_mail(raw)
    payloads = attachment_payloads(raw)
    assert [info for info, _ in payloads] == list(read.attachments)
    assert [info.filename for info in read.attachments] == ["lids.jpg", "packing-slip.pdf"]
    assert payloads[0][1].startswith(b"\xff\xd8") and payloads[1][1].startswith(b"%PDF")


def test_inline_image_with_content_id() -> None:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = US_ALIAS
    msg.set_content(buyer_body("See picture"))
    msg.add_related(b"\x89PNG\r\n", maintype="image", subtype="png", cid="<pic1@amazon>")
    read = read_amazon_mail(msg.as_bytes())
    assert read.attachments == (AttachmentInfo(None, "image/png", 6, "pic1@amazon"),)


def test_json_round_trip_with_every_kind_of_field() -> None:
    read = read_amazon_mail(dsn("550 5.7.1 not authorized", "5.7.1"))
    data = json.loads(json.dumps(read.to_json()))
    assert AmazonMail.from_json(data) == read
    assert data["failure"]["reason"] == "unauthorized_sender"
    with_attachments = read_amazon_mail(corpus("us/11-attachment-photo.eml"))
    assert AmazonMail.from_json(json.loads(json.dumps(with_attachments.to_json()))) == with_attachments


def test_from_json_ignores_unknown_keys_and_fills_missing_ones() -> None:
    read = AmazonMail.from_json({"mail_class": "buyer_message", "text": "hi", "added_later": 1})
    assert read == AmazonMail(MailClass.BUYER_MESSAGE, text="hi")


# --- never raises ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff" * 100,
        b"From:\r\n\r\n",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary",
        b'Content-Type: text/plain; charset="nonsense"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!',
        b"Subject: =?utf-8?b?broken\r\n\r\n",
        b"From: " + b"<" * 1000 + b"\r\n\r\n",
    ],
)
def test_odd_inputs(raw: bytes) -> None:
    read = read_amazon_mail(raw)
    assert isinstance(read.mail_class, MailClass)


def test_an_unexpected_error_still_returns_the_mail_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> AmazonMail:
        raise RuntimeError("bug")

    monkeypatch.setattr(reader_module, "_read", broken)
    read = read_amazon_mail(mail(buyer_body("Help")))
    assert read.mail_class == MailClass.BUYER_MESSAGE
    assert read.buyer_alias == US_ALIAS
    assert "Help" in read.text
    assert read.flags == ("parser_error", "unparsed")


# --- the sandbox Amazon's mail reads as it was written ---------------------------------------------


@pytest.mark.parametrize(
    ("language", "country"),
    [("en", "US"), ("de", "DE"), ("fr", "FR"), ("it", "IT"), ("es", "MX"), ("ja", "JP"), ("pt", "BR")],
)
def test_sandbox_buyer_messages_read_back(language: str, country: str) -> None:
    from deskbridge.amazon.marketplaces import by_country
    from deskbridge.sandbox.amazon.mail import compose_buyer_message

    marketplace = by_country(country)
    assert marketplace is not None
    composed = compose_buyer_message(
        to="amz@deskbridge.localhost",
        marketplace=marketplace,
        seller_id="A3TH9S8BH6GOGM",
        order_id="111-1234567-7654321",
        text="Où est mon colis ?\nMerci",
        language=language,
        name="Ana",
    )
    read = read_amazon_mail(composed.as_bytes())
    assert read.mail_class == MailClass.BUYER_MESSAGE
    assert (read.order_id, read.buyer_name, read.language) == ("111-1234567-7654321", "Ana", language)
    assert (read.marketplace_id, read.marketplace_source) == (marketplace.id, "relay_domain")
    assert read.text == "Où est mon colis ?\nMerci"
    assert read.flags == ()
    assert read.commmgr_token is not None


# --- helpers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fixed", "changed"),
    [
        ("DÃ©but du message", "Début du message", True),
        ("Itâ€™s broken", "It’s broken", True),  # UTF-8 read as Windows-1252
        ("DÃƒÂ©but", "Début", True),  # decoded twice
        ("Größe, naïve, São Paulo, Ärger, ½", "Größe, naïve, São Paulo, Ärger, ½", False),
        ("日本語のテキスト", "日本語のテキスト", False),
    ],
)
def test_repair_mojibake(text: str, fixed: str, changed: bool) -> None:
    assert repair_mojibake(text) == (fixed, changed)


def test_extract_message_reports_where_the_template_header_ends() -> None:
    body = buyer_body("Hi")
    extraction = extract_message(body)
    assert extraction.text == "Hi"
    assert extraction.header_end == body.index("-------------")
