"""compose_reply: the email that carries an agent's reply to the buyer's relay alias, read back with
the standard library's parser."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from deskbridge.amazon.relay import MAX_ATTACHMENT_BYTES, compose_reply, reply_subject

FORWARDING = "amz-de-a1pa6795ukmfr9-a3th9s8bh6gogm@deskbridge.localhost"
ALIAS = "sz2y5ywh1qg1vhx+133a066e@marketplace.amazon.de"
BUYER_ID = "<0102018f3c9a7b2d-1234@eu-west-1.amazonses.com>"
SUBJECT = "Frage von Amazon-Kunde Jane (Bestellung: 303-1234567-1234567)"


def compose(**overrides):
    args = {
        "text": "Ihr Ersatz ist unterwegs.",
        "html": "",
        "subject": SUBJECT,
        "from_address": FORWARDING,
        "to_alias": ALIAS,
        "in_reply_to": BUYER_ID,
        "references": (),
        "attachments": [],
        "message_id_domain": "deskbridge.localhost",
    }
    args.update(overrides)
    return compose_reply(**args)


def parse(reply) -> EmailMessage:
    parsed = email.message_from_bytes(reply.message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_headers_read_back():
    reply = compose(references=("<older@amazon.de>",))
    parsed = parse(reply)
    assert re.fullmatch(r"<deskbridge\.[0-9a-f]{32}@deskbridge\.localhost>", reply.message_id)
    # A Message-ID longer than the line may be folded onto the next line (RFC 5322 allows it).
    assert parsed["Message-ID"].strip() == reply.message_id
    assert parsed["From"] == FORWARDING
    assert parsed["To"] == ALIAS
    assert parsed["Subject"] == f"Re: {SUBJECT}"
    assert parsed["In-Reply-To"] == BUYER_ID
    assert parsed["References"] == f"<older@amazon.de> {BUYER_ID}"
    assert parsedate_to_datetime(parsed["Date"]).tzinfo is not None
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed.get_content() == "Ihr Ersatz ist unterwegs.\n"


def test_every_reply_has_its_own_message_id():
    assert compose().message_id != compose().message_id


def test_the_sent_text_is_the_clean_text():
    reply = compose(
        text="Ihr Ersatz ist unterwegs.\n\nAm Mo., 3. Apr. 2023 um 10:00 Uhr schrieb Jane <j@x.de>:\n> Wo?",
    )
    assert reply.text == "Ihr Ersatz ist unterwegs."
    assert parse(reply).get_content() == "Ihr Ersatz ist unterwegs.\n"


def test_html_becomes_text_only():
    reply = compose(
        text="", html="<p>Hallo <b>Jane</b>,</p><ul><li>eins</li><li>zwei</li></ul><script>x()</script>"
    )
    parsed = parse(reply)
    assert parsed.get_content_type() == "text/plain"
    assert reply.text == "Hallo Jane,\n\n  * eins\n  * zwei"
    assert "<" not in parsed.get_content()


def test_non_ascii_text_survives_the_round_trip():
    words = "Paczka dotrze jutro. 包裹明天到。 الطرد يصل غدا. Größe 14/16 — ça marche"
    assert parse(compose(text=words)).get_content() == words + "\n"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (SUBJECT, f"Re: {SUBJECT}"),
        (f"Re: {SUBJECT}", f"Re: {SUBJECT}"),
        (f"RE: RE: {SUBJECT}", f"Re: {SUBJECT}"),
        (f"AW: {SUBJECT}", f"Re: {SUBJECT}"),
        (f"Aw: Re: {SUBJECT}", f"Re: {SUBJECT}"),
        ("Re[2]: Order question", "Re: Order question"),
        ("SV: Fråga", "Re: Fråga"),
        ("Odp: Pytanie", "Re: Pytanie"),
        ("回复：问题", "Re: 问题"),
        ("Repair kit question", "Re: Repair kit question"),
        ("Reserved item", "Re: Reserved item"),
        ("", "Re:"),
        ("Line one\r\nBcc: evil@example.com", "Re: Line one Bcc: evil@example.com"),
    ],
)
def test_subject_is_re_once(subject, expected):
    assert reply_subject(subject) == expected
    assert parse(compose(subject=subject))["Subject"] == expected


def test_no_parent_means_no_thread_headers():
    parsed = parse(compose(in_reply_to=None))
    assert parsed["In-Reply-To"] is None
    assert parsed["References"] is None


def test_message_ids_without_brackets_are_bracketed_and_junk_dropped():
    parsed = parse(compose(in_reply_to="abc@amazon.de", references=("not an id", "<x@y>")))
    assert parsed["In-Reply-To"] == "<abc@amazon.de>"
    assert parsed["References"] == "<x@y> <abc@amazon.de>"


@pytest.mark.parametrize(
    "field",
    [
        {"from_address": "not-an-address"},
        {"to_alias": "a@b\r\nBcc: x@y"},
        {"message_id_domain": "bad domain"},
    ],
)
def test_bad_addresses_are_a_clear_error(field):
    with pytest.raises(ValueError, match="not"):
        compose(**field)


# --- attachments (amazon.md §12.11) ---------------------------------------------------------------


def test_attachments_make_it_multipart_mixed_and_read_back():
    pdf = b"%PDF-1.4 label"
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    reply = compose(attachments=[("label.pdf", "application/pdf", pdf), ("photo.png", "image/png", png)])
    parsed = parse(reply)
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed.get_body(("plain",)).get_content() == "Ihr Ersatz ist unterwegs.\n"
    files = {
        part.get_filename(): (part.get_content_type(), part.get_content())
        for part in parsed.iter_attachments()
    }
    assert files == {"label.pdf": ("application/pdf", pdf), "photo.png": ("image/png", png)}
    assert reply.dropped_attachments == ()


def test_video_is_dropped_with_its_reason():
    reply = compose(
        attachments=[
            ("unboxing.mp4", "video/mp4", b"\x00" * 10),
            ("clip.mov", "application/octet-stream", b"\x00" * 10),
            ("photo.jpg", "image/jpeg", b"\xff\xd8\xff"),
        ]
    )
    names = [part.get_filename() for part in parse(reply).iter_attachments()]
    assert names == ["photo.jpg"]
    assert reply.dropped_attachments == (
        "unboxing.mp4: video cannot be sent through Amazon's relay",
        "clip.mov: video cannot be sent through Amazon's relay",
    )


def test_unsupported_types_are_dropped_and_generic_types_read_from_the_name():
    reply = compose(
        attachments=[
            ("setup.exe", "application/x-msdownload", b"MZ"),
            ("notes.txt", "application/octet-stream", b"hello"),
            ("archive.zip", "application/zip", b"PK"),
        ]
    )
    parsed = parse(reply)
    assert [(p.get_filename(), p.get_content_type()) for p in parsed.iter_attachments()] == [
        ("notes.txt", "text/plain")
    ]
    assert reply.dropped_attachments[0].startswith("setup.exe: Amazon does not take application/x-msdownload")
    assert reply.dropped_attachments[1].startswith("archive.zip: Amazon does not take application/zip")


def test_ten_megabytes_in_all():
    six = b"a" * (6 * 1000 * 1000)
    four = b"b" * (4 * 1000 * 1000)
    reply = compose(
        attachments=[
            ("one.pdf", "application/pdf", six),
            ("two.pdf", "application/pdf", six),
            ("three.pdf", "application/pdf", four),
        ]
    )
    kept = [part.get_filename() for part in parse(reply).iter_attachments()]
    assert kept == ["one.pdf", "three.pdf"]  # 6 + 4 = 10 MB exactly fits; 6 + 6 does not
    assert len(reply.dropped_attachments) == 1
    assert reply.dropped_attachments[0].startswith("two.pdf: 6,000,000 bytes would take the message over")
    assert sum(len(p.get_content()) for p in parse(reply).iter_attachments()) == MAX_ATTACHMENT_BYTES


def test_one_byte_over_ten_megabytes_is_dropped():
    reply = compose(attachments=[("big.pdf", "application/pdf", b"x" * (MAX_ATTACHMENT_BYTES + 1))])
    assert list(reply.message.iter_attachments()) == []
    assert reply.dropped_attachments[0].startswith("big.pdf:")


def test_filenames_lose_paths_and_line_breaks():
    reply = compose(
        attachments=[("../../etc/x\r\nBcc: y.pdf", "application/pdf", b"%PDF"), ("", "image/png", b"p")]
    )
    names = [p.get_filename() for p in parse(reply).iter_attachments()]
    assert names == ["xBcc: y.pdf", "attachment-2"]


def test_an_empty_reply_says_so():
    assert compose(text="   ").is_empty
    assert not compose(text="", attachments=[("a.png", "image/png", b"p")]).is_empty
    assert not compose().is_empty
