from django.core.management.base import BaseCommand

from deskbridge.core.processes import migrate, run_web


class Command(BaseCommand):
    help = "Run everything in one process (web + worker) for a single-machine install."

    def handle(self, *args, **options):
        migrate()
        run_web(with_worker=True)
