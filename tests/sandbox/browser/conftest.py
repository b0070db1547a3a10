"""Browser tests of the sandbox Amazon: the project's Chromium/uvicorn fixtures (tests/e2e), reused."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import clear_url_caches

from deskbridge.sandbox.amazon.seed import seed_sandbox_sellers
from tests.e2e.conftest import (  # noqa: F401 (fixtures)
    _allow_orm_beside_playwright,
    _committed_db,
    browser,
    browser_context_args,
    browser_type,
    browser_type_launch_args,
    console,
    launch_browser,
    playwright,
    server_url,
)


def _reload_urls() -> None:
    clear_url_caches()
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))


@pytest.fixture
def sandbox_live(server_url: str) -> Iterator[str]:  # noqa: F811
    """The sandbox mounted in the served app, its sellers seeded, PUBLIC_URL = the server's URL."""
    with override_settings(SANDBOX_ENABLED=True, PUBLIC_URL=server_url):
        _reload_urls()
        seed_sandbox_sellers()
        yield server_url
    _reload_urls()
