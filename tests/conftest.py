"""Shared fixtures: organisations with people in them, and logged-in clients."""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client

from deskbridge.core.models import Membership, Organisation, Role, User

PASSWORD = "correct horse battery staple 42"
_serial = itertools.count(1)


@dataclass
class Tenant:
    organisation: Organisation
    owner: User
    admin: User
    agent: User

    def client(self, role: str = Role.OWNER) -> Client:
        client = Client()
        client.force_login(getattr(self, role))
        return client


def make_tenant(name: str | None = None) -> Tenant:
    n = next(_serial)
    organisation = Organisation.objects.create(name=name or f"Shop {n}")
    people = {}
    for role in (Role.OWNER, Role.ADMIN, Role.AGENT):
        user = User.objects.create_user(f"{role}{n}@example.com", PASSWORD)
        Membership.objects.create(organisation=organisation, user=user, role=role)
        people[str(role)] = user
    return Tenant(organisation, **people)


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant()


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant()


@contextlib.contextmanager
def uvicorn_in_thread() -> Iterator[str]:
    """deskbridge served by uvicorn over loopback, in a thread of this process; yields its URL.

    The server's requests close their database connections as they end, so none is left open
    in its threads (PostgreSQL would refuse to drop the test database).
    """
    db = connections[DEFAULT_DB_ALIAS].settings_dict
    max_age, db["CONN_MAX_AGE"] = db["CONN_MAX_AGE"], 0
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound before the thread starts: no other process can take the port
    config = uvicorn.Config("deskbridge.asgi:application", lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        db["CONN_MAX_AGE"] = max_age


@pytest.fixture
def live_url(transactional_db, settings) -> Iterator[str]:
    """A real server on the test database; PUBLIC_URL points at it, so the sandbox Amazon does too."""
    with uvicorn_in_thread() as url:
        settings.PUBLIC_URL = url
        yield url
