import secrets

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a fresh DESKBRIDGE_SECRET_KEY and DESKBRIDGE_ENCRYPTION_KEYS for a .env file."

    def handle(self, *args, **options):
        self.stdout.write(f"DESKBRIDGE_SECRET_KEY={secrets.token_urlsafe(50)}")
        self.stdout.write(f"DESKBRIDGE_ENCRYPTION_KEYS={Fernet.generate_key().decode()}")
