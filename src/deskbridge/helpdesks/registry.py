"""The helpdesks deskbridge can deliver to, and which of them have a working connector yet."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Helpdesk:
    kind: str
    name: str
    # Re:amaze files everything under a brand/channel: the wizard asks which one per Amazon account.
    asks_for_channel: bool = False
    # The URL name of its connect page once a connector exists; None until then.
    connect_url_name: str | None = None

    @property
    def available(self) -> bool:
        return self.connect_url_name is not None


HELPDESKS: tuple[Helpdesk, ...] = (
    Helpdesk("zendesk", "Zendesk"),
    Helpdesk("freshdesk", "Freshdesk"),
    Helpdesk("helpscout", "Help Scout"),
    Helpdesk("gorgias", "Gorgias"),
    Helpdesk("reamaze", "Re:amaze", asks_for_channel=True),
    Helpdesk("zohodesk", "Zoho Desk"),
    Helpdesk("kustomer", "Kustomer"),
    Helpdesk("onsite", "Onsite"),
)
BY_KIND = {h.kind: h for h in HELPDESKS}


def available() -> list[Helpdesk]:
    return [h for h in HELPDESKS if h.available]
