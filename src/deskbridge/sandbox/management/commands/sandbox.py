"""`deskbridge sandbox serve | buyer-message | sign`: the emulators alone, and the sandbox Amazon's mail."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskbridge.amazon.models import MarketplaceConnection
from deskbridge.core.processes import migrate, run_web
from deskbridge.sandbox.amazon import mail
from deskbridge.sandbox.amazon.models import SandboxBuyerAlias
from deskbridge.sandbox.amazon.relay import relay_smtp


class Command(BaseCommand):
    help = (
        "The sandbox: serve the emulators alone, send a sandbox Amazon buyer message, or DKIM-sign a message."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{serve,buyer-message,sign}"
        )
        serve = commands.add_parser(
            "serve", help="serve the emulators (the web app with the sandbox mounted)"
        )
        serve.add_argument("--port", type=int, help="port (default DESKBRIDGE_WEB_PORT)")
        serve.add_argument("--host", help="address (default DESKBRIDGE_WEB_HOST)")

        buyer = commands.add_parser(
            "buyer-message",
            help="send a sandbox-DKIM-signed Amazon buyer message to this installation's receiver",
        )
        buyer.add_argument("--to", required=True, help="a forwarding address of this installation")
        buyer.add_argument("--order", required=True, help="the Amazon order id, like 111-1234567-1234567")
        buyer.add_argument("--text", required=True, help="what the buyer wrote")
        buyer.add_argument(
            "--lang", choices=sorted(mail.TEMPLATES), help="template language (default: the marketplace's)"
        )
        buyer.add_argument("--name", help="the buyer's first name (default: one chosen per order)")
        buyer.add_argument(
            "--attach", action="append", default=[], metavar="FILE", help="attach a file (repeatable)"
        )

        commands.add_parser(
            "sign",
            help="read a message on stdin, write it DKIM-signed as the sandbox Amazon (d= its From domain) to stdout",
        )

        # For tests and demos, outside DESIGN.md's list (so not in --help): a buyer opts out of
        # unsolicited messages, and the relay refuses them.
        opt_out = commands.add_parser(
            "buyer-opt-out", description="Mark a sandbox buyer alias as opted out of unsolicited messages."
        )
        opt_out.add_argument("alias", help="the buyer's relay alias, like abc@marketplace.amazon.com")
        opt_out.add_argument("--undo", action="store_true", help="opt the buyer back in")

    def handle(self, *args, subcommand: str, **options) -> None:
        try:
            if subcommand == "serve":
                self.serve(options.get("host"), options.get("port"))
            elif subcommand == "buyer-message":
                self.buyer_message(**options)
            elif subcommand == "buyer-opt-out":
                self.buyer_opt_out(options["alias"], opted_out=not options["undo"])
            else:
                self.sign()
        except mail.SandboxMailError as exc:
            raise CommandError(str(exc)) from None

    def serve(self, host: str | None, port: int | None) -> None:
        if not settings.SANDBOX_ENABLED:
            raise CommandError(
                "the sandbox is off in this installation: set DESKBRIDGE_SANDBOX=1 (or unset "
                "DESKBRIDGE_SECRET_KEY for a throwaway demo configuration)"
            )
        migrate()
        where = f"http://{host or settings.WEB_HOST}:{port or settings.WEB_PORT}/sandbox/"
        self.stdout.write(f"deskbridge sandbox is running at {where}\n")
        relay = relay_smtp()
        self.stdout.write(f"  its Amazon relay takes SMTP at {relay['host']}:{relay['port']}\n")
        self.stdout.flush()
        run_web(host=host, port=port, with_smtp=False, with_relay=True)

    def buyer_message(
        self, *, to: str, order: str, text: str, lang: str | None, name: str | None, **options
    ) -> None:
        address = to.strip().lower()
        connection = (
            MarketplaceConnection.objects.select_related("account").filter(forwarding_address=address).first()
        )
        if connection is None:
            raise CommandError(
                f"{to} is not a forwarding address of this installation (demo.json lists the demo's addresses)"
            )
        attachments = [Path(p) for p in options.get("attach") or []]
        for path in attachments:
            if not path.is_file():
                raise CommandError(f"cannot attach {path}: no such file")
        marketplace = connection.marketplace
        message = mail.compose_buyer_message(
            to=address,
            marketplace=marketplace,
            seller_id=connection.account.selling_partner_id,
            order_id=order.strip(),
            text=text,
            language=lang,
            attachments=attachments,
            name=name,
        )
        if not settings.SANDBOX_ENABLED:
            self.stderr.write(
                "note: this installation does not run the sandbox, so its receiver will not accept the "
                "sandbox Amazon's signature when DESKBRIDGE_INBOUND_AUTH=enforce\n"
            )
        mail.remember_buyer_alias(
            message["From"].addresses[0].addr_spec, connection.account.selling_partner_id, marketplace
        )
        signed = mail.sign(message.as_bytes())
        reply = mail.send(signed, mail.envelope_sender(marketplace), address)
        self.stdout.write(f"sent {message['Message-ID']} to {address}: {reply}\n")

    def buyer_opt_out(self, alias: str, *, opted_out: bool) -> None:
        try:
            found = SandboxBuyerAlias.set_opted_out(alias, opted_out)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        state = "opted out of" if found.opted_out else "opted in to"
        self.stdout.write(f"{found.alias} has {state} unsolicited seller messages\n")

    def sign(self) -> None:
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("no message on standard input")
        signed = mail.sign(raw)
        sys.stdout.buffer.write(signed)
        sys.stdout.buffer.flush()
