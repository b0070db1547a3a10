from django.core.management.base import BaseCommand

from deskbridge.pipeline.workrows import reconcile


class Command(BaseCommand):
    help = (
        "Re-enqueue work rows whose lease expired or whose retry is due (the worker does this each minute)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"re-enqueued {reconcile()} work row(s).")
