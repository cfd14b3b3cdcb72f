"""Django settings, driven by environment variables.

SQLite (a file under CUNXIN_DATA_DIR) works out of the box; set DATABASE_URL, e.g.
``postgres://user@127.0.0.1:5432/cunxin``, for PostgreSQL. Production sets
CUNXIN_SECRET_KEY (or CUNXIN_SECRET_KEY_FILE) and the personal-data keys.

Three ways to run, decided by two switches:
- production (neither set): HTTPS (secure cookies, HSTS, SSL redirect), real keys,
  static files collected (`collectstatic`) and served by WhiteNoise, Chinese error pages;
- the demo (CUNXIN_DEMO=1, set by `cunxin demo`, the tests and the benchmarks): the
  built-in keys, plain HTTP on 127.0.0.1, static files served from the apps' folders (no
  collect step); otherwise as production, error pages included (DEBUG stays off);
- debugging (CUNXIN_DEBUG=1, a developer's machine only): Django's debug pages.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def envsecret(name: str, default: str | None) -> str:
    """A secret from NAME, or from the file named by NAME_FILE."""
    if os.environ.get(name):
        return os.environ[name]
    if os.environ.get(f"{name}_FILE"):
        return Path(os.environ[f"{name}_FILE"]).read_text(encoding="utf-8").strip()
    if default is None:
        raise ValueError(f"{name} (or {name}_FILE) must be set in production")
    return default


BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CUNXIN_DATA_DIR", Path.cwd() / "demo-data"))

DEMO = envbool("CUNXIN_DEMO", False)
DEBUG = envbool("CUNXIN_DEBUG", False)
# Served over HTTPS (a reverse proxy in front, docs/operations.md): everywhere but the demo
# and debugging, which serve http://127.0.0.1 and would lose secure cookies.
HTTPS = envbool("CUNXIN_HTTPS", not (DEMO or DEBUG))
SECRET_KEY = envsecret(
    "CUNXIN_SECRET_KEY", "insecure-dev-key-only-for-the-demo" if DEBUG or DEMO else None
)
ALLOWED_HOSTS = [
    h for h in os.environ.get("CUNXIN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "cunxin.project",
    "cunxin.audit",
    "cunxin.jobs",
    "cunxin.org",
    "cunxin.pool",
    "cunxin.evaluation",
    "cunxin.visits",
    "cunxin.decisions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # static files, DEBUG or not, before anything that would touch the session or database
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "cunxin.project.security.error_page_styles",  # the 500 page's inline styles only
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cunxin.project.middleware.no_store_when_signed_in",
    "cunxin.project.middleware.DatabaseBusy",
    # last, as django-axes asks: it turns a locked-out login into its lockout response
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # first, as django-axes asks: it refuses attempts from a locked-out user and address
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "cunxin.project.urls"
WSGI_APPLICATION = "cunxin.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cunxin.project.context.staff",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'cunxin.sqlite3'}",
        conn_max_age=envint("CUNXIN_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Two requests writing at once: SQLite's default BEGIN DEFERRED lets both read, then
    # the one upgrading its lock second fails at once with "database is locked" (no
    # waiting can resolve that). BEGIN IMMEDIATE takes the write lock when a transaction
    # starts, so the second writer waits (up to the timeout) for the first to commit and
    # then sees its rows: it is refused with the same message as on PostgreSQL ("already
    # submitted"), not a 500. The write-ahead log (WAL) lets readers go on while a writer
    # works, even a long one (a publish, a batch run's rows): in the default rollback
    # journal a writer that outgrows its page cache locks readers out too.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE", "timeout": envint("CUNXIN_SQLITE_TIMEOUT", 30),
        "init_command": "PRAGMA journal_mode=WAL;",
    })  # fmt: skip
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Static files: WhiteNoise serves them in every mode. Production serves what
# `cunxin manage collectstatic` wrote to STATIC_ROOT: names with a content hash (cached for
# good) and compressed copies. The demo, the tests and debugging serve the apps' static
# folders as they are, found at start-up, so `runserver` needs neither DEBUG nor a collect.
COLLECTED_STATIC = not (DEMO or DEBUG)
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static" if COLLECTED_STATIC else None
WHITENOISE_USE_FINDERS = not COLLECTED_STATIC
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if COLLECTED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
LOCALE_PATHS = [BASE_DIR / "locale"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: a working day at most (from sign-in), gone when the browser closes. Saved only
# when they change: a page that only reads writes nothing (on SQLite, one writer at a
# time, a session write per request would queue every page behind a long write).
SESSION_COOKIE_AGE = envint("CUNXIN_SESSION_SECONDS", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads it from the page, not the cookie (hx-headers)
CSRF_USE_SESSIONS = True
CSRF_FAILURE_VIEW = "cunxin.project.security.csrf_failure"  # JSON for the API, else 403_csrf.html

# Login throttling (django-axes): 5 failures per user and address lock for 15 minutes.
AXES_FAILURE_LIMIT = envint("CUNXIN_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "project/locked_out.html"
AXES_VERBOSE = False  # its log lines would carry usernames and addresses

# Background work (cunxin.jobs): tasks are rows in the database, run by `cunxin worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
CUNXIN_WORKER_BEAT_SECONDS = envint("CUNXIN_WORKER_BEAT_SECONDS", 5)
CUNXIN_WORKER_STALE_SECONDS = envint("CUNXIN_WORKER_STALE_SECONDS", 60)
# Periodic jobs (cunxin.jobs.schedule): "every" N seconds or daily "at" HH:MM local time.
CUNXIN_SCHEDULE = {
    # a stopped worker's run is marked interrupted within two stale windows
    "sweep": {"task": "cunxin.jobs.tasks.sweep", "every": CUNXIN_WORKER_STALE_SECONDS},
}
# The folder HQ publishes from the 数据发布记录 page (a built pool); unset: the CLI only.
CUNXIN_POOL_DIR = os.environ.get("CUNXIN_POOL_DIR", "")
# Customer-pool search rate limits per user and clock hour, counted in the database
# (pool.SearchCount, so they hold across processes): any search with text, and the
# searches by a full ID number or phone among them (docs/operations.md).
CUNXIN_SEARCHES_PER_HOUR = envint("CUNXIN_SEARCHES_PER_HOUR", 300)
CUNXIN_EXACT_SEARCHES_PER_HOUR = envint("CUNXIN_EXACT_SEARCHES_PER_HOUR", 30)

# Providers (DESIGN.md §4): "simulator" in the demo; a bank connects its real service.
CUNXIN_IDENTITY_PHOTOS = os.environ.get("CUNXIN_IDENTITY_PHOTOS", "simulator")
CUNXIN_SMS = os.environ.get("CUNXIN_SMS", "simulator")

# Behind a reverse proxy that terminates HTTPS (docs/operations.md): trust its
# X-Forwarded-Proto, and take the client address from X-Forwarded-For (one proxy hop)
# so that login throttling sees clients, not the proxy.
if envbool("CUNXIN_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    AXES_IPWARE_PROXY_COUNT = envint("CUNXIN_PROXY_COUNT", 1)
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# Personal-data keys (cunxin.lib.crypto): production refuses the demo keys, and without
# CUNXIN_DEMO=1 there are none to fall back on.
if not (DEMO or DEBUG):
    from cunxin.lib import crypto as _crypto

    for _ring in (_crypto.field_keys(), _crypto.blind_index_keys()):
        if _ring.is_demo:
            raise ValueError(
                "CUNXIN_FIELD_KEYS and CUNXIN_BLIND_INDEX_KEYS (or their _FILE variants) "
                "must be set in production; see docs/operations.md"
            )


# Logs carry no personal data: request paths hold only opaque uids, and the SQL logger
# (which would print parameters) stays off.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING", "propagate": True},
        "axes": {"level": "WARNING", "propagate": True},
    },
}

# Content-Security-Policy (django-csp) on every page: scripts, styles and everything else
# only from this site, no inline script or style (templates use static .js files and CSS
# classes; a test keeps it so), no eval (htmx's is off: base.html), no framing. img-src
# allows data: for the signature pad redrawing a signature after a refused form. A
# response that sets its own policy keeps it (the identity photo's).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = envbool("CUNXIN_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = envint("CUNXIN_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
