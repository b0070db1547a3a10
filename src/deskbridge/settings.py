"""deskbridge's one settings module: everything comes from DESKBRIDGE_* environment variables."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from dotenv import load_dotenv

from deskbridge.errors import SettingsError

load_dotenv(Path.cwd() / ".env")

PACKAGE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"DESKBRIDGE_{name}", default).strip()


def env_int(name: str, default: int) -> int:
    raw = env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"DESKBRIDGE_{name} must be a whole number, not {raw!r}.") from None


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


# demo mode is set by `deskbridge demo` (and the test settings) before settings load.
DEMO = env_bool("DEMO")
DATA_DIR = Path(env("DATA_DIR", "./var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _demo_secret(name: str, make) -> str:
    """Demo installs keep generated secrets in the data dir so a restart can still decrypt."""
    path = DATA_DIR / f".demo-{name}"
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEMO:
        raise SettingsError(
            "DESKBRIDGE_SECRET_KEY is not set: set it to a long random string "
            "(`deskbridge generate-keys` prints one)."
        )
    SECRET_KEY = _demo_secret("secret-key", lambda: secrets.token_urlsafe(50))

ENCRYPTION_KEYS = [k.strip() for k in env("ENCRYPTION_KEYS").split(",") if k.strip()]
if not ENCRYPTION_KEYS:
    if not DEMO:
        raise SettingsError(
            "DESKBRIDGE_ENCRYPTION_KEYS is not set: set it to one or more Fernet keys, "
            "newest first, comma-separated (`deskbridge generate-keys` prints one)."
        )
    ENCRYPTION_KEYS = [_demo_secret("encryption-key", _new_fernet_key)]


def _check_fernet_keys(keys: list[str]) -> None:
    from cryptography.fernet import Fernet

    for position, key in enumerate(keys, 1):
        try:
            Fernet(key.encode())
        except ValueError:
            raise SettingsError(
                f"DESKBRIDGE_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; `deskbridge generate-keys` prints one)."
            ) from None


_check_fernet_keys(ENCRYPTION_KEYS)


def _database(url: str) -> dict:
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "deskbridge.sqlite3")}
    scheme = urlparse(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise SettingsError(
            f"DESKBRIDGE_DATABASE_URL must start with sqlite:// or postgresql://, not {scheme!r}."
        )
    try:
        config = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    except ValueError as exc:
        raise SettingsError(f"DESKBRIDGE_DATABASE_URL could not be read: {str(exc).rstrip('.')}.") from None
    if not config.get("NAME"):
        raise SettingsError("DESKBRIDGE_DATABASE_URL names no database (add /dbname at the end).")
    return config


DATABASES = {"default": _database(env("DATABASE_URL"))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web, SMTP and worker threads read while one writes; IMMEDIATE avoids
    # the upgrade deadlock of deferred transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"].pop("CONN_HEALTH_CHECKS", None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

QUEUE_URL = env("QUEUE_URL")
if QUEUE_URL and urlparse(QUEUE_URL).scheme not in {"redis", "rediss", "sqlite"}:
    raise SettingsError(
        "DESKBRIDGE_QUEUE_URL must be empty (embedded queue), sqlite:///path or redis://host:port/db."
    )
QUEUE_NAME = env("QUEUE_NAME", "deskbridge")

INBOUND_DOMAIN = env("INBOUND_DOMAIN", "deskbridge.localhost").lower()
WEB_HOST = env("WEB_HOST", "127.0.0.1")
WEB_PORT = env_int("WEB_PORT", 8000)

# The SMTP receiver (`deskbridge smtpd`, and part of `serve` and `demo`) and the raw-MIME intake.
# SMTP_HOST/SMTP_PORT: where it listens (`sandbox buyer-message` sends there too).
# SMTP_MAX_SIZE: the largest message taken, in bytes; advertised as SIZE in EHLO, larger ones get
#   552 5.3.4 (and 413 from POST /intake/mime).
# SMTP_TLS_CERT/SMTP_TLS_KEY: PEM files; when a certificate is set the receiver offers STARTTLS
#   (the key may sit in the certificate's file).
# INTAKE_SECRET: the bearer token of POST /intake/mime; unset, that endpoint refuses everything.
SMTP_HOST = env("SMTP_HOST", "127.0.0.1")
SMTP_PORT = env_int("SMTP_PORT", 2525)
SMTP_MAX_SIZE = env_int("SMTP_MAX_SIZE", 40 * 1024 * 1024)
if SMTP_MAX_SIZE < 1024:
    raise SettingsError("DESKBRIDGE_SMTP_MAX_SIZE is in bytes and must be at least 1024.")
SMTP_TLS_CERT = env("SMTP_TLS_CERT")
SMTP_TLS_KEY = env("SMTP_TLS_KEY")
if SMTP_TLS_KEY and not SMTP_TLS_CERT:
    raise SettingsError("DESKBRIDGE_SMTP_TLS_KEY is set without DESKBRIDGE_SMTP_TLS_CERT: set both.")
INTAKE_SECRET = env("INTAKE_SECRET")
if INTAKE_SECRET and len(INTAKE_SECRET) < 24:
    raise SettingsError(
        "DESKBRIDGE_INTAKE_SECRET must be at least 24 random characters (for example the output of "
        "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`), or unset to turn "
        "POST /intake/mime off."
    )

PUBLIC_URL = env("PUBLIC_URL", f"http://{WEB_HOST}:{WEB_PORT}").rstrip("/")
INBOUND_AUTH = env("INBOUND_AUTH", "enforce")
if INBOUND_AUTH not in {"enforce", "report"}:
    raise SettingsError("DESKBRIDGE_INBOUND_AUTH must be 'enforce' or 'report'.")

# The Selling Partner API application. Without one, the demo uses the sandbox Amazon.
AMAZON_APP_ID = env("AMAZON_APP_ID")
AMAZON_LWA_CLIENT_ID = env("AMAZON_LWA_CLIENT_ID")
AMAZON_LWA_CLIENT_SECRET = env("AMAZON_LWA_CLIENT_SECRET")
AMAZON_APP_DRAFT = env_bool("AMAZON_APP_DRAFT")
# Endpoint overrides (for the sandbox): one Seller Central base for every marketplace, the LWA
# token URL, and the SP-API base with a {region} placeholder (na, eu, fe).
AMAZON_SELLER_CENTRAL_URL = env("AMAZON_SELLER_CENTRAL_URL")
AMAZON_LWA_TOKEN_URL = env("AMAZON_LWA_TOKEN_URL", "https://api.amazon.com/auth/o2/token")
AMAZON_SPAPI_URL = env("AMAZON_SPAPI_URL")
SANDBOX_ENABLED = DEMO or env_bool("SANDBOX")
SANDBOX_SPAPI_LATENCY_MS = max(0, env_int("SANDBOX_SPAPI_LATENCY_MS", 0))  # per emulated SP-API call
SANDBOX_RELAY_PORT = env_int("SANDBOX_RELAY_PORT", 2526)  # the sandbox Amazon relay, on SMTP_HOST
# Replies to buyers go to Amazon's relay: to the MX of the alias's relay domain, or through this
# smart host when set; in sandbox mode the sandbox relay, unless SMTP_RELAY_HOST says otherwise.
SMTP_RELAY_HOST = env("SMTP_RELAY_HOST")
SMTP_RELAY_PORT = env_int("SMTP_RELAY_PORT", 25)
if SANDBOX_ENABLED and not SMTP_RELAY_HOST:
    SMTP_RELAY_HOST = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(SMTP_HOST, SMTP_HOST)  # noqa: S104
    SMTP_RELAY_PORT = env_int("SMTP_RELAY_PORT", SANDBOX_RELAY_PORT)
if SANDBOX_ENABLED and not AMAZON_APP_ID:
    from deskbridge.sandbox.amazon import app as _sandbox

    AMAZON_APP_ID = _sandbox.SANDBOX_APP_ID
    AMAZON_LWA_CLIENT_ID = _sandbox.SANDBOX_LWA_CLIENT_ID
    AMAZON_LWA_CLIENT_SECRET = _sandbox.SANDBOX_LWA_CLIENT_SECRET
    AMAZON_APP_DRAFT = _sandbox.SANDBOX_APP_IS_DRAFT
    # Paths, not URLs: deskbridge.amazon.endpoints puts PUBLIC_URL in front when it calls them.
    AMAZON_SELLER_CENTRAL_URL = AMAZON_SELLER_CENTRAL_URL or _sandbox.SELLER_CENTRAL_PATH
    AMAZON_LWA_TOKEN_URL = _sandbox.LWA_TOKEN_PATH
    AMAZON_SPAPI_URL = AMAZON_SPAPI_URL or _sandbox.SPAPI_PATH

# Amazon orders beside buyer messages (deskbridge.amazon.snapshots, the pipeline's enrich step).
# ORDER_MAX_AGE_SECONDS: a cached order older than this is fetched again when a message needs it.
# ORDER_REFRESH_AFTER_SECONDS: a message arriving this long after the last fetch of an order whose
#   status can still change (not cancelled, not delivered) fetches it again.
# ORDER_WAIT_SECONDS: how long a message may wait for its order (an empty rate-limit bucket, another
#   message's fetch, Amazon's errors) before it goes on without it; the order is added later.
# ORDER_FETCH_ATTEMPTS: failed fetches in a row (5xx, timeouts, 429) before a message stops waiting.
# ORDER_SEARCH_DAYS: how far back searchOrders looks for a buyer's orders (messages without an
#   order id; needs the Direct-to-Consumer Delivery role, see deskbridge.amazon.buyers).
# SPAPI_TIMEOUT_SECONDS: the timeout of one SP-API request.
ORDER_MAX_AGE_SECONDS = env_int("ORDER_MAX_AGE_SECONDS", 3600)
ORDER_REFRESH_AFTER_SECONDS = env_int("ORDER_REFRESH_AFTER_SECONDS", 300)
ORDER_WAIT_SECONDS = env_int("ORDER_WAIT_SECONDS", 900)
ORDER_FETCH_ATTEMPTS = env_int("ORDER_FETCH_ATTEMPTS", 6)
ORDER_SEARCH_DAYS = env_int("ORDER_SEARCH_DAYS", 30)
SPAPI_TIMEOUT_SECONDS = env_int("SPAPI_TIMEOUT_SECONDS", 20)

# Outbound mail (agents' replies through Amazon's relay, deskbridge.mail.outbound): DKIM-signed
# for INBOUND_DOMAIN with the key in DKIM_KEY_FILE (default <DATA_DIR>/dkim.pem, made on first use;
# `deskbridge doctor` prints the TXT record to publish under DKIM_SELECTOR._domainkey.<domain>).
# SMTP_RELAY_VERIFY_TLS: check the smart host's certificate (MX hosts get opportunistic TLS).
DKIM_SELECTOR = env("DKIM_SELECTOR", "deskbridge")
DKIM_KEY_FILE = env("DKIM_KEY_FILE")
SMTP_RELAY_VERIFY_TLS = env_bool("SMTP_RELAY_VERIFY_TLS", True)
# SMTP_RELAY_LOOKUP_URL: a list of the messages the smart host accepted (JSON), read after a crash
# between its 250 and our record of it; unset, such a reply is not sent again and the agent is told.
SMTP_RELAY_LOOKUP_URL = env("SMTP_RELAY_LOOKUP_URL")
if SANDBOX_ENABLED and not SMTP_RELAY_LOOKUP_URL:
    SMTP_RELAY_LOOKUP_URL = "/sandbox/amazon/relay/messages.json"  # a path: PUBLIC_URL goes in front

# Helpdesks (deskbridge.helpdesks). HELPDESK_TIMEOUT_SECONDS: the timeout of one API request.
# DESKBRIDGE_<KIND>_API_BASE (e.g. DESKBRIDGE_ZENDESK_API_BASE): where that helpdesk's API is, with
#   the connection's settings as placeholders ("https://{subdomain}.zendesk.com"); unset, the real
#   host, or in sandbox mode the sandbox's emulator on PUBLIC_URL.
HELPDESK_TIMEOUT_SECONDS = env_int("HELPDESK_TIMEOUT_SECONDS", 20)
# deskbridge's own OAuth app at Help Scout (the authorization code grant of its connect page).
HELPSCOUT_CLIENT_ID = env("HELPSCOUT_CLIENT_ID")
HELPSCOUT_CLIENT_SECRET = env("HELPSCOUT_CLIENT_SECRET")
if SANDBOX_ENABLED and not HELPSCOUT_CLIENT_ID:
    from deskbridge.sandbox.helpdesks import helpscout as _helpscout_sandbox

    HELPSCOUT_CLIENT_ID = _helpscout_sandbox.SANDBOX_CLIENT_ID
    HELPSCOUT_CLIENT_SECRET = _helpscout_sandbox.SANDBOX_CLIENT_SECRET
HELPDESK_API_BASES = {
    kind: env(f"{kind.upper()}_API_BASE")
    for kind in ("zendesk", "freshdesk", "helpscout", "gorgias", "reamaze", "zohodesk", "kustomer", "onsite")
    if env(f"{kind.upper()}_API_BASE")
}

# Work rows: how long a worker may hold one, and how often it is retried.
WORK_LEASE_SECONDS = env_int("WORK_LEASE_SECONDS", 300)
WORK_MAX_ATTEMPTS = env_int("WORK_MAX_ATTEMPTS", 8)
WORK_RETRY_BASE_SECONDS = env_int("WORK_RETRY_BASE_SECONDS", 30)
WORK_RETRY_MAX_SECONDS = env_int("WORK_RETRY_MAX_SECONDS", 6 * 3600)
WORKER_THREADS = env_int("WORKER_THREADS", 4)
# The same text from the same buyer about the same order within this time is one message.
DEDUPE_WINDOW_SECONDS = env_int("DEDUPE_WINDOW_SECONDS", 24 * 3600)
# A pending row whose wake-up has not run this long after it was due is re-enqueued.
WORK_STALE_SECONDS = env_int("WORK_STALE_SECONDS", 60)

DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL]

INSTALLED_APPS = [
    # First, so that our templates (registration/*.html) win over the admin's.
    "deskbridge.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "deskbridge.core",
    "deskbridge.amazon",
    "deskbridge.mail",
    "deskbridge.helpdesks",
    "deskbridge.pipeline",
    "deskbridge.sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "deskbridge.web.middleware.security_headers",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "deskbridge.core.tenancy.current_organisation",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "deskbridge.urls"
ASGI_APPLICATION = "deskbridge.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deskbridge.core.tenancy.organisation_context",
            ],
        },
    },
]

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: after 5 failures for one email from one address, 15 minutes' wait.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Security: cookies, headers, TLS (HSTS only when we are served over TLS).
SECURE_TLS = PUBLIC_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_TLS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 31536000 if SECURE_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_TLS
SECURE_SSL_REDIRECT = SECURE_TLS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # probes from inside the network speak plain HTTP
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload is the operator's own, irreversible choice
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)

# Outgoing mail of our own (password resets, invitations): an SMTP URL, or a folder in the data dir.
EMAIL_URL = env("EMAIL_URL")
DEFAULT_FROM_EMAIL = env("FROM_EMAIL", f"deskbridge <no-reply@{INBOUND_DOMAIN}>")
if EMAIL_URL:
    _mail = urlparse(EMAIL_URL)
    if _mail.scheme not in {"smtp", "smtps"} or not _mail.hostname:
        raise SettingsError("DESKBRIDGE_EMAIL_URL must look like smtp://user:pass@host:587.")
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname
    EMAIL_PORT = _mail.port or (465 if _mail.scheme == "smtps" else 587)
    EMAIL_HOST_USER = _mail.username or ""
    EMAIL_HOST_PASSWORD = _mail.password or ""
    EMAIL_USE_SSL = _mail.scheme == "smtps"
    EMAIL_USE_TLS = _mail.scheme == "smtp" and EMAIL_PORT == 587
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "outbox")

LOG_LEVEL = env("LOG_LEVEL", "INFO").upper()
LOGGING_CONFIG = None  # deskbridge.core.logs configures structlog and stdlib logging together.
