from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deskbridge.core.processes import migrate, run_web
from deskbridge.helpdesks.http import HelpdeskError
from deskbridge.sandbox.demo import (
    DEFAULT_HELPDESK,
    connect_demo_helpdesk,
    demo_json_path,
    helpdesk_kinds,
    seed,
    write_demo_json,
)


class Command(BaseCommand):
    help = "Everything in one process on SQLite, with the sandbox and a seeded demo organisation."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", help="where the demo keeps its state (default ./var)")
        parser.add_argument(
            "--helpdesk",
            choices=helpdesk_kinds(),
            default=DEFAULT_HELPDESK,
            help=f"the sandbox helpdesk the demo delivers to (default {DEFAULT_HELPDESK})",
        )

    def handle(self, *args, helpdesk: str, **options):
        # demo.json appears only once the demo is ready: an earlier run's goes first.
        demo_json_path().unlink(missing_ok=True)
        migrate()
        login = seed()
        web_url = f"http://{settings.WEB_HOST}:{settings.WEB_PORT}"

        def when_up() -> None:
            """The helpdesk is connected through the sandbox's API, so only once the server answers."""
            try:
                block = connect_demo_helpdesk(login["organisation"], helpdesk)
            except HelpdeskError as exc:
                raise CommandError(f"could not connect the sandbox {helpdesk}: {exc}") from exc
            path = write_demo_json(login, web_url, helpdesk=block)
            self.stdout.write(
                f"deskbridge demo is running at {web_url}/\n"
                f"  log in as {login['email']} with password {login['password']}\n"
                f"  helpdesk: sandbox {helpdesk} at {block['page']}\n"
                f"  sandbox: {web_url}/sandbox/   details: {path}\n"
            )
            self.stdout.flush()

        run_web(with_worker=True, when_up=when_up)
