from __future__ import annotations

from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from deskbridge.core import jobs, secrets


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    unapplied = MigrationExecutor(connection).migration_plan(
        MigrationExecutor(connection).loader.graph.leaf_nodes()
    )
    if unapplied:
        raise RuntimeError(f"{len(unapplied)} migration(s) not applied: run `deskbridge migrate`")
    return f"{connection.vendor}, migrations applied"


def check_queue() -> str:
    return f"{type(jobs.HUEY).__name__}, {jobs.ping()} wake-up(s) waiting"


def check_secrets() -> str:
    count = 0
    for model, fields in secrets.encrypted_fields():
        names = [f.attname for f in fields]
        for row in model._base_manager.only("pk", *names).iterator():
            for name in names:
                getattr(row, name)  # decrypts, or raises with what to do
                count += 1
    return f"{len(secrets.keyring()._fernets)} key(s); {count} stored secret(s) decrypt"


def check_outbound_dkim() -> str:
    """Our replies are DKIM-signed for the inbound domain: the public key must be in its DNS."""
    from django.conf import settings

    from deskbridge.mail import outbound
    from deskbridge.mail.resolvers import dns_resolve

    name, record = outbound.dkim_record()
    if settings.SANDBOX_ENABLED:
        return f"sandbox: replies are signed; publish TXT {name} in production"
    published = dns_resolve(name, "TXT")
    if record not in published:
        raise RuntimeError(
            f'publish this TXT record so that Amazon can verify our replies: {name} "{record}"'
        )
    return f"{name} published"


class Command(BaseCommand):
    help = "Check that this installation's database, queue and keys work, and say what to fix."

    checks: list[tuple[str, Callable[[], str]]] = [
        ("database", check_database),
        ("queue", check_queue),
        ("secrets", check_secrets),
        ("outbound DKIM", check_outbound_dkim),
    ]

    def handle(self, *args, **options):
        failed = []
        for name, check in self.checks:
            try:
                self.stdout.write(f"ok    {name}: {check()}")
            except Exception as exc:
                failed.append(f"{name} ({exc})")
                self.stdout.write(f"FAIL  {name}: {exc}")
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {'; '.join(failed)}")
