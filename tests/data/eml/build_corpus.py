"""Writes the Amazon mail corpus (NN-name.eml + NN-name.expected.json) from the specs below.

Run once by hand (`.venv/bin/python tests/data/eml/build_corpus.py`) when a fixture is added; the
tests read the written files, never this script. Every expected value here is written by hand from the
reference (amazon.md §12/§15, email-samples/), never copied from the parser's output.

Each .eml names its sources in an `X-Deskbridge-Fixture:` header and says whether it is real text
(from the samples, PII-redacted there) or synthetic (composed from the markers, footers and subjects
the reference documents).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email import policy
from email.header import Header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[3] / "shared" / "reference" / "email-samples"
SELLER = "a3th9s8bh6gogm"
INBOUND = "deskbridge.localhost"

MP = {
    "us": ("ATVPDKIKX0DER", "com"),
    "ca": ("A2EUQ1WTGCTBG2", "ca"),
    "mx": ("A1AM78C64UM0Y8", "com.mx"),
    "br": ("A2Q3Y263D00KWC", "com.br"),
    "uk": ("A1F83G8C2ARO7P", "co.uk"),
    "de": ("A1PA6795UKMFR9", "de"),
    "fr": ("A13V1IB3VIYZZH", "fr"),
    "it": ("APJ6JRA9NG5V4", "it"),
    "es": ("A1RKKUPIHCS9HS", "es"),
    "jp": ("A1VC38T7YXB528", "co.jp"),
    "au": ("A39IBJ37TRP1C6", "com.au"),
    "in": ("A21TJRUUN4KGV", "in"),
    "nl": ("A1805IZSGTT6HS", "nl"),
    "se": ("A2NODRKZP88ZB9", "se"),
}


def encoded(text: str, charset: str = "utf-8") -> str:
    return Header(text, charset).encode()


def forwarding(cc: str) -> str:
    return f"amz-{cc}-{MP[cc][0].lower()}-{SELLER}@{INBOUND}"


def sample_body(name: str) -> str:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    return text.split("below this line ----\n", 1)[1]


@dataclass
class Fixture:
    cc: str
    name: str
    fixture: str  # the X-Deskbridge-Fixture header: sources, real or synthetic
    headers: list[tuple[str, str]]
    expect: dict[str, Any]
    plain: str | None = None
    html: str | None = None
    cte: str = "quoted-printable"
    charset: str = "utf-8"
    attachments: list[tuple[str, str, bytes, str | None]] = field(default_factory=list)
    raw: bytes | None = None  # written as is (for 8-bit headers, broken MIME, reports)
    forwarding_address: str | None = "default"

    def message(self) -> bytes:
        if self.raw is not None:
            return self.raw
        msg = EmailMessage(policy=policy.SMTP)
        verbatim: dict[str, str] = {}
        for key, value in self.headers:
            if "=?" in value:  # RFC 2047 words written by hand stay as written (the policy would re-encode)
                placeholder = f"VERBATIM{len(verbatim)}X"
                verbatim[placeholder] = value.split(" <")[0]
                value = value.replace(verbatim[placeholder], placeholder)
            msg[key] = value
        msg["X-Deskbridge-Fixture"] = self.fixture
        if self.plain is not None and self.html is not None:
            msg.set_content(self.plain, charset=self.charset, cte=self.cte)
            msg.add_alternative(self.html, subtype="html", charset=self.charset, cte=self.cte)
        elif self.html is not None:
            msg.set_content(self.html, subtype="html", charset=self.charset, cte=self.cte)
        else:
            msg.set_content(self.plain or "", charset=self.charset, cte=self.cte)
        for filename, ctype, data, cid in self.attachments:
            maintype, subtype = ctype.split("/")
            if msg.get_content_type() != "multipart/mixed":
                msg.make_mixed()
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
            if cid:
                msg.get_payload()[-1]["Content-ID"] = f"<{cid}>"
        for index, part in enumerate(p for p in msg.walk() if p.is_multipart()):
            part.set_boundary(f"=_deskbridge_{self.name}_{index}")  # stable files across rebuilds
        data = msg.as_bytes()
        for placeholder, value in verbatim.items():
            data = data.replace(
                placeholder.encode(), value.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii")
            )
        return data


def amazon_headers(
    *,
    sender: str,
    to: str,
    subject: str,
    date: str,
    msgid: str,
    notification: str | None = None,
    marketplace: str | None = None,
) -> list[tuple[str, str]]:
    headers = [
        ("Return-Path", "<0100019a-bounces@amazonses.com>"),
        ("Received", f"from a48-93.smtp-out.amazonses.com (a48-93.smtp-out.amazonses.com [54.240.48.93]) by mx.{INBOUND}; {date}"),
        ("Date", date),
        ("From", sender),
        ("To", to),
        ("Message-ID", msgid),
        ("Subject", subject),
    ]  # fmt: skip
    if notification:
        headers.append(("X-Space-Notification-Type", notification))
    if marketplace:
        headers.append(("X-Marketplace-ID", marketplace))
    return headers


# --- footers, composed from the fragments in email-samples/08 (completed where "..." stood) ------

EN_FOOTER_2016 = (
    "For Your Information: To help arbitrate disputes and preserve trust and safety, we retain all messages "
    "buyers and sellers send through Amazon.com for two years.  This includes your response to the message "
    "above.  Amazon.com uses filtering technology to protect buyers and sellers from possible fraud.  Messages "
    "that fail this filtering will not be transmitted.\n\n"
    "We want you to buy with confidence anytime you purchase products on Amazon.com. Learn more about Safe "
    "Online Shopping (http://www.amazon.com/gp/help/customer/display.html?nodeId=551434) and our safe buying "
    "guarantee (http://www.amazon.com/gp/help/customer/display.html?nodeId=537868).\n\n"
)


def en_links_2016(tld: str, mp: str, token: str, epoch: str, sig: str) -> str:
    return (
        f"If you believe this message is suspicious, please report it to us here: http://www.amazon.{tld}/gp/"
        f"communication-manager/report.html?ft=InappropriateContent&msg={token}&d={epoch}&mp={mp}&v=1&t={sig}\n\n"
        f"To mark this message as no response needed, click here: http://www.amazon.{tld}/gp/communication-"
        f"manager/no-response-needed.html?msg={token}&d={epoch}&mp={mp}&v=1&t={sig}\n\n\n\n"
        f"[commMgrTok:{token}]\n"
    )


def footer_2026(tld: str, case: str, helpful: str, resolve: str, report: str) -> str:
    return (
        f"{helpful}\n\n"
        f"{resolve}: https://sellercentral.amazon.{tld}/messaging/no-response-needed?t=eyJjIjoi{case}IiwidiI6MX0&h=9c1f0a7d42\n"
        f"{report}: https://sellercentral.amazon.{tld}/messaging/inbox?fi=caseId&ss={case}&cc={case}\n"
    )  # fmt: skip


DE_FOOTER = (
    "Wichtiger Hinweis: Zum Schutz unserer Käufer und Verkäufer bewahren wir alle Nachrichten, die über "
    "Amazon.de gesendet werden, zwei Jahre lang auf. Mit dem Senden einer Antwort erklären Sie sich mit "
    "diesem Vorgehen einverstanden.\n\n"
    "Wir möchten, dass Sie stets mit Vertrauen einkaufen, wenn Sie Artikel auf Amazon.de kaufen. Erfahren "
    "Sie mehr über sicheres Einkaufen (https://www.amazon.de/gp/help/customer/display.html?nodeId=201909010"
    ") und unsere Garantie für den sicheren Einkauf.\n\n"
    "Wenn Sie glauben, dass diese Nachricht ein Betrugsversuch sein könnte, melden Sie sie uns bitte.\n\n"
    "Um anzugeben, dass für diese Nachricht keine Antwort erforderlich ist, klicken Sie hier: "
    "https://sellercentral.amazon.de/messaging/no-response-needed?t=eyJjIjoiZGUifQ&h=4e2b9a\n"
)
FR_FOOTER = (
    "Important : Afin de protéger nos clients et nos vendeurs, nous conservons pendant deux ans les messages "
    "échangés via Amazon.fr. En répondant, vous acceptez ces conditions.\n\n"
    "Faites vos achats sur Amazon.fr en toute confiance. En savoir plus sur l’achat en ligne sécurisé "
    "(https://www.amazon.fr/gp/help/customer/display.html?nodeId=201909010) et sur notre garantie d’achat "
    "sécurisé https://www.amazon.fr/gp/help/customer/display.html?nodeId=201910170\n\n"
    "Si vous trouvez ce message suspicieux, merci de nous le faire savoir ici : "
    "http://www.amazon.fr/gp/communication-manager/report.html?ft=InappropriateContent&msg=FR7Q2W9E4R1T6&"
    "d=1772533920&mp=A13V1IB3VIYZZH&v=1&t=5d0c2b7a9e\n\n"
    "Pour marquer ce message comme ne nécessitant pas de réponse, cliquez ici : "
    "http://www.amazon.fr/gp/communication-manager/no-response-needed.html?msg=FR7Q2W9E4R1T6&d=1772533920&"
    "mp=A13V1IB3VIYZZH&v=1&t=5d0c2b7a9e\n\n[commMgrTok:FR7Q2W9E4R1T6]\n"
)
ES_FOOTER = (
    "Nota informativa: Para ayudar a resolver disputas, conservamos durante dos años todos los mensajes que "
    "compradores y vendedores se envían a través de Amazon.es, que utiliza tecnología de filtrado; los "
    "mensajes que no superen dicho filtro.\n\n"
    "Cada vez que realices una compra en Amazon.es, hazlo con total confianza (más información sobre la "
    "compra segura).\n\n"
    "Si desconfías del contenido de este mensaje, notifícanoslo.\n\n"
    "Para marcar este mensaje e indicar que no requiere respuesta, haz clic aquí: "
    "https://sellercentral.amazon.es/messaging/no-response-needed?t=eyJlcyI6MX0&h=71aa02\n"
)
IT_FOOTER = (
    "Nota informativa: Per tutelare acquirenti e venditori, conserviamo per due anni i messaggi scambiati "
    "tramite Amazon.it. I messaggi che non superano il filtro non saranno trasmessi.\n\n"
    "La sicurezza dei tuoi acquisti su Amazon.it è il nostro primo obiettivo. Per maggiori informazioni su "
    "come acquistare in modo sicuro, visita la pagina di aiuto.\n\n"
    "Se questo messaggio ti sembra sospetto, ti preghiamo di segnalarcelo qui.\n\n"
    "Per contrassegnare che questo messaggio non richiede una risposta, clicca qui: "
    "https://sellercentral.amazon.it/messaging/no-response-needed?t=eyJpdCI6MX0&h=0be4c1\n\n"
    "Copyright 2026 Amazon EU S.à r.l. SPC-EU\n"
)


PDF = b"%PDF-1.4\n%synthetic\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fixtures() -> list[Fixture]:
    out: list[Fixture] = []
    add = out.append

    # ---------------------------------------------------------------------------------------- US
    us_alias = "th6wqr1vf6dr43f@marketplace.amazon.com"
    add(Fixture(
        "us", "01-buyer-reply-quoting-seller-2016",
        "REAL body: email-samples/02 (2016, PII-redacted there), verbatim, HTML-only as published; "
        "headers SYNTHETIC (alias from email-samples/06, subject from 05 as the buyer replied)",
        amazon_headers(sender=f'"Jane - Amazon Marketplace" <{us_alias}>', to=forwarding("us"),
                       subject="RE: Exchange request for order (Order: 102-5239268-9612243)",
                       date="Tue, 06 Sep 2016 09:30:14 -0700",
                       msgid="<01000157003c6f2b-6a1a9d2e-7d51-4f0b-9d6e-0b6a1c1f8a2e-000000@email.amazonses.com>"),
        html=sample_body("02-en-US-buyer-reply-quoting-seller-2016.html.txt"),
        expect={
            "mail_class": "buyer_message", "order_id": "102-5239268-9612243", "buyer_alias": us_alias,
            "buyer_name": "Jane", "topic": "Exchange request for order",
            "marketplace_id": "ATVPDKIKX0DER", "marketplace_source": "relay_domain", "language": "en",
            "text": "Yes please, I'd like to exchange it for the 14/16.",
            "asin": "B01FCAWEYM", "quantity": 1,
            "product_title": "Girls' Velvet Plush Cozy Robe in Variety Colors, Owls, Size 7/8",
            "commmgr_token": "AF9E104T7W2Q2",
            "no_response_url": "http://www.amazon.com/gp/communication-manager/no-response-needed.html?msg="
                               "AF9E104T7W2Q2&d=1473167414&mp=ATVPDKIKX0DER&v=1&t=9361b955ebcbc8373fb5e6f93235a69c0f20364f",
            "flags": ["html_only", "quoted_history_removed"],
        },
    ))  # fmt: skip

    add(Fixture(
        "us", "02-ship-faster-older-template",
        "SYNTHETIC body in the older layout of email-samples/02 and 07 (Order ID/1 of/13-dash markers, "
        "2016 footer and links); subject REAL from email-samples/05 (name redacted there)",
        amazon_headers(sender='"John - Amazon Marketplace" <stb6ssjkf7gpxzq@marketplace.amazon.com>',
                       to=forwarding("us"),
                       subject="Ship faster inquiry from Amazon customer John Q. Public (Order: 111-7366207-0755439)",
                       date="Mon, 12 Sep 2016 14:02:51 +0000",
                       msgid="<0100015721a0c3d4-1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9-000000@email.amazonses.com>"),
        plain=(
            "Order ID 111-7366207-0755439:\n"
            "1 of Stainless Steel Insulated Water Bottle, 32 oz, Wide Mouth [ASIN: B01N0CZ2BR]\n\n"
            "------------- Begin message -------------\n\n"
            "Hi, I need this by Friday for my son's birthday.\nIs there any way to upgrade the shipping?\n\n"
            "------------- End message -------------\n\n" + EN_FOOTER_2016 +
            en_links_2016("com", "ATVPDKIKX0DER", "A2K8QJ3ZC1XW7P", "1473688971", "0f6ad1e2b3c4d5e6f708192a3b4c5d6e7f809112")
        ),
        cte="7bit",
        expect={
            "mail_class": "buyer_message", "order_id": "111-7366207-0755439",
            "buyer_alias": "stb6ssjkf7gpxzq@marketplace.amazon.com", "buyer_name": "John",
            "topic": "Ship faster inquiry from Amazon customer", "language": "en",
            "marketplace_id": "ATVPDKIKX0DER", "marketplace_source": "relay_domain",
            "text": "Hi, I need this by Friday for my son's birthday.\nIs there any way to upgrade the shipping?",
            "asin": "B01N0CZ2BR", "quantity": 1,
            "product_title": "Stainless Steel Insulated Water Bottle, 32 oz, Wide Mouth",
            "commmgr_token": "A2K8QJ3ZC1XW7P", "case_id": None, "flags": [],
        },
    ))  # fmt: skip

    plus_alias = "sz2y5ywh1qg1vhx+133a066e@marketplace.amazon.com"
    body03 = (
        "# 111-3958185-1645065:\n"
        "1 / Bamboo Cutting Board Set of 3 with Juice Groove [ASIN: B07QH4W1GC]\n\n"
        "------------- Message: -------------\n\n"
        "Hello, is the large board thick enough to use as a serving tray? About how heavy is it?\n"
        "Thanks!\n\n"
        "------------- End message -------------\n\n"
        + footer_2026(
            "com", "133a066e", "Was this email helpful?", "Resolve case", "Report questionable activity"
        )
    )
    add(Fixture(
        "us", "03-product-details-case-suffix",
        "SYNTHETIC body in the newer layout (email-samples/07, 09: '# <order>:', '1 / title', 'Message:'), "
        "2026 footer words and links from 08; alias with +case suffix REAL shape from 06; subject REAL-looking from 05",
        amazon_headers(sender=f'"Cherri - Amazon Marketplace" <{plus_alias}>', to=forwarding("us"),
                       subject="Product details inquiry from Amazon customer Cherri (Order: 111-3958185-1645065)",
                       date="Thu, 15 Oct 2026 18:21:07 +0000",
                       msgid="<0100019a2f3e4d5c-77e0a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=body03,
        html="<html><body><p>" + body03.replace("\n", "<br>\n") + "</p></body></html>",
        expect={
            "mail_class": "buyer_message", "notification_type": "BBC_MESSAGE_SENT_TO_MERCHANT",
            "order_id": "111-3958185-1645065", "buyer_alias": plus_alias, "case_id": "133a066e",
            "buyer_name": "Cherri", "topic": "Product details inquiry from Amazon customer",
            "marketplace_id": "ATVPDKIKX0DER", "marketplace_source": "relay_domain", "language": "en",
            "text": "Hello, is the large board thick enough to use as a serving tray? About how heavy is it?\nThanks!",
            "asin": "B07QH4W1GC", "quantity": 1, "product_title": "Bamboo Cutting Board Set of 3 with Juice Groove",
            "no_response_url": "https://sellercentral.amazon.com/messaging/no-response-needed?t=eyJjIjoi133a066eIiwidiI6MX0&h=9c1f0a7d42",
            "attachments": [], "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "us", "04-empty-name-order-delivery",
        "SYNTHETIC body (newer layout, 07/09); subject REAL from email-samples/05 (empty name, double space)",
        amazon_headers(sender='" - Amazon Marketplace" <q7m2x9c4v1b8n3k@marketplace.amazon.com>', to=forwarding("us"),
                       subject="Order delivery inquiry from Amazon customer  (Order: 114-5652017-6650426)",
                       date="Fri, 16 Oct 2026 07:45:00 +0000",
                       msgid="<0100019a30aa11bb-22cc33dd-44ee-4f55-8066-778899aabbcc-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 114-5652017-6650426:\n1 / LED Desk Lamp with Wireless Charger [ASIN: B0C1LMP7QZ]\n\n"
            "------------- Message: -------------\n\nTracking says delivered but nothing is here.\n\n"
            "------------- End message -------------\n\nWas this email helpful?\n"
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "114-5652017-6650426", "buyer_name": None,
            "topic": "Order delivery inquiry from Amazon customer",
            "subject": "Order delivery inquiry from Amazon customer  (Order: 114-5652017-6650426)",
            "text": "Tracking says delivered but nothing is here.", "language": "en",
            "marketplace_id": "ATVPDKIKX0DER", "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "us", "05-glued-name-no-end-marker",
        "SYNTHETIC body (newer layout) with the END MARKER LEFT OUT to test the footer fallback (07); subject "
        "from email-samples/05 (name glued to '(Order'; the published id was truncated, completed here)",
        amazon_headers(sender='"Sakina - Amazon Marketplace" <w3e4r5t6y7u8i9o@marketplace.amazon.com>',
                       to=forwarding("us"),
                       subject="Return policy inquiry from Amazon customer Sakina(Order: 111-1537220-5238651)",
                       date="Sat, 17 Oct 2026 11:00:00 +0000",
                       msgid="<0100019a35bb22cc-33dd44ee-55ff-4066-9177-8899aabbccdd-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 111-1537220-5238651:\n1 / Women's Rain Jacket, Navy, M [ASIN: B09RJK2L8M]\n\n"
            "------------- Message: -------------\n\nCan I return it if I already removed the tags?\n\n"
            + footer_2026("com", "5a1f33c0", "Was this email helpful?", "Resolve case", "Report questionable activity")
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "111-1537220-5238651", "buyer_name": "Sakina",
            "topic": "Return policy inquiry from Amazon customer",
            "text": "Can I return it if I already removed the tags?", "case_id": "5a1f33c0",
            "flags": ["no_end_marker"], "language": "en",
        },
    ))  # fmt: skip

    add(Fixture(
        "us", "06-seller-copy-zh-locale-2020",
        "REAL body: email-samples/03 (2020, PII-redacted there), verbatim; headers SYNTHETIC "
        "(sender from 06; the copy's subject is not in the samples, an English analogue of 'Seu e-mail para' is used)",
        amazon_headers(sender="Amazon Seller Central <donotreply@amazon.com>", to=f"support@{INBOUND}",
                       subject="Your e-mail to John Doe-Roe", date="Fri, 14 Aug 2020 16:12:44 +0000",
                       msgid="<01000173ee5f8a9b-0c1d2e3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5-000000@email.amazonses.com>"),
        plain=sample_body("03-en-US-seller-reply-copy-zh-locale-2020.txt"), cte="base64",
        forwarding_address=f"support@{INBOUND}",
        expect={
            "mail_class": "seller_copy", "order_id": "114-2960162-5573021", "buyer_name": "John Doe-Roe",
            "buyer_alias": None, "marketplace_id": None, "marketplace_source": None, "language": "en",
            "asin": "B07KZMTTD2", "quantity": 1,
            "product_title": "Milk Frother - VIVREAL 3-in-1 Electric Milk Steamer Foam Maker for Latte, Cappuccino, "
                             "Hot Chocolate, Macchiato, Automatic Milk Frother and Heater w/Ho",
            "text": "Dear customer,\nWe would like to arrange a replacemnet for you.\nThe package will be send to\n"
                    "John Doe-Roe\n123 EXAMPLE ST\nANYTOWN, FL 00000-0000\nPlease check if it's the right address.\n"
                    "Thanks for choosing our product.\nBest regards,\nCustomer Service Team",
            "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "us", "07-opt-out-notice-2017",
        "SYNTHETIC notice paraphrasing the 2017 opt-out email described in amazon.md §12.12 "
        "(order id in square brackets, no Message-ID of the blocked mail); headers SYNTHETIC",
        amazon_headers(sender="Amazon <donotreply@amazon.com>", to=forwarding("us"),
                       subject="Your message could not be delivered", date="Thu, 30 Mar 2017 09:14:00 -0700",
                       msgid="<0100015b1f2e3d4c-5b6a7988-a7b6-4c5d-9e8f-00112233aabb-000000@email.amazonses.com>"),
        plain=(
            "Dear Seller,\n\n"
            "We were unable to deliver the message you sent for order [112-4455667-7788990] because the buyer "
            "has chosen to opt out of receiving unsolicited messages from sellers.\n\n"
            "If your message is critical to completing the order, send it from Buyer-Seller Messaging and select "
            "\"Additional Information Required\". If you were replying to the buyer, please reply on the buyer's "
            "original message thread and include the buyer's original message.\n\nSincerely,\nAmazon Services\n"
        ),
        expect={
            "mail_class": "buyer_opt_out", "order_id": "112-4455667-7788990", "buyer_alias": None,
            "marketplace_id": "ATVPDKIKX0DER", "marketplace_source": "forwarding_address",
            "failure": {"reason": "opted_out", "recipient": None, "order_id": "112-4455667-7788990",
                        "message_id": None, "subject": None, "status": None,
                        "detail": "We were unable to deliver the message you sent for order [112-4455667-7788990] "
                                  "because the buyer has chosen to opt out of receiving unsolicited messages from sellers."},
        },
    ))  # fmt: skip

    out.append(_dsn_us())

    add(Fixture(
        "us", "09-pre-sale-question",
        "SYNTHETIC pre-sale message (newer layout without an order line, amazon.md §12.4: pre-sale questions "
        "have no order id); subject and lower-case name REAL-looking from email-samples/05",
        amazon_headers(sender='"carol - Amazon Marketplace" <p0o9i8u7y6t5r4e@marketplace.amazon.com>',
                       to=forwarding("us"), subject="Product details inquiry from Amazon customer carol",
                       date="Sun, 18 Oct 2026 20:10:00 +0000",
                       msgid="<0100019a3c0d1e2f-3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "Ceramic Pour Over Coffee Dripper, White [ASIN: B08TDW5XKZ]\n\n"
            "------------- Message: -------------\n\nDoes it fit a standard #2 filter?\n\n"
            "------------- End message -------------\n\nWas this email helpful?\n"
        ),
        expect={
            "mail_class": "buyer_message", "order_id": None, "buyer_name": "carol",
            "topic": "Product details inquiry from Amazon customer", "asin": "B08TDW5XKZ", "quantity": None,
            "product_title": "Ceramic Pour Over Coffee Dripper, White",
            "text": "Does it fit a standard #2 filter?", "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "us", "10-not-amazon-supplier",
        "SYNTHETIC: a supplier's mail that reached the forwarding address (not from Amazon)",
        [("Date", "Mon, 19 Oct 2026 08:00:00 +0200"), ("From", "Orders <orders@supplier.example>"),
         ("To", forwarding("us")), ("Message-ID", "<20261019080000.4711@supplier.example>"),
         ("Subject", "Your purchase order PO-2210 has shipped")],
        plain="Hello,\n\nPO-2210 left our warehouse today.\n\nRegards,\nSupplier Ltd\n",
        expect={
            "mail_class": "not_amazon", "sender": "orders@supplier.example", "order_id": None,
            "buyer_alias": None, "marketplace_source": "forwarding_address",
            "text": "Hello,\n\nPO-2210 left our warehouse today.\n\nRegards,\nSupplier Ltd", "flags": [],
        },
    ))  # fmt: skip

    jpeg = (
        bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300")
        + b"\x08" * 64
        + bytes.fromhex("ffd9")
    )
    add(Fixture(
        "us", "11-attachment-photo",
        "SYNTHETIC buyer message (newer layout) with a photo and a PDF attached as ordinary MIME parts "
        "(amazon.md §12.11)",
        amazon_headers(sender='"Dana - Amazon Marketplace" <k1j2h3g4f5d6s7a@marketplace.amazon.com>',
                       to=forwarding("us"),
                       subject="Inquiry from Amazon customer Dana (Order: 113-0273723-9215468)",
                       date="Tue, 20 Oct 2026 13:37:00 +0000",
                       msgid="<0100019a45e6f708-192a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 113-0273723-9215468:\n2 / Glass Food Storage Containers, 10 Pack [ASIN: B07R8F3M4N]\n\n"
            "------------- Message: -------------\n\nTwo lids arrived cracked, photo attached.\n\n"
            "------------- End message -------------\n\nWas this email helpful?\n"
        ),
        attachments=[("lids.jpg", "image/jpeg", jpeg, None),
                     ("packing-slip.pdf", "application/pdf", PDF, None)],
        expect={
            "mail_class": "buyer_message", "order_id": "113-0273723-9215468", "quantity": 2,
            "text": "Two lids arrived cracked, photo attached.", "buyer_name": "Dana",
            "attachments": [
                {"filename": "lids.jpg", "content_type": "image/jpeg", "size": len(jpeg), "content_id": None},
                {"filename": "packing-slip.pdf", "content_type": "application/pdf", "size": len(PDF), "content_id": None},
            ],
            "topic": "Inquiry from Amazon customer", "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "us", "12-delivery-failure-restricted",
        "SYNTHETIC Amazon notice built around the refusal text quoted by a third-party tool "
        "('restricted from sending proactive messages', amazon.md §12.12/§14); quoted original headers SYNTHETIC",
        amazon_headers(sender="Amazon Seller Notifications <donotreply@amazon.com>", to=forwarding("us"),
                       subject="Message not delivered: Order 113-9988776-6554433",
                       date="Wed, 21 Oct 2026 10:05:00 +0000",
                       msgid="<0100019a4b1c2d3e-4f5a6b7c-8d9e-4fa0-b1c2-d3e4f5a6b7c8-000000@email.amazonses.com>"),
        plain=(
            "Hello,\n\nThis message was not delivered because your account was restricted from sending proactive "
            "messages.\n\nOriginal message:\nTo: n4b5v6c7x8z9l0k@marketplace.amazon.com\n"
            "Subject: Your order is on its way (Order: 113-9988776-6554433)\n"
            "Message-ID: <out-7f3a9c@deskbridge.localhost>\n"
        ),
        expect={
            "mail_class": "delivery_failure", "order_id": "113-9988776-6554433",
            "buyer_alias": "n4b5v6c7x8z9l0k@marketplace.amazon.com", "marketplace_source": "relay_domain",
            "failure": {"reason": "account_restricted", "recipient": "n4b5v6c7x8z9l0k@marketplace.amazon.com",
                        "order_id": "113-9988776-6554433", "message_id": "<out-7f3a9c@deskbridge.localhost>",
                        "subject": "Your order is on its way (Order: 113-9988776-6554433)", "status": None,
                        "detail": "This message was not delivered because your account was restricted from "
                                  "sending proactive messages."},
        },
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- UK
    add(Fixture(
        "uk", "01-inquiry-older-template",
        "SYNTHETIC body in the older layout (07) with the en-GB footer fragments of 08 completed; relay domain "
        "REAL (API BuyerEmail, amazon.md §4)",
        amazon_headers(sender='"Josh - Amazon Marketplace" <m9n8b7v6c5x4z3l@marketplace.amazon.co.uk>',
                       to=forwarding("uk"), subject="Inquiry from Amazon customer Josh (Order: 202-1234567-7654321)",
                       date="Wed, 14 Oct 2026 09:12:00 +0100",
                       msgid="<0100019a2a1b2c3d-4e5f6a7b-8c9d-4eaf-b0c1-d2e3f4a5b6c7-000000@eu-west-1.amazonses.com>"),
        plain=(
            "Order ID 202-1234567-7654321:\n1 of Kettle, 1.7 L, Brushed Steel [ASIN: B00KQ1XR6S]\n\n"
            "------------- Begin message -------------\n\nThe lid does not click shut. Can you send a new one?\n\n"
            "------------- End message -------------\n\n"
            "For Your Information: To help arbitrate disputes, we retain all messages sent through Amazon.co.uk. "
            "By replying you agree to using this method.\n\n"
            "Important: Amazon.co.uk will never ask you for card transactions.\n\n"
            "We want you to buy with confidence whenever you purchase products on Amazon.co.uk. Learn more about "
            "Safe Online Shopping.\n\n"
            + en_links_2016("co.uk", "A1F83G8C2ARO7P", "UK3X9C2V7B1N", "1760429520", "aa55cc77ee99")
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "202-1234567-7654321", "buyer_name": "Josh",
            "marketplace_id": "A1F83G8C2ARO7P", "marketplace_source": "relay_domain", "language": "en",
            "text": "The lid does not click shut. Can you send a new one?", "asin": "B00KQ1XR6S",
            "commmgr_token": "UK3X9C2V7B1N", "topic": "Inquiry from Amazon customer", "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "uk", "02-delivery-failure-guidelines",
        "SYNTHETIC Amazon notice around the refusal text reported by a third-party tool (amazon.md §12.12: "
        "'This message was not sent as it did not meet the Buyer-Seller Messaging communication guidelines.')",
        amazon_headers(sender="Amazon.co.uk <donotreply@amazon.co.uk>", to=forwarding("uk"),
                       subject="Message not sent", date="Thu, 15 Oct 2026 12:00:00 +0100",
                       msgid="<0100019a2f000001-aaaabbbb-cccc-4ddd-8eee-ffff00001111-000000@eu-west-1.amazonses.com>"),
        plain=(
            "This message was not sent as it did not meet the Buyer-Seller Messaging communication guidelines.\n\n"
            "-----Original Message-----\nFrom: Kitchen Corner <support@kitchencorner.example>\n"
            "To: m9n8b7v6c5x4z3l@marketplace.amazon.co.uk\n"
            "Subject: Re: Inquiry from Amazon customer Josh (Order: 202-1234567-7654321)\n"
            "Message-ID: <reply-0003.9f8e7d@deskbridge.localhost>\n\nPlease visit our website for 10% off.\n"
        ),
        expect={
            "mail_class": "delivery_failure", "order_id": "202-1234567-7654321",
            "buyer_alias": "m9n8b7v6c5x4z3l@marketplace.amazon.co.uk",
            "marketplace_id": "A1F83G8C2ARO7P", "marketplace_source": "relay_domain",
            "failure": {"reason": "content_rejected", "recipient": "m9n8b7v6c5x4z3l@marketplace.amazon.co.uk",
                        "order_id": "202-1234567-7654321", "message_id": "<reply-0003.9f8e7d@deskbridge.localhost>",
                        "subject": "Re: Inquiry from Amazon customer Josh (Order: 202-1234567-7654321)",
                        "status": None,
                        "detail": "This message was not sent as it did not meet the Buyer-Seller Messaging "
                                  "communication guidelines."},
        },
    ))  # fmt: skip

    add(Fixture(
        "uk", "03-fba-inventory-notice",
        "SYNTHETIC: an FBA notice from a system sender listed in email-samples/06 (fba-noreply@)",
        amazon_headers(sender="Amazon Fulfilment <fba-noreply@amazon.co.uk>", to=forwarding("uk"),
                       subject="Inbound shipment FBA17XYZ123 closed", date="Fri, 16 Oct 2026 06:00:00 +0100",
                       msgid="<0100019a31000002-bbbbcccc-dddd-4eee-8fff-000011112222-000000@eu-west-1.amazonses.com>"),
        plain="Hello,\n\nYour inbound shipment FBA17XYZ123 has been closed. 48 units were received.\n",
        expect={
            "mail_class": "other_notice", "order_id": None, "marketplace_source": "forwarding_address",
            "marketplace_id": "A1F83G8C2ARO7P",
            "text": "Hello,\n\nYour inbound shipment FBA17XYZ123 has been closed. 48 units were received.",
        },
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- DE
    fixture09 = (
        "# 302-0000002-0000002:\n1 / Organisches Kuehlgas Ralerfresh RS [ASIN: B0FIXTURE2]\n\n"
        "------------- Message: -------------\n\nGuten Tag\nIn diesem Fall bitten wir um Nachlieferung.\n"
        "Bitte teilen Sie uns dann die Sendungsnummer der Nachsendung mit.\n\n"
        "------------- Finalizar mensaje -------------\n"
    )
    add(Fixture(
        "de", "01-frage-von-amazon-kunde-fixture09",
        "SEMI-SYNTHETIC: email-samples/09 demo fixture verbatim (a third party's sanitised fixture; ids synthetic); "
        "only Return-Path/Received added",
        [("Return-Path", "<0100019a-bounces@amazonses.com>"),
         ("Message-ID", "<fixture-bbc-logistics-2@example.amazon.com>"),
         ("X-Dashboard-Demo-UID", "fixture-bbc-logistics-2"),
         ("X-Space-Notification-Type", "BBC_MESSAGE_SENT_TO_MERCHANT"), ("X-Marketplace-ID", "A1PA6795UKMFR9"),
         ("From", '"Cliente Amazon" <buyer-logistics-2@marketplace.amazon.de>'),
         ("To", "TodoElectrico <amazon-messages@todoelectrico.net>"),
         ("Subject", "Frage von Amazon-Kunde True (Bestellung: 302-0000002-0000002)"),
         ("Date", "Wed, 17 Jun 2026 16:33:00 +0200")],
        plain=fixture09, forwarding_address=None,
        expect={
            "mail_class": "buyer_message", "message_id": "<fixture-bbc-logistics-2@example.amazon.com>",
            "order_id": "302-0000002-0000002", "buyer_alias": "buyer-logistics-2@marketplace.amazon.de",
            "buyer_name": "True", "topic": "Frage von Amazon-Kunde", "marketplace_id": "A1PA6795UKMFR9",
            "marketplace_source": "relay_domain", "language": "es", "asin": "B0FIXTURE2", "quantity": 1,
            "product_title": "Organisches Kuehlgas Ralerfresh RS", "date": "2026-06-17T16:33:00+02:00",
            "text": "Guten Tag\nIn diesem Fall bitten wir um Nachlieferung.\n"
                    "Bitte teilen Sie uns dann die Sendungsnummer der Nachsendung mit.",
            "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "de", "02-paket-nicht-angekommen",
        "SYNTHETIC body with the DE markers of email-samples/07 and the de-DE footer fragments of 08 completed; "
        "subject SYNTHETIC from 05 (no space before '(Bestellung')",
        amazon_headers(sender='"Petra - Amazon Marketplace" <a1s2d3f4g5h6j7k@marketplace.amazon.de>',
                       to=forwarding("de"), subject="Paket nicht angekommen(Bestellung: 301-1111111-2222222)",
                       date="Mon, 19 Oct 2026 17:45:00 +0200",
                       msgid="<0100019a40000003-ccccdddd-eeee-4fff-8000-111122223333-000000@eu-west-1.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 301-1111111-2222222:\n1 / Kaffeemühle elektrisch, Edelstahl [ASIN: B07MZ3KQ9V]\n\n"
            "------------- Anfang der Nachricht -------------\n\n"
            "Hallo, laut Sendungsverfolgung wurde das Paket zugestellt, es ist aber nicht angekommen.\n"
            "Können Sie bitte nachforschen?\n\n"
            "------------- Ende der Nachricht -------------\n\n" + DE_FOOTER
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "301-1111111-2222222", "buyer_name": "Petra",
            "topic": "Paket nicht angekommen", "language": "de", "marketplace_id": "A1PA6795UKMFR9",
            "text": "Hallo, laut Sendungsverfolgung wurde das Paket zugestellt, es ist aber nicht angekommen.\n"
                    "Können Sie bitte nachforschen?",
            "product_title": "Kaffeemühle elektrisch, Edelstahl", "flags": [],
        },
    ))  # fmt: skip

    de3_body = (
        "# 303-7654321-1234567:\n1 / Wasserkocher 1,7 l [ASIN: B01LZ3Q9XK]\n\n"
        "------------- Anfang der Nachricht -------------\n\n"
        "Grüße, der Deckel schließt nicht richtig. Größe passt.\n\n"
        "------------- Ende der Nachricht -------------\n"
    )
    de3 = (
        "Return-Path: <0100019a-bounces@amazonses.com>\r\n"
        "Date: Tue, 20 Oct 2026 08:00:00 +0200\r\n"
        "From: Jürgen - Amazon Marketplace <z9x8c7v6b5n4m3l@marketplace.amazon.de>\r\n"
        f"To: {forwarding('de')}\r\n"
        "Message-ID: <0100019a45000004-ddddeeee-ffff-4000-8111-222233334444-000000@eu-west-1.amazonses.com>\r\n"
        "Subject: Frage von Amazon-Kunde Jürgen (Bestellung: 303-7654321-1234567)\r\n"
        "X-Space-Notification-Type: BBC_MESSAGE_SENT_TO_MERCHANT\r\n"
        "X-Deskbridge-Fixture: SYNTHETIC: raw 8-bit UTF-8 in From and Subject (no RFC 2047), and a body "
        "declared utf-8 but written in Latin-1 (charset mismatch); DE markers from email-samples/07\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + de3_body.replace("\n", "\r\n").encode("latin-1")
    add(Fixture(
        "de", "03-8bit-headers-latin1-body", "", [], raw=de3,
        expect={
            "mail_class": "buyer_message", "buyer_name": "Jürgen",
            "subject": "Frage von Amazon-Kunde Jürgen (Bestellung: 303-7654321-1234567)",
            "order_id": "303-7654321-1234567", "language": "de",
            "text": "Grüße, der Deckel schließt nicht richtig. Größe passt.",
            "flags": ["charset_fallback"],
        },
    ))  # fmt: skip

    add(Fixture(
        "de", "04-return-request",
        "SYNTHETIC return-request notice: X-Space-Notification-Type RETURN_REQUEST and the shared sender "
        "(amazon.md §12.9, §15); wording SYNTHETIC",
        amazon_headers(sender="Amazon <donotreply@amazon.com>", to=forwarding("de"),
                       subject="Rücksendeanfrage für Bestellung 304-2345678-3456789",
                       date="Wed, 21 Oct 2026 09:30:00 +0200",
                       msgid="<0100019a4a000005-eeeeffff-0000-4111-8222-333344445555-000000@eu-west-1.amazonses.com>",
                       notification="RETURN_REQUEST", marketplace="A1PA6795UKMFR9"),
        plain=(
            "Guten Tag,\n\nein Käufer hat eine Rücksendung für Bestellung 304-2345678-3456789 angefordert.\n"
            "Artikel: Kaffeemühle elektrisch, Edelstahl\nGrund: Artikel defekt\n\n"
            "Bitte prüfen Sie die Anfrage in Seller Central.\n"
        ),
        expect={
            "mail_class": "return_request", "notification_type": "RETURN_REQUEST",
            "order_id": "304-2345678-3456789", "marketplace_id": "A1PA6795UKMFR9",
            "marketplace_source": "header", "buyer_alias": None, "failure": None,
        },
    ))  # fmt: skip

    de_alias = "stb6ssjkf7gpxz4@marketplace.amazon.de"
    add(Fixture(
        "de", "05-opt-out-html-2026",
        "SYNTHETIC HTML-only opt-out notice per amazon.md §15 (BUYER_OPTED_OUT_BSM_MESSAGES, "
        "auto-communication@amazon.com, order id in square brackets, mailto: link to the buyer alias); "
        "alias REAL shape from email-samples/06",
        amazon_headers(sender="Amazon <auto-communication@amazon.com>", to=forwarding("de"),
                       subject="Nachricht nicht zugestellt", date="Thu, 22 Oct 2026 14:00:00 +0200",
                       msgid="<0100019a50000006-ffff0000-1111-4222-8333-444455556666-000000@eu-west-1.amazonses.com>",
                       notification="BUYER_OPTED_OUT_BSM_MESSAGES"),
        html=(
            "<html><body><table><tr><td><p>Hallo,</p>"
            "<p>Ihre Nachricht zu Bestellung [305-3456789-4567890] an "
            f'<a href="mailto:{de_alias}">{de_alias}</a> konnte nicht zugestellt werden: '
            "Der Käufer hat den Erhalt unaufgeforderter Nachrichten abgelehnt.</p>"
            "<p>Antworten Sie im ursprünglichen Nachrichtenverlauf des Käufers.</p></td></tr></table></body></html>"
        ),
        expect={
            "mail_class": "buyer_opt_out", "order_id": "305-3456789-4567890", "buyer_alias": de_alias,
            "marketplace_id": "A1PA6795UKMFR9", "marketplace_source": "relay_domain", "flags": ["html_only"],
            "failure": {"reason": "opted_out", "recipient": de_alias, "order_id": "305-3456789-4567890",
                        "message_id": None, "subject": None, "status": None,
                        "detail": "Ihre Nachricht zu Bestellung [305-3456789-4567890] an "
                                  "stb6ssjkf7gpxz4@marketplace.amazon.de konnte nicht zugestellt werden: "
                                  "Der Käufer hat den Erhalt unaufgeforderter Nachrichten abgelehnt."},
        },
    ))  # fmt: skip

    add(Fixture(
        "de", "06-rfc2047-subject-base64-body",
        "SYNTHETIC: RFC 2047 (B) encoded subject and From name, base64 body; DE markers from 07",
        amazon_headers(sender=encoded("Zoë - Amazon Marketplace") + " <h8g7f6d5s4a3p2o@marketplace.amazon.de>",
                       to=forwarding("de"),
                       subject=encoded("Frage von Amazon-Kunde Zoë (Bestellung: 306-4567890-5678901)"),
                       date="Fri, 23 Oct 2026 19:19:00 +0200",
                       msgid="<0100019a55000007-00001111-2222-4333-8444-555566667777-000000@eu-west-1.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 306-4567890-5678901:\n1 / Thermoskanne 1 l [ASIN: B06XGWRKYT]\n\n"
            "------------- Anfang der Nachricht -------------\n\nIst die Kanne spülmaschinenfest?\n\n"
            "------------- Ende der Nachricht -------------\n\n" + DE_FOOTER
        ),
        cte="base64",
        expect={
            "mail_class": "buyer_message", "buyer_name": "Zoë",
            "subject": "Frage von Amazon-Kunde Zoë (Bestellung: 306-4567890-5678901)",
            "order_id": "306-4567890-5678901", "text": "Ist die Kanne spülmaschinenfest?", "language": "de",
            "flags": [],
        },
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- FR
    add(Fixture(
        "fr", "01-debut-du-message-qp",
        "SYNTHETIC body with the FR markers of email-samples/07, the fr-FR footer of 08 completed and 2016-style "
        "links; From suffix \"- Marketplace d'Amazon.fr\" from 06; quoted-printable",
        amazon_headers(sender='"Camille - Marketplace d\'Amazon.fr" <c4m1ll3x8r2q7w5@marketplace.amazon.fr>',
                       to=forwarding("fr"), subject="Demande du client Amazon Camille (Commande : 405-1234567-2345678)",
                       date="Tue, 03 Mar 2026 10:12:00 +0100",
                       msgid="<0100018f10000008-11112222-3333-4444-8555-666677778888-000000@eu-west-1.amazonses.com>"),
        plain=(
            "Numéro de commande 405-1234567-2345678 :\n1 de Théière en fonte 0,8 l [ASIN: B00OQ4X6NS]\n\n"
            "------------- Début du message -------------\n\n"
            "Bonjour, la théière est arrivée fêlée. Que dois-je faire ?\n\n"
            "------------- Fin du message -------------\n\n" + FR_FOOTER
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "405-1234567-2345678", "buyer_name": "Camille",
            "topic": "Demande du client Amazon", "language": "fr", "marketplace_id": "A13V1IB3VIYZZH",
            "text": "Bonjour, la théière est arrivée fêlée. Que dois-je faire ?", "asin": "B00OQ4X6NS",
            "quantity": 1, "product_title": "Théière en fonte 0,8 l", "commmgr_token": "FR7Q2W9E4R1T6",
            "flags": [],
        },
    ))  # fmt: skip

    fr2 = (
        "# 405-7777777-8888888:\n1 / Plaid en laine mérinos [ASIN: B08L5WRMZJ]\n\n"
        "------------- Début du message -------------\n\n"
        "Bonjour, la couleur reçue n'est pas celle commandée. Merci d'avance, Hélène\n\n"
        "------------- Fin du message -------------\n"
    )
    add(Fixture(
        "fr", "02-mojibake-debut",
        "SYNTHETIC: UTF-8 text decoded once as Latin-1 and sent again as UTF-8, giving 'DÃ©but' as a parser of "
        "real mail records (email-samples/07, FR mojibake variant)",
        amazon_headers(sender='"Hélène - Amazon Marketplace" <h3l3n3q9w8e7r6t@marketplace.amazon.fr>',
                       to=forwarding("fr"), subject="Demande du client Amazon Hélène (Commande : 405-7777777-8888888)",
                       date="Wed, 04 Mar 2026 11:00:00 +0100",
                       msgid="<0100018f15000009-22223333-4444-4555-8666-777788889999-000000@eu-west-1.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=fr2.encode("utf-8").decode("latin-1"),
        expect={
            "mail_class": "buyer_message", "order_id": "405-7777777-8888888", "language": "fr",
            "text": "Bonjour, la couleur reçue n'est pas celle commandée. Merci d'avance, Hélène",
            "product_title": "Plaid en laine mérinos", "flags": ["mojibake_repaired"],
        },
    ))  # fmt: skip

    add(Fixture(
        "fr", "03-quoted-mail-client-reply",
        "SYNTHETIC buyer reply from a mail client quoting the seller inside Amazon's markers; attribution line "
        "form from email-samples/06 (FR: 'Le <date>, <name> - Marketplace d'Amazon.fr <…> a écrit')",
        amazon_headers(sender='"Luc - Amazon Marketplace" <l8u7c6x5z4a3s2d@marketplace.amazon.fr>',
                       to=forwarding("fr"),
                       subject="RE: Demande du client Amazon Luc (Commande : 405-1111111-9999999)",
                       date="Thu, 05 Mar 2026 08:30:00 +0100",
                       msgid="<0100018f1a00000a-33334444-5555-4666-8777-88889999aaaa-000000@eu-west-1.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 405-1111111-9999999:\n1 / Lampe de chevet en laiton [ASIN: B09TQ8RZ7P]\n\n"
            "------------- Début du message -------------\n\n"
            "Merci, c'est parfait, j'attends le colis.\n\n"
            "Le mer. 4 mars 2026 à 18:02, Maison Lumière - Marketplace d'Amazon.fr <x@marketplace.amazon.fr> a écrit :\n"
            "> Bonjour, nous vous renvoyons une lampe aujourd'hui.\n> Cordialement\n\n"
            "------------- Fin du message -------------\n"
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "405-1111111-9999999", "buyer_name": "Luc",
            "text": "Merci, c'est parfait, j'attends le colis.", "language": "fr",
            "in_reply_to": None, "flags": ["quoted_history_removed"],
        },
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- IT
    add(Fixture(
        "it", "01-messaggio-dall-acquirente-2026",
        "SYNTHETIC per amazon.md §15 (2026 IT specimens): 'Messaggio:' start marker with 'Fine messaggio', "
        "generic From name 'Acquirente Amazon', subject without order id, SKU in the item line, X-Marketplace-ID; "
        "intro and footer words from email-samples/08 (it-IT, 2026)",
        amazon_headers(sender='"Acquirente Amazon" <r5t6y7u8i9o0p1a@marketplace.amazon.it>', to=forwarding("it"),
                       subject="Messaggio dall'acquirente", date="Mon, 26 Oct 2026 15:40:00 +0100",
                       msgid="<0100019a6000000b-44445555-6666-4777-8888-9999aaaabbbb-000000@eu-west-1.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT", marketplace="APJ6JRA9NG5V4"),
        plain=(
            "Hai ricevuto un messaggio.\n\n# 406-2345678-3456789:\n"
            "1 / Moka express 6 tazze | MOKA-6-ALU [ASIN: B000FJGY3C]\n\n"
            "------------- Messaggio: -------------\n\n"
            "Buongiorno, la guarnizione perde. Potete mandarne una di ricambio?\n\n"
            "------------- Fine messaggio -------------\n\n" + IT_FOOTER
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "406-2345678-3456789", "buyer_name": None,
            "topic": "Messaggio dall'acquirente", "language": "it", "marketplace_id": "APJ6JRA9NG5V4",
            "marketplace_source": "relay_domain", "sku": "MOKA-6-ALU", "asin": "B000FJGY3C", "quantity": 1,
            "product_title": "Moka express 6 tazze",
            "text": "Buongiorno, la guarnizione perde. Potete mandarne una di ricambio?", "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "it", "02-return-request",
        "SYNTHETIC return-request notice: RETURN_REQUEST header (real IT 2026 observation, email-samples/09), "
        "shared sender donotreply@amazon.com; wording SYNTHETIC",
        amazon_headers(sender="Amazon.it <donotreply@amazon.com>", to=forwarding("it"),
                       subject="Richiesta di reso per l'ordine 406-9876543-2109876",
                       date="Tue, 27 Oct 2026 10:00:00 +0100",
                       msgid="<0100019a6500000c-5555666-7777-4888-8999-aaaabbbbcccc-000000@eu-west-1.amazonses.com>",
                       notification="RETURN_REQUEST"),
        plain="Gentile venditore,\n\nil cliente ha richiesto il reso di un articolo dell'ordine 406-9876543-2109876.\n",
        expect={
            "mail_class": "return_request", "order_id": "406-9876543-2109876",
            "marketplace_id": "APJ6JRA9NG5V4", "marketplace_source": "forwarding_address",
        },
    ))  # fmt: skip

    add(Fixture(
        "it", "03-a-to-z-claim",
        "SYNTHETIC A-to-z claim notice: A_Z_CLAIM_RESPONDENT_NOTIFY (real IT 2026 observation, 09), sender "
        "atoz-guarantee-no-reply@amazon.com (06); wording SYNTHETIC",
        amazon_headers(sender="Amazon <atoz-guarantee-no-reply@amazon.com>", to=forwarding("it"),
                       subject="Reclamo Garanzia dalla A alla Z per l'ordine 406-1212121-3434343",
                       date="Wed, 28 Oct 2026 09:00:00 +0100",
                       msgid="<0100019a6a00000d-66667777-8888-4999-8aaa-bbbbccccdddd-000000@eu-west-1.amazonses.com>",
                       notification="A_Z_CLAIM_RESPONDENT_NOTIFY"),
        plain=("Gentile venditore,\n\nun cliente ha presentato un reclamo per l'ordine 406-1212121-3434343.\n"
               "Rispondi entro 3 giorni di calendario.\n"),
        expect={"mail_class": "a_to_z_claim", "order_id": "406-1212121-3434343", "language": None},
    ))  # fmt: skip

    add(Fixture(
        "it", "04-brc-cancellation-request",
        "SYNTHETIC cancellation-request notice: BRC_SELLER_NOTIFICATION from donotreply@amazon.com "
        "(amazon.md §12.9 fixture-only value, §15)",
        amazon_headers(sender="Amazon <donotreply@amazon.com>", to=forwarding("it"),
                       subject="Richiesta di cancellazione per l'ordine 406-5656565-7878787",
                       date="Thu, 29 Oct 2026 18:00:00 +0100",
                       msgid="<0100019a6f00000e-77778888-9999-4aaa-8bbb-ccccddddeeee-000000@eu-west-1.amazonses.com>",
                       notification="BRC_SELLER_NOTIFICATION"),
        plain="Il cliente ha richiesto la cancellazione dell'ordine 406-5656565-7878787.\n",
        expect={"mail_class": "other_notice", "notification_type": "BRC_SELLER_NOTIFICATION",
                "order_id": "406-5656565-7878787", "buyer_alias": None},
    ))  # fmt: skip

    add(Fixture(
        "it", "05-older-inizio-messaggio",
        "SYNTHETIC body in the older layout with the IT markers of email-samples/07 and the it-IT footer of 08",
        amazon_headers(sender='"Giulia - Marketplace Amazon" <g1u2l3i4a5z6x7c@marketplace.amazon.it>',
                       to=forwarding("it"),
                       subject="Domanda dal cliente Amazon Giulia (Ordine: 406-3030303-4040404)",
                       date="Fri, 30 Oct 2026 12:00:00 +0100",
                       msgid="<0100019a7400000f-88889999-aaaa-4bbb-8ccc-ddddeeeeffff-000000@eu-west-1.amazonses.com>"),
        plain=(
            "Numero ordine 406-3030303-4040404:\n1 di Tostapane 2 fette [ASIN: B07D5N2K1Q]\n\n"
            "------------- Inizio messaggio -------------\n\nQuando verrà spedito?\n\n"
            "------------- Fine messaggio -------------\n\n" + IT_FOOTER
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "406-3030303-4040404", "buyer_name": "Giulia",
            "topic": "Domanda dal cliente Amazon", "language": "it", "text": "Quando verrà spedito?",
            "product_title": "Tostapane 2 fette", "quantity": 1, "flags": [],
        },
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- ES
    add(Fixture(
        "es", "01-iniciar-mensaje-base64",
        "SYNTHETIC body with the ES markers of email-samples/07 and the es-ES footer of 08 completed; base64",
        amazon_headers(sender='"Lucía - Amazon Marketplace" <l9u8c7i6a5q4w3e@marketplace.amazon.es>',
                       to=forwarding("es"), subject="Consulta del cliente de Amazon Lucía (Pedido: 403-1231231-4564564)",
                       date="Sat, 31 Oct 2026 09:09:00 +0100",
                       msgid="<0100019a79000010-9999aaaa-bbbb-4ccc-8ddd-eeeeffff0000-000000@eu-west-1.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 403-1231231-4564564:\n1 / Sartén antiadherente 28 cm [ASIN: B01MRA1Z2X]\n\n"
            "------------- Iniciar mensaje -------------\n\n¿Sirve para placas de inducción?\n\n"
            "------------- Finalizar mensaje -------------\n\n" + ES_FOOTER
        ),
        cte="base64",
        expect={
            "mail_class": "buyer_message", "order_id": "403-1231231-4564564", "buyer_name": "Lucía",
            "topic": "Consulta del cliente de Amazon", "language": "es",
            "text": "¿Sirve para placas de inducción?", "marketplace_id": "A1RKKUPIHCS9HS", "flags": [],
        },
    ))  # fmt: skip

    add(Fixture(
        "es", "02-refund-issued",
        "SYNTHETIC refund notice: X-Space-Notification-Type REFUND_ISSUED (amazon.md §15)",
        amazon_headers(sender="Amazon.es <donotreply@amazon.es>", to=forwarding("es"),
                       subject="Reembolso emitido para el pedido 403-7897897-1011121",
                       date="Sun, 01 Nov 2026 10:10:00 +0100",
                       msgid="<0100019a7e000011-aaaabbbb-cccc-4ddd-8eee-ffff00001111-000000@eu-west-1.amazonses.com>",
                       notification="REFUND_ISSUED"),
        plain="Se ha emitido un reembolso de 19,99 EUR para el pedido 403-7897897-1011121.\n",
        expect={"mail_class": "other_notice", "order_id": "403-7897897-1011121",
                "text": "Se ha emitido un reembolso de 19,99 EUR para el pedido 403-7897897-1011121."},
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- MX
    add(Fixture(
        "mx", "01-mensaje-2026",
        "SYNTHETIC per amazon.md §15 (MX 2026): 'Mensaje:' start marker, 'Finalizar mensaje' end marker, subject "
        "form 'Consulta … del cliente de Amazon <name> (Pedido: …)'",
        amazon_headers(sender='"Luis - Amazon Marketplace" <l1u2i3s4m5x6c7v@marketplace.amazon.com.mx>',
                       to=forwarding("mx"),
                       subject="Consulta sobre el envío del cliente de Amazon Luis (Pedido: 701-2223334-4455566)",
                       date="Mon, 02 Nov 2026 16:00:00 -0600",
                       msgid="<0100019a83000012-bbbbcccc-dddd-4eee-8fff-000011112222-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT", marketplace="A1AM78C64UM0Y8"),
        plain=(
            "# 701-2223334-4455566:\n1 / Licuadora 600 W [ASIN: B07Y2RTM3D]\n\n"
            "------------- Mensaje: -------------\n\n¿Cuándo llega a Monterrey?\n\n"
            "------------- Finalizar mensaje -------------\n"
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "701-2223334-4455566", "buyer_name": "Luis",
            "topic": "Consulta sobre el envío del cliente de Amazon", "language": "es",
            "marketplace_id": "A1AM78C64UM0Y8", "marketplace_source": "relay_domain",
            "text": "¿Cuándo llega a Monterrey?", "flags": [],
        },
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- BR
    br_alias = "b7r6a5z4i3l2k1j+0c4e9a7f@marketplace.amazon.com.br"
    br_html = (
        "<html><body><div>Você recebeu uma mensagem.</div>"
        "<div># 701-9876543-1234567:<br>1 / Garrafa térmica 1 L [ASIN: B08KTZ8N2S]</div>"
        "<div>------------- Mensagem:  -------------</div>"
        "<div>Olá, a tampa veio quebrada. Podem enviar outra?</div>"
        "<div>------------- Encerrar mensagem -------------</div>"
        "<p>Este e-mail foi útil?</p>"
        '<p><a href="https://sellercentral.amazon.com.br/messaging/no-response-needed?t=eyJiciI6MX0&amp;h=2d9f">'
        "Solucionar o caso</a> | "
        '<a href="https://sellercentral.amazon.com.br/messaging/inbox?fi=caseId&amp;ss=0c4e9a7f&amp;cc=0c4e9a7f">'
        "Denunciar atividade questionável</a></p>"
        "<p>Atenciosamente, Amazon.com.br</p><p>Direitos autorais 2026 Amazon</p></body></html>"
    )
    add(Fixture(
        "br", "01-mensagem-case-suffix-html",
        "SYNTHETIC HTML-only buyer message per the real 2026 BR observations (email-samples/07, 08, 09): "
        "'Mensagem:' with two spaces, 'Encerrar mensagem', alias '<id>+<case>', pt-BR footer and links",
        amazon_headers(sender=f'"Maria Silva - Amazon Marketplace" <{br_alias}>', to=forwarding("br"),
                       subject="Consulta do cliente da Amazon Maria Silva (Pedido: 701-9876543-1234567)",
                       date="Mon, 28 Sep 2026 14:03:00 -0300",
                       msgid="<0100019a88000013-ccccdddd-eeee-4fff-8000-111122223333-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        html=br_html,
        expect={
            "mail_class": "buyer_message", "order_id": "701-9876543-1234567", "buyer_alias": br_alias,
            "buyer_name": "Maria Silva", "case_id": "0c4e9a7f", "language": "pt",
            "marketplace_id": "A2Q3Y263D00KWC", "marketplace_source": "relay_domain",
            "text": "Olá, a tampa veio quebrada. Podem enviar outra?", "asin": "B08KTZ8N2S",
            "no_response_url": "https://sellercentral.amazon.com.br/messaging/no-response-needed?t=eyJiciI6MX0&h=2d9f",
            "topic": "Consulta do cliente da Amazon", "flags": ["html_only"],
        },
    ))  # fmt: skip

    add(Fixture(
        "br", "02-seller-copy-seu-email",
        "SYNTHETIC copy of a seller reply per the real 2026 BR observation (email-samples/09): "
        "BBC_MESSAGE_CONFIRMATION_TO_MERCHANT, donotreply@amazon.com, 'Seu e-mail para <buyer>', HTML only, "
        "no relay address, pre-sale so no order id; markers 'Iniciar mensagem'/'Mensagem final' (07)",
        amazon_headers(sender="Amazon.com.br <donotreply@amazon.com>", to=forwarding("br"),
                       subject="Seu e-mail para Maria Silva", date="Mon, 28 Sep 2026 15:10:00 -0300",
                       msgid="<0100019a8d000014-ddddeeee-ffff-4000-8111-222233334444-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_CONFIRMATION_TO_MERCHANT"),
        html=(
            "<html><body><p>Seu e-mail para Maria Silva</p>"
            "<p>------------- Iniciar mensagem -------------</p>"
            "<p>Olá Maria,<br>sim, o produto é bivolt.<br>Atenciosamente,<br>Loja Exemplo</p>"
            "<p>------------- Mensagem final -------------</p><p>Este e-mail foi útil?</p></body></html>"
        ),
        expect={
            "mail_class": "seller_copy", "order_id": None, "buyer_alias": None, "buyer_name": "Maria Silva",
            "marketplace_id": "A2Q3Y263D00KWC", "marketplace_source": "forwarding_address", "language": "pt",
            "text": "Olá Maria,\nsim, o produto é bivolt.\nAtenciosamente,\nLoja Exemplo",
            "topic": "Seu e-mail para Maria Silva", "flags": ["html_only"],
        },
    ))  # fmt: skip

    add(Fixture(
        "br", "03-older-inicio-da-mensagem",
        "SYNTHETIC body with the older BR markers of email-samples/07 ('Início da mensagem'/'Fim da mensagem')",
        amazon_headers(sender='"Ana - Amazon Marketplace" <a9n8a7q6w5e4r3t@marketplace.amazon.com.br>',
                       to=forwarding("br"), subject="Pergunta do cliente da Amazon Ana (Pedido: 701-1010101-2020202)",
                       date="Tue, 10 Mar 2026 09:00:00 -0300",
                       msgid="<0100019a92000015-eeeeffff-0000-4111-8222-333344445555-000000@email.amazonses.com>"),
        plain=(
            "# 701-1010101-2020202:\n1 / Panela de pressão 4,5 L [ASIN: B07FZ8S74R]\n\n"
            "------------- Início da mensagem -------------\n\nA nota fiscal pode sair no CNPJ?\n\n"
            "------------- Fim da mensagem -------------\n"
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "701-1010101-2020202", "buyer_name": "Ana",
            "language": "pt", "text": "A nota fiscal pode sair no CNPJ?", "marketplace_id": "A2Q3Y263D00KWC",
            "flags": [],
        },
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- CA
    add(Fixture(
        "ca", "01-bilingual-14-dashes",
        "SYNTHETIC body in the bilingual Amazon.ca layout described in amazon.md §12.5/§12.6 (English/French "
        "labels slash-separated, 14-dash markers from email-samples/07 source B)",
        amazon_headers(sender='"Emma - Amazon Marketplace" <e1m2m3a4c5a6n7d@marketplace.amazon.ca>',
                       to=forwarding("ca"), subject="Shipping inquiry from Amazon customer Emma (Order: 702-5556667-7788899)",
                       date="Wed, 11 Mar 2026 13:00:00 -0500",
                       msgid="<0100019a97000016-ffff0000-1111-4222-8333-444455556666-000000@email.amazonses.com>"),
        plain=(
            "Order ID / Numéro de commande 702-5556667-7788899:\n"
            "1 of / de Snow Brush with Ice Scraper [ASIN: B0018BE6Q6]\n\n"
            "-------------- Begin message / Début du message -------------\n\n"
            "Will this ship before the storm on Friday?\n\n"
            "-------------- End message / Fin du message --------------\n\n" + EN_FOOTER_2016.replace(".com", ".ca")
        ),
        expect={
            "mail_class": "buyer_message", "order_id": "702-5556667-7788899", "buyer_name": "Emma",
            "language": "en", "marketplace_id": "A2EUQ1WTGCTBG2", "asin": "B0018BE6Q6", "quantity": 1,
            "product_title": "Snow Brush with Ice Scraper", "topic": "Shipping inquiry from Amazon customer",
            "text": "Will this ship before the storm on Friday?", "flags": ["bilingual_template"],
        },
    ))  # fmt: skip

    add(Fixture(
        "ca", "02-a-to-z-claim-closed",
        "SYNTHETIC: A_Z_CLAIM_RESPONDENT_CLOSE from atoz-guarantee-no-reply@amazon.com (amazon.md §12.9, "
        "fixture-only value)",
        amazon_headers(sender="Amazon.ca <atoz-guarantee-no-reply@amazon.com>", to=forwarding("ca"),
                       subject="A-to-z Guarantee claim closed: order 702-1212121-3434343",
                       date="Thu, 12 Mar 2026 08:00:00 -0500",
                       msgid="<0100019a9c000017-00001111-2222-4333-8444-555566667777-000000@email.amazonses.com>",
                       notification="A_Z_CLAIM_RESPONDENT_CLOSE"),
        plain="The A-to-z Guarantee claim for order 702-1212121-3434343 has been closed in your favour.\n",
        expect={"mail_class": "a_to_z_claim", "order_id": "702-1212121-3434343",
                "marketplace_id": "A2EUQ1WTGCTBG2", "marketplace_source": "forwarding_address"},
    ))  # fmt: skip

    # ---------------------------------------------------------------------------------------- JP
    out.append(Fixture(
        "jp", "01-iso-2022-jp",
        "SYNTHETIC body with the JP markers of email-samples/07; ISO-2022-JP body and RFC 2047 subject; "
        "Japanese subject wording SYNTHETIC",
        amazon_headers(sender=encoded("山田 - Amazon Marketplace", "iso-2022-jp") + " <y1a2m3a4d5a6j7p@marketplace.amazon.co.jp>",
                       to=forwarding("jp"),
                       subject=encoded("商品詳細に関するお問い合わせ (注文番号: 503-1234567-1234567)", "iso-2022-jp"),
                       date="Fri, 13 Mar 2026 10:00:00 +0900",
                       msgid="<0100019aa1000018-11112222-3333-4444-8555-666677778888-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 503-1234567-1234567:\n1 / 電気ケトル 1.0L [ASIN: B07JL1GSWV]\n\n"
            "------------- メッセージはここから -------------\n\n届いた商品の電源が入りません。交換できますか？\n\n"
            "------------- メッセージはここまで -------------\n"
        ),
        charset="iso-2022-jp", cte="7bit",
        expect={
            "mail_class": "buyer_message", "order_id": "503-1234567-1234567", "language": "ja",
            "buyer_name": "山田", "subject": "商品詳細に関するお問い合わせ (注文番号: 503-1234567-1234567)",
            "topic": "商品詳細に関するお問い合わせ", "marketplace_id": "A1VC38T7YXB528",
            "text": "届いた商品の電源が入りません。交換できますか？", "product_title": "電気ケトル 1.0L",
            "flags": [],
        },
    ))  # fmt: skip

    out.append(_dsn_jp())

    # ------------------------------------------------------------------------- AU, IN, NL, SE
    add(Fixture(
        "au", "01-newer-template",
        "SYNTHETIC body in the newer English layout (07, 09); relay domain by convention (amazon.md §4)",
        amazon_headers(sender='"Olivia - Amazon Marketplace" <o1l2i3v4i5a6a7u@marketplace.amazon.com.au>',
                       to=forwarding("au"), subject="Shipping inquiry from Amazon customer Olivia (Order: 250-1112223-3344455)",
                       date="Sat, 14 Mar 2026 12:00:00 +1100",
                       msgid="<0100019aa6000019-22223333-4444-4555-8666-777788889999-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 250-1112223-3344455:\n1 / Beach Towel, Extra Large [ASIN: B07PQRST12]\n\n"
            "------------- Message: -------------\n\nDo you ship to Tasmania?\n\n"
            "------------- End message -------------\n\nWas this email helpful?\n"
        ),
        expect={"mail_class": "buyer_message", "marketplace_id": "A39IBJ37TRP1C6", "language": "en",
                "order_id": "250-1112223-3344455", "text": "Do you ship to Tasmania?", "flags": []},
    ))  # fmt: skip

    in_body = (
        "You have a new message from a customer.\n\nOrder 404-5556667-8889990\n"
        "Customer says: The charger is missing from the box.\n\nReply from Seller Central.\n"
    )
    add(Fixture(
        "in", "01-unknown-template-unparsed",
        "SYNTHETIC: a buyer message in a layout with no known markers, to prove it still arrives (flagged unparsed)",
        amazon_headers(sender='"Arjun - Amazon Marketplace" <a1r2j3u4n5i6n7d@marketplace.amazon.in>',
                       to=forwarding("in"), subject="Message from Amazon customer Arjun",
                       date="Sun, 15 Mar 2026 18:30:00 +0530",
                       msgid="<0100019aab00001a-33334444-5555-4666-8777-88889999aaaa-000000@email.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=in_body,
        expect={"mail_class": "buyer_message", "order_id": "404-5556667-8889990", "buyer_name": "Arjun",
                "marketplace_id": "A21TJRUUN4KGV", "language": None,
                "text": in_body.strip(), "flags": ["unparsed"]},
    ))  # fmt: skip

    add(Fixture(
        "nl", "01-unknown-localized-marker",
        "SYNTHETIC: Dutch marker words are not in the reference; built to test amazon.md §15's rule (a word and "
        "a colon between dashes opens the message; the next dash-framed line closes it)",
        amazon_headers(sender='"Sanne - Amazon Marketplace" <s1a2n3n4e5n6l7q@marketplace.amazon.nl>',
                       to=forwarding("nl"), subject="Vraag van Amazon-klant Sanne (Bestelling: 408-1234567-7654321)",
                       date="Mon, 16 Mar 2026 09:00:00 +0100",
                       msgid="<0100019ab000001b-44445555-6666-4777-8888-9999aaaabbbb-000000@eu-west-1.amazonses.com>",
                       notification="BBC_MESSAGE_SENT_TO_MERCHANT"),
        plain=(
            "# 408-1234567-7654321:\n1 / Fietsbel messing [ASIN: B01BELL123]\n\n"
            "------------- Bericht: -------------\n\nIs de bel ook in zwart leverbaar?\n\n"
            "------------- Einde bericht -------------\n"
        ),
        expect={"mail_class": "buyer_message", "order_id": "408-1234567-7654321", "buyer_name": "Sanne",
                "topic": "Vraag van Amazon-klant", "language": None, "marketplace_id": "A1805IZSGTT6HS",
                "text": "Is de bel ook in zwart leverbaar?", "flags": []},
    ))  # fmt: skip

    add(Fixture(
        "se", "01-not-amazon-manual-forward",
        "SYNTHETIC: the seller forwarded a buyer message by hand from their own mailbox (not from Amazon); "
        "the Amazon template inside keeps its relay alias only in the quoted headers",
        [("Date", "Tue, 17 Mar 2026 10:00:00 +0100"), ("From", "Erik Svensson <erik@shop.example>"),
         ("To", forwarding("se")), ("Message-ID", "<fwd-1@shop.example>"),
         ("Subject", "Fwd: Fråga från Amazon-kund Linnea (Order: 409-1231234-5675678)")],
        plain=(
            "Kan ni titta på den här?\n\n---------- Forwarded message ---------\n"
            "From: Linnea - Amazon Marketplace <l1n2n3e4a5s6e7q@marketplace.amazon.se>\n"
            "Date: Mon, 16 Mar 2026\nSubject: Fråga från Amazon-kund Linnea (Order: 409-1231234-5675678)\n\n"
            "# 409-1231234-5675678:\n1 / Ullstrumpor [ASIN: B0WOOL0001]\n\n"
            "------------- Message: -------------\n\nNär skickas ordern?\n\n"
            "------------- End message -------------\n"
        ),
        expect={"mail_class": "not_amazon", "buyer_alias": None, "sender": "erik@shop.example",
                "order_id": "409-1231234-5675678", "marketplace_id": "A2NODRKZP88ZB9",
                "marketplace_source": "forwarding_address", "text": "Kan ni titta på den här?",
                "flags": ["quoted_history_removed"]},
    ))  # fmt: skip
    return out


def _dsn_us() -> Fixture:
    boundary = "==dsn-boundary-8f2c=="
    raw = (
        "Return-Path: <>\r\n"
        "Date: Thu, 15 Oct 2026 18:40:02 +0000\r\n"
        "From: Mail Delivery Subsystem <MAILER-DAEMON@marketplace.amazon.com>\r\n"
        f"To: {forwarding('us')}\r\n"
        "Message-ID: <dsn-20261015184002.7781@marketplace.amazon.com>\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "X-Deskbridge-Fixture: SYNTHETIC RFC 3464 bounce of one of our replies (amazon.md section 12.12: provider "
        "bounces with multipart/report, matched by the original Message-ID); alias from email-samples/06\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Your message could not be delivered to one or more recipients.\r\n\r\n"
        "<th6wqr1vf6dr43f@marketplace.amazon.com>: host relay.marketplace.amazon.com said:\r\n"
        "    550 5.7.1 Sender address not authorized for Buyer-Seller Messaging\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; relay.marketplace.amazon.com\r\n\r\n"
        "Final-Recipient: rfc822; th6wqr1vf6dr43f@marketplace.amazon.com\r\n"
        "Action: failed\r\nStatus: 5.7.1\r\n"
        "Diagnostic-Code: smtp; 550 5.7.1 Sender address not authorized for Buyer-Seller Messaging\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        "From: Kitchen Corner <amz-us-atvpdkikx0der-a3th9s8bh6gogm@deskbridge.localhost>\r\n"
        "To: th6wqr1vf6dr43f@marketplace.amazon.com\r\n"
        "Subject: Re: Product details inquiry from Amazon customer Cherri (Order: 111-3958185-1645065)\r\n"
        "Message-ID: <reply-0042.5e1d@deskbridge.localhost>\r\n"
        "In-Reply-To: <0100019a2f3e4d5c-77e0a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b-000000@email.amazonses.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hello Cherri, the large board is 2 cm thick and weighs about 1.2 kg.\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode("ascii")
    return Fixture(
        "us", "08-mailer-daemon-unauthorized-sender", "", [], raw=raw,
        expect={
            "mail_class": "mailer_daemon", "sender": "mailer-daemon@marketplace.amazon.com",
            "buyer_alias": "th6wqr1vf6dr43f@marketplace.amazon.com", "order_id": "111-3958185-1645065",
            "marketplace_id": "ATVPDKIKX0DER", "marketplace_source": "relay_domain", "attachments": [],
            "failure": {"reason": "unauthorized_sender", "recipient": "th6wqr1vf6dr43f@marketplace.amazon.com",
                        "order_id": "111-3958185-1645065", "message_id": "<reply-0042.5e1d@deskbridge.localhost>",
                        "subject": "Re: Product details inquiry from Amazon customer Cherri (Order: 111-3958185-1645065)",
                        "status": "5.7.1",
                        "detail": "smtp; 550 5.7.1 Sender address not authorized for Buyer-Seller Messaging"},
        },
    )  # fmt: skip


def _dsn_jp() -> Fixture:
    boundary = "dsn-jp-2"
    raw = (
        "Return-Path: <>\r\n"
        "Date: Fri, 13 Mar 2026 11:00:00 +0900\r\n"
        f"From: postmaster@{INBOUND}\r\n"
        f"To: {forwarding('jp')}\r\n"
        "Subject: Delivery Status Notification (Failure)\r\n"
        "X-Deskbridge-Fixture: SYNTHETIC bounce from our own outbound MTA for a DMARC rejection "
        "(amazon.md section 12.12), original headers as text/rfc822-headers\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nDelivery to the following recipient failed permanently:\r\n\r\n"
        "    y1a2m3a4d5a6j7p@marketplace.amazon.co.jp\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.{INBOUND}\r\n\r\n"
        "Original-Recipient: rfc822;y1a2m3a4d5a6j7p@marketplace.amazon.co.jp\r\n"
        "Final-Recipient: rfc822;y1a2m3a4d5a6j7p@marketplace.amazon.co.jp\r\n"
        "Action: failed\r\nStatus: 5.7.26\r\n"
        "Diagnostic-Code: smtp; 550-5.7.26 Unauthenticated email is not accepted due to DMARC policy\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: amz-jp-a1vc38t7yxb528-{SELLER}@{INBOUND}\r\n"
        "To: y1a2m3a4d5a6j7p@marketplace.amazon.co.jp\r\n"
        f"Subject: {encoded('Re: 商品詳細に関するお問い合わせ (503-1234567-1234567)')}\r\n"
        "Message-ID: <reply-0077.aa01@deskbridge.localhost>\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode("ascii")
    return Fixture(
        "jp", "02-mailer-daemon-dmarc", "", [], raw=raw,
        expect={
            "mail_class": "mailer_daemon", "buyer_alias": "y1a2m3a4d5a6j7p@marketplace.amazon.co.jp",
            "order_id": "503-1234567-1234567", "marketplace_id": "A1VC38T7YXB528",
            "failure": {"reason": "auth_failed", "recipient": "y1a2m3a4d5a6j7p@marketplace.amazon.co.jp",
                        "order_id": "503-1234567-1234567", "message_id": "<reply-0077.aa01@deskbridge.localhost>",
                        "subject": "Re: 商品詳細に関するお問い合わせ (503-1234567-1234567)", "status": "5.7.26",
                        "detail": "smtp; 550-5.7.26 Unauthenticated email is not accepted due to DMARC policy"},
        },
    )  # fmt: skip


def main() -> None:
    for fx in fixtures():
        folder = HERE / fx.cc
        folder.mkdir(exist_ok=True)
        (folder / f"{fx.name}.eml").write_bytes(fx.message())
        call = {
            "forwarding_address": forwarding(fx.cc)
            if fx.forwarding_address == "default"
            else fx.forwarding_address
        }
        document = {"call": call, "expect": fx.expect}
        (folder / f"{fx.name}.expected.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
