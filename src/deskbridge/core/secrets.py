"""Secrets at rest: a model field encrypted with MultiFernet over DESKBRIDGE_ENCRYPTION_KEYS."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connection, models

from deskbridge.errors import SettingsError


@cache
def keyring() -> MultiFernet:
    """The newest key encrypts; every listed key decrypts."""
    return MultiFernet([Fernet(key.encode()) for key in settings.ENCRYPTION_KEYS])


def encrypt(plain: str) -> str:
    return keyring().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return keyring().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SettingsError(
            "a stored secret cannot be decrypted with DESKBRIDGE_ENCRYPTION_KEYS: "
            "keep the old key in the list (after the new one) until `deskbridge rotate-keys` ran."
        ) from None


class EncryptedTextField(models.TextField):
    """Holds a secret as text in Python and as a Fernet token in the database."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[EncryptedTextField]]]:
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            yield model, fields


def rotate_all() -> int:
    """Re-encrypt every stored secret under the newest key; returns how many values changed.

    Each value is swapped only if it is still the token we read (compare-and-set), so a secret
    written concurrently under the new key is never overwritten with an older one.
    """
    ring = keyring()
    changed = 0
    quote = connection.ops.quote_name
    for model, fields in encrypted_fields():
        table, pk = quote(model._meta.db_table), quote(str(model._meta.pk.column))
        for field in fields:
            column = quote(str(field.column))
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
                rows = cursor.fetchall()
            for row_pk, token in rows:
                rotated = ring.rotate(token.encode()).decode()
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",  # noqa: S608
                        [rotated, row_pk, token],
                    )
                    changed += cursor.rowcount
    return changed
