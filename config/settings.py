"""One settings module, driven by environment variables (django-environ).

Embedded defaults let a fresh machine run everything with no server: SQLite under var/,
a file-based cache under var/, and kombu's filesystem broker under var/. Setting
DATABASE_URL / REDIS_URL switches to PostgreSQL / Redis with the same code paths.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CANDOR_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)
# DEBUG=0 selects the production profile (see "Production profile" below and the README):
# it refuses to start without its secrets and servers rather than fall back to dev defaults.
if not DEBUG:
    _missing = [
        name
        for name in (
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEYS",
            "CONSENT_RECEIPT_KEYS",
            "DATABASE_URL",
            "REDIS_URL",
        )
        if not env.str(name, default="").strip()
    ]
    if _missing:
        raise ImproperlyConfigured(
            "DEBUG=0 (production profile) needs these environment variables: "
            + ", ".join(_missing)
            + ". SECRET_KEY: 50+ random characters; FIELD_ENCRYPTION_KEYS: Fernet keys "
            "(comma-separated, first encrypts); CONSENT_RECEIPT_KEYS: Ed25519 keys "
            "(`manage.py receipt_keys --new`); DATABASE_URL: postgres://...; "
            "REDIS_URL: redis://... (Celery broker and shared cache)."
        )
SECRET_KEY = env.str(
    "SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production" if DEBUG else None
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Sensitive ledger fields are encrypted with these keys (MultiFernet: the first encrypts,
# all decrypt), never with SECRET_KEY. The dev default is only accepted with DEBUG on.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=["ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZC0="] if DEBUG else None,
)
# Ed25519 keys (32 bytes, base64url, comma-separated) signing consent receipts: the first
# signs, all are published at /.well-known/jwks.json. Rotate like FIELD_ENCRYPTION_KEYS.
CONSENT_RECEIPT_KEYS = env.list(
    "CONSENT_RECEIPT_KEYS",
    default=["ZGV2LW9ubHktcmVjZWlwdC1rZXktbm90LWZvci1wcmQ"] if DEBUG else [],
)
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="ledger.payments.LocalTestGateway")

INSTALLED_APPS = [
    "accounts.apps.CandorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_htmx",
    "ninja",
    "csp",
    "corsheaders",
    "pgtrigger",
    "accounts",
    "ledger",
    "recommendations",
    "transparency",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything that can answer a request, so preflights and errors get CORS too.
    "config.middleware.CorsMiddleware",  # django-cors-headers' (see there)
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication: `Sec-GPC: 1` from a customer's browser (transparency.standards.gpc).
    "transparency.standards.gpc.GpcMiddleware",
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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'candor.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker share one file: wait for locks instead of failing, take the write
    # lock up front, and let readers proceed during writes (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    # A file, not :memory:, so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Bounded: a dead database fails a request (and /health/) in seconds, never hangs it.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", 3))
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
CACHE_PREFIX = env.str("CACHE_PREFIX", default="candor")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Shared by every local process (web, worker, tests), unlike locmem: rate limits and
    # the worker round trip need a cache all processes see.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": CACHE_PREFIX,
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- django-allauth -------------------------------------------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
# "optional" for allauth; accounts.stages makes it mandatory for accounts that gave an
# email (username-only accounts have nothing to verify), and accounts.forms keeps a
# taken email from being revealed at sign-up.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("ACCOUNT_REAUTHENTICATION_TIMEOUT", default=300)
LOGIN_FAILED_LIMIT = env.int("LOGIN_FAILED_LIMIT", default=5)
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"{LOGIN_FAILED_LIMIT}/5m/ip,{LOGIN_FAILED_LIMIT}/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_ADAPTER = "accounts.adapter.MFAAdapter"
# Passkeys through allauth's WebAuthn (fido2): added on the Security page, usable to sign in.
# Admin still needs TOTP on top (accounts.admin_site).
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
# fido2 does not count http://localhost as secure: only for local development and tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=DEBUG)
MFA_TOTP_ISSUER = "Candor"
USERSESSIONS_TRACK_ACTIVITY = True
# Database sessions tagged with the account their data names, half-finished logins
# included, so erasure ends them all (accounts.sessions); expired ones are purged hourly.
SESSION_ENGINE = "accounts.sessions"
# Staff must have MFA before Django admin lets them in (accounts.admin_site).
ADMIN_REQUIRE_MFA = env.bool("ADMIN_REQUIRE_MFA", default=True)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    # Django's console backend prints addresses and bodies around the log filter: mail
    # that is not sent is logged instead, one masked line without recipient or body.
    if not DEBUG and not env.bool("ALLOW_CONSOLE_EMAIL", default=False):
        raise ImproperlyConfigured(
            "DEBUG=0 (production profile) needs a mail server: set EMAIL_URL (e.g. "
            "smtp+tls://user:password@host:587). To run without sending any mail (only a "
            "log line per message, no recipient, no body), set ALLOW_CONSOLE_EMAIL=1."
        )
    EMAIL_CONFIG["EMAIL_BACKEND"] = "accounts.mail.LogBackend"
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Candor <no-reply@candor.localhost>")
# Where links in messages point (a dispatcher has no request to build them from).
CANDOR_BASE_URL = env.str("CANDOR_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# SMS and post go through small gateway interfaces (ledger.messages.gateways); the local
# ones append a line per message to var/messages/<channel>.jsonl.
MESSAGES_SMS_GATEWAY = env.str(
    "MESSAGES_SMS_GATEWAY", default="ledger.messages.gateways.FileGateway"
)
MESSAGES_POST_GATEWAY = env.str(
    "MESSAGES_POST_GATEWAY", default="ledger.messages.gateways.FileGateway"
)

# --- Celery ---------------------------------------------------------------------------
# Redis broker: must exceed the longest task hard time limit, or Redis redelivers running
# tasks (asserted when a worker starts: config.celery.check_visibility_timeout).
# Publishing never hangs a request: each connection attempt is bounded, and the producer's
# connect gives up after one quick retry (kombu's default sleeps 2 s first). Whatever is
# not published stays in the outbox for the relay (accounts.outbox).
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 0.5,
    "socket_timeout": 2,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "connect_retries_timeout": 1,
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(REDIS_BROKER_TRANSPORT_OPTIONS)
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu's default polls an empty folder once a second; tasks wait less this way.
        "polling_interval": 0.1,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
CELERY_TASK_DEFAULT_QUEUE = "realtime"
CELERY_TASK_ROUTES = {
    "recommendations.train*": {"queue": "training"},
    "transparency.*": {"queue": "maintenance"},
    "accounts.sessions_purge": {"queue": "maintenance"},
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# Only the worker's and beat's own reconnect loop uses this (never request code): keep
# trying for a long outage, then exit so the process supervisor restarts it.
CELERY_BROKER_CONNECTION_MAX_RETRIES = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Extra task modules a worker loads (comma-separated): the fault tests' own task
# (tests/integration/tasks.py); empty in a deployment.
CELERY_IMPORTS = env.list("CANDOR_CELERY_IMPORTS", default=[])
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic jobs are declared in one place.
CELERY_BEAT_SCHEDULE: dict = {
    "diagnostics-heartbeat": {"task": "diagnostics.ping", "schedule": 60.0, "args": ("beat",)},
    "outbox-relay": {"task": "outbox.relay", "schedule": 30.0},
    # Webhook retries come due here (an emit also asks for a dispatch at once).
    "webhooks-dispatch": {"task": "accounts.webhooks_dispatch", "schedule": 15.0},
    # Messages come due here (a batch due now also asks for a dispatch at once).
    "messages-dispatch": {"task": "ledger.messages_dispatch", "schedule": 30.0},
    "link-uses-purge": {"task": "accounts.link_uses_purge", "schedule": 3600.0},
    "retention-sweep": {"task": "transparency.retention_sweep", "schedule": 24 * 3600.0},
    "sessions-purge": {"task": "accounts.sessions_purge", "schedule": 3600.0},
    # Every brand's model is retrained once a day (a run still waiting absorbs the request).
    "recommendations-nightly-retrain": {
        "task": "recommendations.nightly_retrain",
        "schedule": 24 * 3600.0,
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- JSON API (config/api.py) ------------------------------------------------------------
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2 * 1024 * 1024)
API_MAX_BATCH = 1000

# --- Widget API (recommendations/widget/) --------------------------------------------
# CORS only on the widget API; which origins is decided per publishable key by
# recommendations.widget.auth.cors_request_allowed (check_request_enabled signal). Never
# all origins, never credentials.
CORS_URLS_REGEX = r"^/api/v1/widget/.*$"
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_ALLOW_ALL_ORIGINS = False
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("authorization", "content-type")
CORS_PREFLIGHT_MAX_AGE = 600
# Requests per minute per widget key and client IP (fixed window in the shared cache).
WIDGET_RATE_LIMIT = env.int("WIDGET_RATE_LIMIT", default=600)
# "Popular right now" (anonymous widget, cold start) lists an item only when at least this
# many distinct customers interacted with it, so a public key never shows one person's taste.
POPULAR_MIN_CUSTOMERS = env.int("POPULAR_MIN_CUSTOMERS", default=5)

# --- Brand bridge (accounts.links, accounts.webhooks) -------------------------------------
# Webhook URLs must be https, and must not resolve to a private or loopback address, unless
# these are on (the default only in development, where brands' test receivers are local).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=DEBUG)
# Retries back off exponentially from this many seconds (capped at 6 h) and stop once the
# event is this old (about a day); the delivery is then marked failed for staff.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_WINDOW = env.int("WEBHOOK_RETRY_WINDOW", default=26 * 3600)
# The demo shop's keys (written by `manage.py demo_data`, read by demo_site/serve.py).
DEMO_SHOP_CONFIG = env.str("DEMO_SHOP_CONFIG", default=str(VAR_DIR / "demo-shop.json"))
# Staff see a brand's deletion not confirmed after this many days (admin filter).
ERASURE_CONFIRMATION_DAYS = env.int("ERASURE_CONFIRMATION_DAYS", default=7)

# --- Security headers (every profile) -----------------------------------------------------
# django-csp 4: strict policy, no inline script or style anywhere (htmx's indicator styles
# are switched off in base.html). The widget's JS runs under the brand's CSP, not ours.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "https:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Forms carry the token in the page ({% csrf_token %}, htmx sends it from the form), so no
# script ever needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
# /health/ (config.health): detailed answer for staff or this token in X-Health-Token.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
# Paths whose every response is `Cache-Control: no-store` (config.middleware), besides
# every response to a signed-in user.
NO_STORE_PATH_PREFIXES = ("/me/", "/accounts/", "/api/", "/admin/", "/health/", "/link/")

# --- Production profile (DEBUG=0) ----------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
        # Only behind a proxy that sets X-Forwarded-Proto itself (and strips the client's).
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    USE_X_FORWARDED_HOST = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Personal data never reaches a log line: emails, tokens, keys, card-like digit runs
    # are masked on the root handler (config.logging.PersonalDataFilter).
    "filters": {"personal_data": {"()": "config.logging.PersonalDataFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["personal_data"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One INFO line per webhook delivery, with the brand's URL: outcomes are in the
        # delivery log instead (and a URL may carry the brand's own token).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
