"""Settings for the test suite: the real settings with a test secret and a fast hasher.

Everything else (database from DATABASE_URL, middleware, i18n, security) is the production
configuration, so tests exercise what runs.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-" + "k" * 60)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from bieb.config.settings import *  # noqa: F403
from bieb.config.settings import PASSWORD_HASHERS as _PRODUCTION_HASHERS

# Argon2 is slow on purpose; tests that check hashing use PRODUCTION_PASSWORD_HASHERS.
PRODUCTION_PASSWORD_HASHERS = _PRODUCTION_HASHERS
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A file, not SQLite's shared in-memory database: its table locks fail at once instead of
# waiting on the busy timeout, which would make race tests meaningless. pytest-xdist gives each
# worker its own file, and the process id keeps two test runs on one checkout apart.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(VAR_DIR / f"test_bieb_{os.getpid()}.sqlite3")  # noqa: F405
    }
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Tasks run where they are enqueued, so a test sees their effect.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
