"""Passwords are hashed with argon2 in production (tests use the same algorithm at lower cost)."""

import deskbridge.settings as production


def test_production_hashes_new_passwords_with_argon2():
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
