from django.conf import settings
from django.core.management.base import BaseCommand

from deskbridge.core.processes import migrate, run_web
from deskbridge.sandbox.demo import seed, write_demo_json


class Command(BaseCommand):
    help = "Everything in one process on SQLite, with the sandbox and a seeded demo organisation."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", help="where the demo keeps its state (default ./var)")

    def handle(self, *args, **options):
        migrate()
        login = seed()
        web_url = f"http://{settings.WEB_HOST}:{settings.WEB_PORT}"
        path = write_demo_json(login, web_url)
        self.stdout.write(
            f"deskbridge demo is running at {web_url}/\n"
            f"  log in as {login['email']} with password {login['password']}\n"
            f"  sandbox: {web_url}/sandbox/   details: {path}\n"
        )
        self.stdout.flush()
        run_web(with_worker=True)
