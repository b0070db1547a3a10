"""Bad configuration ends a command with one clear sentence on stderr, never a traceback."""

from __future__ import annotations

import os

import pytest

from tests.processes import run_plain

GOOD_KEY = "kD9w3zv8k3bO9JmO1e2b3eQ0S4m8mXQFQ0Qe4r1HcBQ="


@pytest.fixture
def clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKBRIDGE_", "DJANGO_"))}
    env["DESKBRIDGE_DATA_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = str(__import__("tests.processes").processes.ROOT / "src")
    return env


def one_sentence(result) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("deskbridge: ")
    return lines[0]


def test_missing_secret_key_is_refused_outside_demo(clean_env):
    line = one_sentence(run_plain("migrate", env=clean_env))
    assert "DESKBRIDGE_SECRET_KEY is not set" in line and "generate-keys" in line


def test_missing_encryption_keys_are_refused(clean_env):
    clean_env["DESKBRIDGE_SECRET_KEY"] = "x" * 50
    line = one_sentence(run_plain("serve", env=clean_env))
    assert "DESKBRIDGE_ENCRYPTION_KEYS is not set" in line


def test_a_malformed_encryption_key_is_named(clean_env):
    clean_env.update(DESKBRIDGE_SECRET_KEY="x" * 50, DESKBRIDGE_ENCRYPTION_KEYS=f"{GOOD_KEY},not-a-key")
    line = one_sentence(run_plain("migrate", env=clean_env))
    assert "key 2 is not a Fernet key" in line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@localhost/x", "must start with sqlite:// or postgresql://"),
        ("postgresql://", "names no database"),
        ("postgresql://u:p@host:notaport/db", "could not be read"),
        ("postgresql://postgres@127.0.0.1:1/nothing", "the database does not answer"),
    ],
)
def test_a_bad_database_url_gets_one_sentence(clean_env, url, expected):
    clean_env.update(
        DESKBRIDGE_SECRET_KEY="x" * 50, DESKBRIDGE_ENCRYPTION_KEYS=GOOD_KEY, DESKBRIDGE_DATABASE_URL=url
    )
    line = one_sentence(run_plain("migrate", env=clean_env))
    assert expected in line
    assert "DESKBRIDGE_DATABASE_URL" in line


def test_a_bad_queue_url_gets_one_sentence(clean_env):
    clean_env.update(
        DESKBRIDGE_SECRET_KEY="x" * 50, DESKBRIDGE_ENCRYPTION_KEYS=GOOD_KEY, DESKBRIDGE_QUEUE_URL="amqp://x"
    )
    assert "DESKBRIDGE_QUEUE_URL must be" in one_sentence(run_plain("worker", env=clean_env))


def test_generate_keys_needs_no_configuration(clean_env):
    result = run_plain("generate-keys", env=clean_env)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.split())
    assert len(lines["DESKBRIDGE_SECRET_KEY"]) >= 50
    from cryptography.fernet import Fernet

    Fernet(lines["DESKBRIDGE_ENCRYPTION_KEYS"].encode())  # a usable key
