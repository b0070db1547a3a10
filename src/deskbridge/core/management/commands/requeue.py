from django.core.management.base import BaseCommand, CommandError

from deskbridge.pipeline.workrows import WorkState, work_row_models


class Command(BaseCommand):
    help = "Give failed work rows a fresh set of attempts: all of them, one kind, or one row."

    def add_arguments(self, parser):
        kinds = ", ".join(m.label() for m in work_row_models()) or "none yet"
        parser.add_argument("--kind", help=f"one kind of work row ({kinds})")
        parser.add_argument("--id", type=int, help="one row (needs --kind)")

    def handle(self, *args, kind=None, id=None, **options):
        models = {m.label(): m for m in work_row_models()}
        if kind is not None and kind not in models:
            raise CommandError(f"no kind of work row called {kind!r}; known: {', '.join(models) or 'none'}.")
        if id is not None and kind is None:
            raise CommandError("--id needs --kind.")
        count = 0
        for label, model in models.items():
            if kind and label != kind:
                continue
            rows = model.objects.filter(state=WorkState.FAILED)
            if id is not None:
                rows = rows.filter(pk=id)
            for row in rows:
                row.requeue()
                count += 1
        if id is not None and not count:
            raise CommandError(f"{kind} #{id} is not a failed row.")
        self.stdout.write(f"requeued {count} failed row(s).")
