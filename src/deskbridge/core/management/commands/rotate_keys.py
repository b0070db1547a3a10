from django.core.management.base import BaseCommand

from deskbridge.core.secrets import rotate_all


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the newest key in DESKBRIDGE_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        changed = rotate_all()
        self.stdout.write(
            f"re-encrypted {changed} secret(s) under the newest key; "
            "older keys may now be removed from DESKBRIDGE_ENCRYPTION_KEYS."
        )
