from django.core.management.base import BaseCommand

from deskbridge.core.processes import run_web


class Command(BaseCommand):
    help = "Serve the web UI, webhooks and API (uvicorn). For multi-machine installs."

    def add_arguments(self, parser):
        parser.add_argument("--host")
        parser.add_argument("--port", type=int)

    def handle(self, *args, host=None, port=None, **options):
        run_web(host=host, port=port)
