"""Test settings: deskbridge's own, plus a small app with a concrete work row and a secret."""

import os
import tempfile

os.environ.setdefault("DESKBRIDGE_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DESKBRIDGE_ENCRYPTION_KEYS", "kD9w3zv8k3bO9JmO1e2b3eQ0S4m8mXQFQ0Qe4r1HcBQ=")
# The sandbox Amazon is mounted and the Amazon settings point at it: tests never reach the real one.
os.environ.setdefault("DESKBRIDGE_SANDBOX", "1")
os.environ.setdefault("DESKBRIDGE_DATA_DIR", tempfile.mkdtemp(prefix="deskbridge-test-"))
# Each xdist worker gets its own queue name, so parallel runs on one Redis never share jobs.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or str(os.getpid())
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Set, not defaulted: xdist workers inherit the environment of the process that started them.
    os.environ["DESKBRIDGE_QUEUE_NAME"] = f"deskbridge-test-{_RUN}-{os.environ['PYTEST_XDIST_WORKER']}"
else:
    # A plain run, or a `deskbridge worker` a test started (it is handed the test's queue name).
    os.environ.setdefault("DESKBRIDGE_QUEUE_NAME", f"deskbridge-test-{_RUN}-main")

from deskbridge.settings import *  # noqa: F403
from deskbridge.settings import DATA_DIR, DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.workapp"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so that worker subprocesses see the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    # One name per test run (xdist workers share the run's id and add _gwN), so that two runs on
    # one PostgreSQL server never drop each other's test databases.
    DATABASES["default"]["TEST"] = {"NAME": f"test_deskbridge_{_RUN}"}

PASSWORD_HASHERS = ["tests.hashers.QuickArgon2PasswordHasher"]
