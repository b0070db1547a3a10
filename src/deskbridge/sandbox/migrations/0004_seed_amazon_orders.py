"""Seed the sandbox sellers' orders, so the emulated Orders API has something to answer at once."""

from django.db import migrations


def seed(apps, schema_editor):
    from deskbridge.sandbox.amazon.orders_seed import seed_sandbox_orders

    seed_sandbox_orders(apps)


class Migration(migrations.Migration):
    dependencies = [("sandbox", "0003_orders")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
