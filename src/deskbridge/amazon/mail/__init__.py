"""Understanding the mail Amazon forwards: classify it and read the buyer's message out of it.

Pure Python (no database, no network). `read_amazon_mail(raw)` never raises: a mail it cannot make
sense of still comes back, with its whole text and the flag "unparsed", so nothing is dropped.
"""

from deskbridge.amazon.mail.model import AmazonMail, AttachmentInfo, FailureInfo, FailureReason, MailClass
from deskbridge.amazon.mail.reader import attachment_payloads, classify, read_amazon_mail

__all__ = [
    "AmazonMail",
    "AttachmentInfo",
    "FailureInfo",
    "FailureReason",
    "MailClass",
    "attachment_payloads",
    "classify",
    "read_amazon_mail",
]
