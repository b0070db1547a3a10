"""The helpdesks deskbridge can deliver to, and which of them have a working connector yet."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskbridge.helpdesks.base import Connector


@dataclass(frozen=True)
class Helpdesk:
    kind: str
    name: str
    # Re:amaze files everything under a brand/channel: the wizard asks which one per Amazon account.
    asks_for_channel: bool = False
    # "module:Class" of its connector; None until one exists.
    connector: str | None = None

    @property
    def available(self) -> bool:
        return self.connector is not None


HELPDESKS: tuple[Helpdesk, ...] = (
    Helpdesk("zendesk", "Zendesk", connector="deskbridge.helpdesks.zendesk.connector:ZendeskConnector"),
    Helpdesk("freshdesk", "Freshdesk"),
    Helpdesk(
        "helpscout", "Help Scout", connector="deskbridge.helpdesks.helpscout.connector:HelpScoutConnector"
    ),
    Helpdesk("gorgias", "Gorgias", connector="deskbridge.helpdesks.gorgias.connector:GorgiasConnector"),
    Helpdesk("reamaze", "Re:amaze", asks_for_channel=True),
    Helpdesk("zohodesk", "Zoho Desk"),
    Helpdesk("kustomer", "Kustomer", connector="deskbridge.helpdesks.kustomer.connector:KustomerConnector"),
    Helpdesk("onsite", "Onsite"),
)
BY_KIND = {h.kind: h for h in HELPDESKS}


def available() -> list[Helpdesk]:
    return [h for h in HELPDESKS if h.available]


def connector_class(kind: str) -> type[Connector]:
    helpdesk = BY_KIND[kind]
    if helpdesk.connector is None:
        raise LookupError(f"no connector for {kind}")
    module, _, name = helpdesk.connector.partition(":")
    cls: type[Connector] = getattr(import_module(module), name)
    return cls
