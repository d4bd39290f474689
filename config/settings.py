"""Settings for the control plane and the workers, read from the environment.

Every variable is documented in .env.example. With DEBUG off (production), the variables in
REQUIRED_IN_PRODUCTION must be set: a missing one is reported by the startup checks
(tenants/checks.py), which name it, and the process refuses to start.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.logging import build_logging_config, parse_log_format, parse_log_level

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Cron runs jobs with an almost empty environment: ENV_FILE (or .env) supplies the rest.
environ.Env.read_env(env.str("ENV_FILE", default="") or str(BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=False)


def _positive_int(name: str, default: int) -> int:
    value = env.int(name, default=default)
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be a positive whole number, got {value}")
    return value


REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "DATABASE_URL",
    "PORTAL_INTERNAL_KEY",
    "ALLOWED_HOSTS",
    "METRICS_TOKEN",
)
# Read by the startup checks: in production each of these must come from the environment.
MISSING_REQUIRED_ENV = [name for name in REQUIRED_IN_PRODUCTION if not env.str(name, default="")]

# Without a key, a development-only one is used; the startup checks refuse it in production.
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="") or DEV_SECRET_KEY
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
PORTAL_INTERNAL_KEY = env.str("PORTAL_INTERNAL_KEY", default="")

INSTALLED_APPS = [
    # The admin without autodiscovery at start: config/urls.py loads the admin modules, so a
    # worker, which serves no pages, never imports them (README, "Memory per session").
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here: no CDN (and none reachable)
    "django_crontab",
    "tenants",
    "workers",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_settings() -> dict:
    url = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    db = environ.Env.db_url_config(url)
    if "ENGINE" not in db:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// or sqlite:///; got {url.split(':')[0]!r}:..."
        )
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # The web server, the workers and the stale check all write: WAL lets readers run
        # beside the writer, and IMMEDIATE takes the write lock up front, so a transaction
        # waits for it (up to timeout) instead of failing with "database is locked".
        db["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Tests start worker processes that must see the test database, so it is a file; one
        # per test run, so two runs in the same checkout don't share it.
        (BASE_DIR / "var").mkdir(exist_ok=True)
        db["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3")}
    elif db["ENGINE"] == "django.db.backends.postgresql":
        options = db.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", 5)
        # A connection whose peer vanished without a reset (failover, a cut network) would
        # block a query for the kernel's ~15 min; keepalives notice it within about a minute.
        keepalives = {
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
        for name, value in keepalives.items():
            options.setdefault(name, value)
        db["CONN_HEALTH_CHECKS"] = True
    return db


DATABASES = {"default": _database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenants.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")

# --- APIs and the portal ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WhatsApp platform API",
    "DESCRIPTION": "The portal API (a tenant's own data) and the admin API (staff).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TenantStatusEnum": "tenants.models.Tenant.Status",
        "SetupRequestStatusEnum": "tenants.models.SetupRequest.Status",
        "OutboundStatusEnum": "workers.models.OutboundMessage.Status",
        "TenantSettableStatusEnum": [("ACTIVE", "Active"), ("SUSPENDED", "Suspended")],
        "WebhookDeliveryStateEnum": "tenants.models.WebhookDelivery.State",
    },
    # What a tenant's receiver is sent (OpenAPI 3.1's `webhooks`): one entry per event type.
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": "portal.api.webhook_docs.WEBHOOKS",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.webhook_docs.add_signature_headers",
    ],
}
# The reverse proxies (addresses or networks) whose X-Forwarded-For names the client
# (config/addresses.py); from anyone else the header is ignored. Default: none.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Sign-in throttling (portal and admin), per client address: LOGIN_MAX_FAILURES failures for
# one email, or LOGIN_MAX_FAILURES_PER_ADDRESS for any emails, within LOGIN_LOCKOUT_MINUTES
# refuse that address (for that email, or for all) for the rest of the window. Failures
# from one address never lock an account out for anyone else.
LOGIN_MAX_FAILURES = _positive_int("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_ADDRESS = _positive_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 25)
LOGIN_LOCKOUT_MINUTES = _positive_int("LOGIN_LOCKOUT_MINUTES", 15)
LOGIN_URL = "/portal/login/"
LOGIN_REDIRECT_URL = "/portal/"
LOGOUT_REDIRECT_URL = "/portal/login/"

# --- Production hardening (check --deploy) -----------------------------------------------
# Everything the pages load comes from this site; inline styles are allowed (the admin and
# a few templates use them), inline scripts are not.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'; object-src 'none'"
    ),
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging -----------------------------------------------------------------------------
LOG_LEVEL = parse_log_level(env.str("LOG_LEVEL", default="INFO"))
LOG_FORMAT = parse_log_format(env.str("LOG_FORMAT", default="pretty" if DEBUG else "json"))
LOG_DIR = Path(env.str("LOG_DIR", default=str(BASE_DIR / "logs"))).resolve()
LOGGING = build_logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
# Tenant log files rotate at this size; rotated files older than LOG_RETENTION_DAYS go.
LOG_MAX_BYTES = env.int("LOG_MAX_BYTES", default=50 * 1024 * 1024)
LOG_RETENTION_DAYS = env.int("LOG_RETENTION_DAYS", default=14)


# --- Workers -----------------------------------------------------------------------------
HEARTBEAT_INTERVAL_SECONDS = _positive_int("HEARTBEAT_INTERVAL_SECONDS", 30)
STALE_WORKER_THRESHOLD_SECONDS = _positive_int("STALE_WORKER_THRESHOLD_SECONDS", 120)
# Two stale checks further apart than this (cron runs one a minute) mean the check could not
# reach the database meanwhile: workers' silence is then counted from the round that reached
# it again, so a database outage does not mark every healthy worker stale.
STALE_CHECK_MAX_GAP_SECONDS = _positive_int("STALE_CHECK_MAX_GAP_SECONDS", 90)
WHATSAPP_WEB_URL = env.str("WHATSAPP_WEB_URL", default="https://web.whatsapp.com/")
CHROME_BINARY = env.str("CHROME_BINARY", default="/usr/bin/chromium-headless-shell")
CHROMEDRIVER_PATH = env.str("CHROMEDRIVER_PATH", default="/usr/bin/chromedriver")
# A remote WebDriver (e.g. Selenium Grid) instead of a local Chromium, when set.
SELENIUM_REMOTE_URL = env.str("SELENIUM_REMOTE_URL", default="")
SESSIONS_DIR = Path(env.str("SESSIONS_DIR", default=str(BASE_DIR / "sessions"))).resolve()

# --- Media (photos, documents, voice notes of messages; tenants.media) --------------------
# Kept through Django's storage API: this directory by default. Never served as a public URL:
# only the authorizing views (portal, API) hand a file out, to its own tenant and staff.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))).resolve()
# The largest file kept for a tenant (a tenant's own limit, set by staff, overrides it); a
# larger one is logged with the reason and not kept. WhatsApp itself sends up to 100 MB.
MEDIA_MAX_BYTES = _positive_int("MEDIA_MAX_BYTES", 16 * 1024 * 1024)
# A file a tenant sends by URL (the send API's file_url) is fetched within this time, redirects
# included, under the same address rules as webhooks (WEBHOOK_ALLOW_PRIVATE_URLS,
# WEBHOOK_REQUIRE_HTTPS).
MEDIA_FETCH_TIMEOUT_SECONDS = env.float("MEDIA_FETCH_TIMEOUT_SECONDS", default=30.0)
# An S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, ...) instead of MEDIA_ROOT, when
# named. Credentials and region come the usual AWS way (AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, or the host's role); AWS_S3_ENDPOINT_URL points
# at a server other than AWS. Objects stay private: the same authorizing views serve them.
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": MEDIA_S3_BUCKET,
                "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
                "default_acl": "private",
                "file_overwrite": True,  # names are uuid4: no HEAD request per save to check
            },
        }
        if MEDIA_S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# At most this many workers on one host launch their browser at the same time; the rest wait
# in line (shown as "starting, 3rd in line"). Chromium's launch is CPU-bound: more at once
# than the host has cores only makes each slower (make bench: workers' start-up).
WORKER_START_CONCURRENCY = _positive_int("WORKER_START_CONCURRENCY", 2)

# How many QR codes a login attempt shows before the worker stops and asks for a new start.
QR_MAX_REFRESHES = _positive_int("QR_MAX_REFRESHES", 6)
# How long one login QR code is expected to show (WhatsApp rotates them about every 20 s):
# the portal's countdown.
QR_EXPECTED_LIFETIME_SECONDS = _positive_int("QR_EXPECTED_LIFETIME_SECONDS", 20)
# When the session is opened in another window: take it back after this many seconds
# (0: never take over; the session waits in CONFLICT for a person).
CONFLICT_TAKEOVER_SECONDS = env.int("CONFLICT_TAKEOVER_SECONDS", default=30)
# How many times in a row the worker restarts a lost browser before it exits for the
# supervisor to restart it.
WORKER_BROWSER_RESTARTS = _positive_int("WORKER_BROWSER_RESTARTS", 3)
# Past this memory (PSS) of its browser tree, a worker reloads the page at a quiet moment; if
# the tree is still over it at the next heartbeat, it restarts the browser. 0: no limit.
WORKER_MAX_MEMORY_MB = env.int("WORKER_MAX_MEMORY_MB", default=1024)
# Past this much JavaScript heap on the page (WhatsApp Web's own), the worker reloads the page
# at a quiet moment: same browser and profile, no new QR code. 0: no limit. Default: 512.
WORKER_MAX_PAGE_HEAP_MB = env.int("WORKER_MAX_PAGE_HEAP_MB", default=512)
# How long one browser command may take before the page counts as frozen (and is restarted).
WORKER_BROWSER_TIMEOUT_SECONDS = _positive_int("WORKER_BROWSER_TIMEOUT_SECONDS", 30)

# The per-tenant outbound pace (workers/ratelimit.py): a token bucket of OUTBOUND_BURST
# refilled at OUTBOUND_PER_MINUTE, at least OUTBOUND_MIN_GAP_SECONDS (+ random jitter up to
# OUTBOUND_JITTER_SECONDS) between two sends, and at most OUTBOUND_DAILY_CAP sends a day.
OUTBOUND_PER_MINUTE = env.float("OUTBOUND_PER_MINUTE", default=20.0)
OUTBOUND_BURST = _positive_int("OUTBOUND_BURST", 5)
OUTBOUND_MIN_GAP_SECONDS = env.float("OUTBOUND_MIN_GAP_SECONDS", default=2.0)
OUTBOUND_JITTER_SECONDS = env.float("OUTBOUND_JITTER_SECONDS", default=1.5)
OUTBOUND_DAILY_CAP = _positive_int("OUTBOUND_DAILY_CAP", 1000)
# Attempts before a message that keeps failing for a transient reason is marked FAILED.
OUTBOUND_MAX_ATTEMPTS = _positive_int("OUTBOUND_MAX_ATTEMPTS", 5)
# A sent message with no server ack (one tick) within this many seconds is "not confirmed":
# shown, counted in /metrics and alerted on, never silently called sent.
OUTBOUND_ACK_TIMEOUT_SECONDS = _positive_int("OUTBOUND_ACK_TIMEOUT_SECONDS", 60)

# --- Orchestration -------------------------------------------------------------------------
# The supervisord of each worker host, comma-separated: `unix:///path/supervisor.sock` or
# `http://host:9001`, each optionally followed by `#<directory>`, where the control plane
# writes that host's program files (the directory its supervisord includes; on another
# host, a shared mount). Default: this host's, as `make run` starts it.
RUN_DIR = BASE_DIR / "var" / "run"
WORKER_HOSTS = env.list(
    "WORKER_HOSTS", default=[f"unix://{RUN_DIR / 'supervisor.sock'}#{RUN_DIR / 'conf.d'}"]
)

# --- Webhooks (tenants' own receivers) -----------------------------------------------------
# Where events may go: https only (production), and never to a loopback, private, link-local
# or metadata address, checked when an endpoint is saved and before every attempt. Both are
# lifted for local receivers in development (`make run`) and the test suite.
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=not DEBUG)
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# One attempt: this long to connect, this long in all (connect, send, answer).
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=15.0)
# The waits between attempts (each ±20 % jitter), after the first immediate one: Standard
# Webhooks' schedule, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about
# 27.5 hours, then the delivery is dead (kept, and replayable).
WEBHOOK_RETRY_SCHEDULE_SECONDS = env.list(
    "WEBHOOK_RETRY_SCHEDULE_SECONDS", cast=float, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
# An endpoint failing every attempt for this long is paused (its events keep queuing), its
# tenant's users emailed and staff alerted once.
WEBHOOK_DISABLE_AFTER_HOURS = env.float("WEBHOOK_DISABLE_AFTER_HOURS", default=72.0)
# The dispatcher (`manage.py deliver_webhooks`): how long it sleeps when nothing is due, and
# how many deliveries it takes at a time.
WEBHOOK_POLL_SECONDS = env.float("WEBHOOK_POLL_SECONDS", default=0.2)
WEBHOOK_BATCH_SIZE = _positive_int("WEBHOOK_BATCH_SIZE", 20)
# Delivered events (and their attempts) are purged after this many days; waiting or dead ones
# are kept until they are delivered or this has passed twice.
WEBHOOK_RETENTION_DAYS = _positive_int("WEBHOOK_RETENTION_DAYS", 30)

# --- Alerts --------------------------------------------------------------------------------
# Who gets alert emails (comma-separated); default: every active staff user.
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[])
# Also POST each alert as JSON here, when set.
ALERT_WEBHOOK_URL = env.str("ALERT_WEBHOOK_URL", default="")
if ALERT_WEBHOOK_URL and not ALERT_WEBHOOK_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"ALERT_WEBHOOK_URL must be an http:// or https:// URL; got {ALERT_WEBHOOK_URL!r}"
    )
ALERT_WEBHOOK_TIMEOUT_SECONDS = env.float("ALERT_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
ALERT_MAX_ATTEMPTS = _positive_int("ALERT_MAX_ATTEMPTS", 8)
# A reminder when an incident is still open this long after its last alert.
ALERT_REMINDER_HOURS = env.float("ALERT_REMINDER_HOURS", default=4.0)
# More incidents than this for one tenant in an hour: one "flapping" alert instead of a storm.
ALERT_FLAP_THRESHOLD = _positive_int("ALERT_FLAP_THRESHOLD", 4)
# Outgoing mail: smtp://user:password@host:587 (with +tls), or consolemail:// to print it.
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="alerts@localhost")

# --- Monitoring ----------------------------------------------------------------------------
# /metrics answers a scraper that sends `Authorization: Bearer <METRICS_TOKEN>` (required in
# production) or, with no token, one whose address is in METRICS_ALLOWED_IPS (addresses or
# networks). Behind a proxy on the same host every client is 127.0.0.1, so production
# trusts no address by default; DEBUG (make run) trusts this machine.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"] if DEBUG else [])

# --- Cron (django-crontab) -----------------------------------------------------------------
CRONJOBS = [
    ("* * * * *", "workers.cron.check_stale_workers"),
    ("17 3 * * *", "workers.cron.purge_old_data"),
]
# Retention in the database (the daily purge). Timeline events feed the 7-day uptime, so
# they are kept at least 8 days.
MESSAGE_LOG_RETENTION_DAYS = _positive_int("MESSAGE_LOG_RETENTION_DAYS", 365)
WORKER_EVENT_RETENTION_DAYS = max(8, _positive_int("WORKER_EVENT_RETENTION_DAYS", 180))
OUTBOUND_RETENTION_DAYS = _positive_int("OUTBOUND_RETENTION_DAYS", 90)
# Put before each cron command, e.g. `ENV_FILE=/etc/whatsapp-platform.env`.
CRONTAB_COMMAND_PREFIX = env.str("CRONTAB_COMMAND_PREFIX", default="")
CRONTAB_COMMENT = "whatsapp-platform"
