"""The helpdesk tests use the sandbox Amazon's sellers and orders (tests/amazon) over loopback."""

from tests.amazon.conftest import eu_account, fresh_buckets, sandbox_orders

__all__ = ["eu_account", "fresh_buckets", "sandbox_orders"]
