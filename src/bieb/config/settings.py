"""Settings, all from the environment (12-factor).

Environment variables:
  DEBUG          "1" for development. Off by default: production is the safe default.
  SECRET_KEY     required when DEBUG is off.
  ALLOWED_HOSTS  comma-separated host names (default: localhost names when DEBUG is on).
  DATABASE_URL   unset = sqlite:///var/bieb.sqlite3 (WAL); postgres://... for PostgreSQL.
  REDIS_URL      optional: cache and sessions in Redis.
  EMAIL_BACKEND  dotted path; console backend by default. EMAIL_HOST/PORT/USER/PASSWORD, EMAIL_USE_TLS.
  DEFAULT_FROM_EMAIL
  SECURE_SSL_REDIRECT  "0" when TLS terminates elsewhere and the proxy does not redirect.
  BEHIND_PROXY   "1" to trust X-Forwarded-Proto from the load balancer.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

SRC_DIR = Path(__file__).resolve().parent.parent  # src/bieb
BASE_DIR = Path(os.environ.get("BIEB_HOME", SRC_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("BIEB_VAR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "string (for example: python -c 'import secrets; print(secrets.token_urlsafe(64))'), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves the API docs' Swagger UI from our own static files, not a CDN
    "bieb.core",
    "bieb.network",
    "bieb.accounts",
    "bieb.subscriptions",
    "bieb.catalog",
    "bieb.circulation",
    "bieb.programming",
    "bieb.community",
    "bieb.portal",
    "bieb.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "bieb.portal.middleware.DutchFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Lock-out after repeated failed log-ins; must come last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bieb.config.urls"
WSGI_APPLICATION = "bieb.config.wsgi.application"
ASGI_APPLICATION = "bieb.config.asgi.application"

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
                "bieb.portal.context_processors.portal",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'bieb.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at BEGIN, so
        # two writers queue on the busy timeout instead of failing on a lock upgrade.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A broad catalogue search ("history": 184,000 of a million editions) builds a bitmap of
    # its matches; at the default 4 MB it turns lossy and every row of a page is rechecked.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c work_mem={os.environ.get('BIEB_PG_WORK_MEM', '32MB')}"
    )
    # Statements written out for the hot path (``core.rows``) are prepared on the server after
    # five runs; Django's own cursors bind on the client and never are. 0 turns it off.
    _prepare = int(os.environ.get("BIEB_PG_PREPARE", "5"))
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = _prepare or None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and sessions ---------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bieb",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
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
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:mine"
LOGOUT_REDIRECT_URL = "portal:home"

# django-axes: 5 failed attempts lock log-in for 15 minutes, counted per e-mail address (against
# guessing one account's password) and per client (IP address + browser, against trying many
# accounts from one place). Not per IP alone: a library's public wifi shares one address.
# See docs/decisions/0004-log-in-lock-out.md.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address", "user_agent"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "bieb.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
if env_bool("BEHIND_PROXY"):
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- e-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "de Bibliotheek <noreply@bieb.example>")
#: the public address of the site: webhook URLs and links in e-mails are built on it
BIEB_SITE_URL = os.environ.get("BIEB_SITE_URL", "")

# Online payments (docs/payments.md): "mollie" with MOLLIE_API_KEY, or "local", the test
# provider the project serves itself (the default only with DEBUG on: production never marks
# an invoice paid without money because a setting was forgotten).
BIEB_PAYMENT_PROVIDER = os.environ.get("BIEB_PAYMENT_PROVIDER", "local" if DEBUG else "")
MOLLIE_API_KEY = os.environ.get("MOLLIE_API_KEY", "")

# --- background tasks -----------------------------------------------------------------------
# Notices and the daily circulation jobs run as django-tasks in the database (no extra
# service); `bieb tasks worker` runs them. Tests run tasks at once (settings_test).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# --- catalogue interoperability -------------------------------------------------------------
# OAI-PMH identity: the repository identifier stays stable when the site moves (identifiers
# are oai:<id>:edition/<pk>); the admin address is where harvesters report problems.
BIEB_OAI_REPOSITORY_ID = os.environ.get("BIEB_OAI_REPOSITORY_ID", "bieb.nl")
BIEB_OAI_ADMIN_EMAIL = os.environ.get("BIEB_OAI_ADMIN_EMAIL", "catalogus@bieb.nl")

# --- security -------------------------------------------------------------------------------
CSRF_FAILURE_VIEW = "bieb.portal.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env_bool("BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- project ------------------------------------------------------------------------------
BIEB_SHARED_DATA = Path(
    os.environ.get("BIEB_SHARED_DATA", BASE_DIR.parent / "shared" / "data")
).resolve()
BIEB_BUNDLED_DATA = SRC_DIR / "network" / "data"
