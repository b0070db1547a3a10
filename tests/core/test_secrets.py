"""Secrets at rest: stored encrypted, readable with any listed key, rotated to the newest one."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from deskbridge.core import secrets
from deskbridge.errors import SettingsError
from tests.workapp.models import Vault

PLAIN = "refresh-token-Atzr|IwEBIexample"


def raw_secret(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM workapp_vault WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def keys(settings):
    """Install a fresh key list for one test, resetting the cached keyring around it."""

    def use(*new_keys: str) -> None:
        settings.ENCRYPTION_KEYS = list(new_keys)
        secrets.keyring.cache_clear()

    yield use
    secrets.keyring.cache_clear()


@pytest.mark.django_db
def test_a_secret_is_stored_encrypted_and_read_back_plain(tenant, keys):
    key = Fernet.generate_key().decode()
    keys(key)
    vault = Vault.objects.create(organisation=tenant.organisation, label="lwa", secret=PLAIN)
    stored = raw_secret(vault.pk)
    assert PLAIN not in stored
    assert Fernet(key.encode()).decrypt(stored.encode()).decode() == PLAIN
    assert Vault.objects.get(pk=vault.pk).secret == PLAIN


@pytest.mark.django_db
def test_rotate_keys_re_encrypts_everything_under_the_newest_key(tenant, keys, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    vaults = [
        Vault.objects.create(organisation=tenant.organisation, label=str(i), secret=f"{PLAIN}{i}")
        for i in range(3)
    ]
    Vault.objects.create(organisation=tenant.organisation, label="empty", secret=None)

    keys(new, old)  # the new key first; the old one still decrypts
    assert [Vault.objects.get(pk=v.pk).secret for v in vaults] == [f"{PLAIN}{i}" for i in range(3)]
    call_command("rotate_keys")
    assert "re-encrypted 3 secret(s)" in capsys.readouterr().out

    keys(new)  # the old key can now be dropped
    assert [Vault.objects.get(pk=v.pk).secret for v in vaults] == [f"{PLAIN}{i}" for i in range(3)]
    for vault in vaults:
        Fernet(new.encode()).decrypt(raw_secret(vault.pk).encode())


@pytest.mark.django_db
def test_a_secret_under_an_unlisted_key_gives_a_clear_error(tenant, keys):
    keys(Fernet.generate_key().decode())
    vault = Vault.objects.create(organisation=tenant.organisation, label="x", secret=PLAIN)
    keys(Fernet.generate_key().decode())
    with pytest.raises(SettingsError, match="cannot be decrypted"):
        Vault.objects.get(pk=vault.pk)
