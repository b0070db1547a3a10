"""What provisioning creates in Zendesk for agent replies: the webhook, and the trigger that calls it."""

from __future__ import annotations

import json
from typing import Any

WEBHOOK_NAME = "deskbridge: agent replies"
TRIGGER_TITLE = "deskbridge: public agent reply"
# Every ticket deskbridge opens carries this tag; the trigger only fires on those tickets.
TAG = "deskbridge"

# Placeholders render as strings (payload README). `current_user` is whoever made the update: the
# agent for a reply, our API user for our own writes, which `read_webhook` drops.
BODY_TEMPLATE = json.dumps(
    {
        "ticket_id": "{{ticket.id}}",
        "external_id": "{{ticket.external_id}}",
        "requester_id": "{{ticket.requester.id}}",
        "author_id": "{{current_user.id}}",
        "latest_public_comment": "{{ticket.latest_public_comment}}",
    }
)


def conditions() -> dict[str, list[dict[str, str]]]:
    """A public comment added by someone who is not an end user, on a deskbridge ticket."""
    return {
        "all": [
            {"field": "update_type", "operator": "is", "value": "Change"},
            {"field": "comment_is_public", "operator": "is", "value": "true"},
            {"field": "role", "operator": "is_not", "value": "end_user"},
            {"field": "current_tags", "operator": "includes", "value": TAG},
        ],
        "any": [],
    }


def actions(webhook_id: str) -> list[dict[str, Any]]:
    return [{"field": "notification_webhook", "value": [webhook_id, BODY_TEMPLATE]}]


def webhook(endpoint: str) -> dict[str, Any]:
    return {
        "name": WEBHOOK_NAME,
        "description": "Agent replies on Amazon buyer tickets, sent to the buyer by deskbridge.",
        "endpoint": endpoint,
        "http_method": "POST",
        "request_format": "json",
        "status": "active",
        "subscriptions": ["conditional_ticket_events"],
    }


def trigger(webhook_id: str) -> dict[str, Any]:
    return {
        "title": TRIGGER_TITLE,
        "description": "Sends public agent replies on Amazon tickets to deskbridge.",
        "active": True,
        "conditions": conditions(),
        "actions": actions(webhook_id),
    }


def is_current(existing: dict[str, Any], webhook_id: str) -> bool:
    """Whether a trigger found by title already does what ours must (else it is updated)."""
    return (
        bool(existing.get("active"))
        and existing.get("conditions") == conditions()
        and existing.get("actions") == actions(webhook_id)
    )
