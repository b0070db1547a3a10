from django.core.management.base import BaseCommand

from deskbridge.core.jobs import Worker


class Command(BaseCommand):
    help = "Run the job worker. --periodic also runs the reconciler (on exactly one node)."

    def add_arguments(self, parser):
        parser.add_argument("--periodic", action="store_true", help="run periodic jobs (the reconciler)")
        parser.add_argument("--threads", type=int, help="worker threads (default DESKBRIDGE_WORKER_THREADS)")

    def handle(self, *args, periodic=False, threads=None, **options):
        Worker(threads=threads, periodic=periodic).run()
