from django.core.management.base import BaseCommand

from deskbridge.core.processes import run_smtp


class Command(BaseCommand):
    help = (
        "Run the SMTP receiver on DESKBRIDGE_SMTP_HOST:DESKBRIDGE_SMTP_PORT. For multi-machine installs; "
        "--lmtp speaks LMTP instead, for running behind Postfix (one reply per recipient)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP (RFC 2033) to a local MTA")
        parser.add_argument("--host", help="listen address (default DESKBRIDGE_SMTP_HOST)")
        parser.add_argument("--port", type=int, help="listen port (default DESKBRIDGE_SMTP_PORT)")
        parser.add_argument(
            "--unix", metavar="PATH", help="listen on a Unix socket instead (Postfix: lmtp:unix:PATH)"
        )
        parser.add_argument("--threads", type=int, help="threads that check and store messages (default 8)")
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="receiver processes sharing the port (SO_REUSEPORT), each on its own CPU; 0 for one per "
            "CPU (default 1). On SQLite they take turns writing; PostgreSQL takes them in parallel.",
        )

    def handle(
        self, *args, lmtp=False, host=None, port=None, unix=None, threads=None, processes=1, **options
    ):
        run_smtp(lmtp=lmtp, host=host, port=port, unix_path=unix, threads=threads, processes=processes)
