"""What deskbridge writes on a ticket as an internal note when a reply did not simply go out: the
agent reads why, and what to do. One function per situation, plain text."""

from __future__ import annotations

from typing import Any

from deskbridge.amazon.mail import FailureReason
from deskbridge.pipeline.models import OutboundReply

SIGNATURE = "— deskbridge"

# What the agent can do about each reason Amazon gives for not delivering a reply (amazon.md §12.12, §13).
WHAT_TO_DO: dict[str, str] = {
    FailureReason.OPTED_OUT: (
        "The buyer opted out of messages that are not needed to complete the order. Reply in the buyer's own "
        "thread (answer their latest message) and only about the order."
    ),
    FailureReason.UNAUTHORIZED_SENDER: (
        "Amazon does not accept mail from this marketplace's forwarding address yet. In Seller Central, open "
        "Settings → Notification Preferences → Messaging Permissions and approve the address, then send the "
        "reply again."
    ),
    FailureReason.CONTENT_REJECTED: (
        "Amazon found something its messaging guidelines do not allow: links outside Amazon, email addresses, "
        "phone numbers, marketing or review requests. Remove it and send the reply again."
    ),
    FailureReason.ACCOUNT_RESTRICTED: (
        "Amazon restricted this seller account's messages. Check Account Health and the messages from Amazon in "
        "Seller Central."
    ),
    FailureReason.AUTH_FAILED: (
        "Amazon could not verify that the reply came from your domain (SPF, DKIM or DMARC). An administrator "
        "should run `deskbridge doctor` and fix the DNS records it names."
    ),
    FailureReason.UNKNOWN_RECIPIENT: (
        "The buyer's address is no longer valid (the order or the thread may be too old). Answer from the "
        "order's page in Seller Central."
    ),
    FailureReason.UNKNOWN: "Check the message in Seller Central's Buyer-Seller Messages, then try again.",
}


def _quote(reply: OutboundReply) -> str:
    text = (reply.text or "").strip()
    first = text.splitlines()[0] if text else ""
    return f'Your reply "{first[:80]}{"…" if len(first) > 80 else ""}"'


def blocked(reply: OutboundReply, findings: list[dict[str, Any]]) -> str:
    lines = [f"{_quote(reply)} was NOT sent to the buyer: it breaks Amazon's messaging rules."]
    for finding in findings:
        mark = "Blocks sending" if finding["severity"] == "block" else "Warning"
        lines.append(f"• {mark}: {finding['explanation']} (found: {finding['excerpt']})")
    lines += ["Edit the reply and send it again.", SIGNATURE]
    return "\n".join(lines)


def sent_with_warnings(reply: OutboundReply, findings: list[dict[str, Any]]) -> str:
    lines = [f"{_quote(reply)} was sent to the buyer, with warnings:"]
    lines += [f"• {f['explanation']} (found: {f['excerpt']})" for f in findings]
    lines.append(SIGNATURE)
    return "\n".join(lines)


def failed(reply: OutboundReply, error: str) -> str:
    return "\n".join(
        [
            f"{_quote(reply)} could not be sent: Amazon's mail server refused it.",
            f"Its answer: {error}",
            SIGNATURE,
        ]
    )


def maybe_sent(reply: OutboundReply) -> str:
    return "\n".join(
        [
            f"{_quote(reply)} may or may not have reached the buyer: deskbridge stopped while handing it to "
            "Amazon and cannot tell whether Amazon took it.",
            "Check Buyer-Seller Messages in Seller Central; send it again only if it is not there.",
            SIGNATURE,
        ]
    )


def refused(reply: OutboundReply | None, reason: str, detail: str) -> str:
    what = _quote(reply) if reply is not None else "A reply to this buyer"
    lines = [f"{what} did NOT reach the buyer: Amazon refused it."]
    if detail:
        lines.append(f"Amazon's words: {detail}")
    lines += [WHAT_TO_DO.get(reason, WHAT_TO_DO[FailureReason.UNKNOWN]), SIGNATURE]
    return "\n".join(lines)


def seller_central_copy(text: str) -> str:
    return "\n".join(["Sent from Seller Central (not through this helpdesk):", "", text.strip(), SIGNATURE])
