"""Seed the sandbox Amazon's seller accounts, so a fresh demo can connect one at once."""

from django.db import migrations


def seed(apps, schema_editor):
    from deskbridge.sandbox.amazon.seed import seed_sandbox_sellers

    seed_sandbox_sellers(apps)


class Migration(migrations.Migration):
    dependencies = [("sandbox", "0001_amazon")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
