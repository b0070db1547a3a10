"""Every message of the Amazon mail corpus (tests/data/eml/) reads as its .expected.json says."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from deskbridge.amazon.mail import AmazonMail, MailClass, read_amazon_mail

CORPUS = Path(__file__).resolve().parents[1] / "data" / "eml"
MESSAGES = sorted(CORPUS.glob("*/*.eml"))


def _expected(path: Path) -> dict:
    return json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_message_reads_as_expected(path: Path) -> None:
    document = _expected(path)
    mail = read_amazon_mail(path.read_bytes(), **document["call"])
    actual = mail.to_json()
    expected = document["expect"]
    mismatches = {
        key: {"expected": value, "actual": actual.get(key, "<missing field>")}
        for key, value in expected.items()
        if actual.get(key, "<missing field>") != value
    }
    assert not mismatches, json.dumps(mismatches, ensure_ascii=False, indent=1)
    assert AmazonMail.from_json(json.loads(json.dumps(actual))) == mail


def test_every_message_has_its_expectations_and_provenance() -> None:
    for path in MESSAGES:
        assert path.with_suffix(".expected.json").exists(), path
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        assert b"X-Deskbridge-Fixture:" in head, path
        assert "mail_class" in _expected(path)["expect"], path


def test_corpus_covers_forty_messages_ten_marketplaces_and_every_class() -> None:
    classes = Counter(_expected(p)["expect"]["mail_class"] for p in MESSAGES)
    marketplaces = {p.parent.name for p in MESSAGES}
    assert len(MESSAGES) >= 40
    assert len(marketplaces) >= 10
    assert set(classes) == {c.value for c in MailClass}, classes
