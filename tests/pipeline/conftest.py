"""The pipeline's tests use the Orders fixtures of tests/amazon (the sandbox over loopback)."""

from tests.amazon.conftest import eu_account, fresh_buckets, sandbox_orders, wire

__all__ = ["eu_account", "fresh_buckets", "sandbox_orders", "wire"]
