"""Settings for IAP portāls, read from the environment.

SQLite is the embedded default so that checkout -> migrate -> runserver works; set
``DATABASE_URL`` for PostgreSQL. ``IAP_ENV=production`` switches on the hardening.
"""

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


IAP_ENV = env("IAP_ENV", "development")
PRODUCTION = IAP_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env("DJANGO_SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (50+ characters) in production.")
    DEBUG = False
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
else:
    SECRET_KEY = env(
        "DJANGO_SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production-0123456789"
    )
    DEBUG = env_bool("DJANGO_DEBUG", True)
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "simple_history",
    "axes",
    "django_tasks",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Our apps, lowest layer first (docs/architecture.md).
    "iap_portal",
    "accounts",
    "notifications",
    "students",
    "early_warning",
    "plans",
    "compensations",
    "payments",
    "budgets",
    "reports",
    "dashboard",
    "privacy",
    "demo",
    # After reports, whose `db_worker` (leases and retries, reports/worker.py) replaces the
    # library's command of that name: of two apps' commands, Django runs the earlier app's.
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "iap_portal.middleware.LatvianByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "iap_portal.middleware.NoStoreMiddleware",
    "iap_portal.middleware.PendingAuditMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "iap_portal.urls"
WSGI_APPLICATION = "iap_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
if env("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            env("DATABASE_URL"), conn_max_age=600, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead
                # of failing with "database is locked" half-way through a transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AddressThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
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

# django-axes: lock a username+IP pair after 5 failures for 15 minutes, so an attacker
# elsewhere cannot lock a user out of their own school.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address behind the TLS proxy (iap_portal/clientip.py): how many proxies in
# front append to X-Forwarded-For (1 for the README's nginx), and which addresses may send it.
IAP_PROXY_COUNT = int(env("IAP_PROXY_COUNT", "0"))
IAP_TRUSTED_PROXIES = env_list("IAP_TRUSTED_PROXIES") or ["127.0.0.1", "::1"]
AXES_CLIENT_IP_CALLABLE = "iap_portal.clientip.client_ip"
# Password spraying: failed sign-ins from one address over all usernames (accounts/throttle.py),
# in widening windows, so the wait grows; axes' failure log keeps the failures.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
IAP_SIGNIN_FAILURES_PER_ADDRESS = [(timedelta(hours=1), 30), (timedelta(days=1), 100)]
# Password-reset e-mails per day, per address and per account; above them none is sent and
# the answer is the same.
IAP_RESET_MAILS_PER_ADDRESS = int(env("IAP_RESET_MAILS_PER_ADDRESS", "10"))
IAP_RESET_MAILS_PER_ACCOUNT = int(env("IAP_RESET_MAILS_PER_ACCOUNT", "3"))

# Two-factor sign-in (TOTP with backup codes). Required in production for the roles that see
# many pupils' data or decide money (students.access.TWO_FACTOR_ROLES); optional for others.
IAP_TWO_FACTOR_REQUIRED = env_bool("IAP_TWO_FACTOR_REQUIRED", PRODUCTION)
OTP_TOTP_ISSUER = "IAP portāls"
IAP_BACKUP_CODE_COUNT = 10

# Sessions live in the database with their user, so "log out everywhere" can end them all.
SESSION_ENGINE = "accounts.sessions"
# Sessions end after 30 idle minutes: requests push the expiry forward, writing the session at
# most once a minute (accounts/sessions.py) rather than on every request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "lv"
LANGUAGES = [("lv", _("Latvian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Riga"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("IAP_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Outside production WhiteNoise serves straight from the finders; no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
# Files browsers ask for at the site's root (/favicon.ico), served as they are.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Private uploads (receipts, scans) live outside any publicly served tree.
MEDIA_ROOT = Path(env("IAP_PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "IAP portāls <noreply@iap.local>")
if env("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST")
    EMAIL_PORT = int(env("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)

# --- Security -------------------------------------------------------------------------------
# A strict Content-Security-Policy: everything from our own origin, no inline script or style,
# no eval, no frames, forms post only to us. Templates carry no inline <script> or style=.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_COOKIE_HTTPONLY = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("IAP_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    if env_bool("IAP_BEHIND_TLS_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- Background tasks -----------------------------------------------------------------------
# PDF bundles run on a queue kept in the database; `manage.py db_worker` runs the jobs (any
# number of workers, on any machine that reaches the database). `make run` starts one.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # The aggregate participation reports, shared by every app server and task worker
    # (reports/snapshots.py); the table is created by the reports app's migrations.
    "reports": {
        "BACKEND": env("IAP_REPORT_CACHE_BACKEND", "django.core.cache.backends.db.DatabaseCache"),
        "LOCATION": env("IAP_REPORT_CACHE_LOCATION", "iap_report_cache"),
    },
}

TASKS = {
    "default": {
        "BACKEND": env("IAP_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A worker renews the lease of its task every third of this; when a lease runs out (the worker
# was killed), another worker takes the task over (reports/worker.py). Longer than any pause a
# healthy worker may make (a garbage collection, a slow disk), short enough that a user waits.
IAP_TASK_LEASE_SECONDS = float(env("IAP_TASK_LEASE_SECONDS", "30"))
# A task is run at most this many times (exceptions and dead workers alike), then failed; the
# pause before a retry starts at IAP_TASK_RETRY_SECONDS and doubles each time.
IAP_TASK_MAX_ATTEMPTS = int(env("IAP_TASK_MAX_ATTEMPTS", "3"))
IAP_TASK_RETRY_SECONDS = float(env("IAP_TASK_RETRY_SECONDS", "30"))

# --- Application ----------------------------------------------------------------------------
# The programme's name and funding source change between programmes (PuMPuRS, then
# "Skola kopienā"), so they are settings, not constants.
IAP_PROGRAMME_NAME = env(
    "IAP_PROGRAMME_NAME", "Atbalsts priekšlaicīgas mācību pārtraukšanas samazināšanai"
)
# Its English form, for users who chose English.
IAP_PROGRAMME_NAME_EN = env("IAP_PROGRAMME_NAME_EN", "Support for reducing early school leaving")
IAP_PROGRAMME_CODE = env("IAP_PROGRAMME_CODE", "8.3.4.0/16/I/001")
# Imports (pupils, e-journal data): the upload, and what a spreadsheet may hold once unpacked,
# checked before and while it is read (students/importer.py). Generous for a real school.
IAP_IMPORT_MAX_BYTES = 2 * 1024 * 1024
IAP_IMPORT_MAX_ROWS = int(env("IAP_IMPORT_MAX_ROWS", "10000"))
IAP_IMPORT_MAX_COLUMNS = int(env("IAP_IMPORT_MAX_COLUMNS", "60"))
IAP_IMPORT_MAX_UNPACKED_BYTES = 50 * 1024 * 1024
IAP_PAGE_SIZE = 25
# A specialist keeps seeing a pupil this many days after their measure ended.
IAP_SPECIALIST_GRACE_DAYS = int(env("IAP_SPECIALIST_GRACE_DAYS", "14"))
# Pupils who left more than this many years ago are anonymised (manage.py anonymise_pupils).
IAP_RETENTION_YEARS = int(env("IAP_RETENTION_YEARS", "5"))
# The audit log keeps its events this many days (5 years), then only monthly counts per school
# and action (manage.py summarise_audit, from cron; whole months, so an event may stay up to a
# month longer).
IAP_AUDIT_RETENTION_DAYS = int(env("IAP_AUDIT_RETENTION_DAYS", "1826"))
IAP_AUDIT_PAGE_SIZE = 50
# History of changes is recorded always, except while a backup is restored (the backup holds
# the history already): IAP_HISTORY_ENABLED=0 python manage.py loaddata backup.json
SIMPLE_HISTORY_ENABLED = env_bool("IAP_HISTORY_ENABLED", True)
# Larger list exports than this are built on the task queue, not in the request, so that no
# request spends long writing a file. A spreadsheet costs more per row to write than a CSV
# file, so it has its own, lower limit (the measurements: bench/README.md).
IAP_INLINE_EXPORT_ROWS = int(env("IAP_INLINE_EXPORT_ROWS", "2000"))
IAP_INLINE_XLSX_ROWS = int(env("IAP_INLINE_XLSX_ROWS", "1500"))
IAP_RECEIPT_MAX_BYTES = 10 * 1024 * 1024
IAP_RECEIPTS_PER_CLAIM = 10
# Finished exports and plan bundles are kept this many days, then `manage.py purge_files`
# (daily, from cron) deletes them (reports/files.py).
IAP_FILE_DAYS = int(env("IAP_FILE_DAYS", "7"))
# The aggregate reports are kept for everyone (reports/snapshots.py): older than this, the next
# view has them refreshed in the background and the page offers "refresh now".
IAP_REPORT_FRESH_MINUTES = int(env("IAP_REPORT_FRESH_MINUTES", "5"))
# Compensations: the national defaults of the ceilings per category per pupil per semester
# (EUR). A school sets its own on the "Compensation ceilings" page; above its ceiling a plan
# needs a justification and the approver is warned. These are this product's defaults, not
# programme rules (the programme set no caps: shared/reference/programme-notes.md).
IAP_COMPENSATION_CEILINGS = {
    "transport_tickets": "300",
    "accommodation": "600",
    "meals": "400",
    "learning_materials": "150",
    "personal_items": "150",
    "special_transport": "600",
}
# No measure may plan more than this (EUR), whatever a school's ceiling: a typing slip of
# 9 999 999 € never reaches an approval or the municipality's and agency's figures.
IAP_MEASURE_HARD_MAXIMUM = env("IAP_MEASURE_HARD_MAXIMUM", "3000")


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "permission_denied_one_line": {"()": "iap_portal.logfilters.PermissionDeniedOneLine"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        # Django's own console handler (DEBUG only) would print each of its lines a second
        # time beside the root's: its records reach the console through the root alone.
        "django": {"handlers": []},
        "django.request": {"filters": ["permission_denied_one_line"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

# A plan waiting more working days than this at an approval level is marked late (per level).
IAP_APPROVAL_LATE_DAYS = {
    level: int(env(f"IAP_APPROVAL_LATE_DAYS_{level.upper()}", "5"))
    for level in ("school", "municipality", "agency")
}

# Payments: an approved claim not put into a payment batch for more than this many days is on
# the "not yet batched" list of the school's coordinator and the payer's accountant.
IAP_UNBATCHED_LATE_DAYS = int(env("IAP_UNBATCHED_LATE_DAYS", "30"))

# --- Notifications and deadlines (notifications/, manage.py send_reminders) -----------------
# The portal's own address, for the links in e-mails (sent from the task queue, no request).
IAP_BASE_URL = env("IAP_BASE_URL", "http://127.0.0.1:8000")
# The notifications page shows this many days; older ones are deleted by send_reminders.
IAP_NOTIFICATION_DAYS = int(env("IAP_NOTIFICATION_DAYS", "90"))
# A refused e-mail is tried again after 1, 2, 4, … times this many seconds, this many times.
IAP_MAIL_ATTEMPTS = int(env("IAP_MAIL_ATTEMPTS", "8"))
IAP_MAIL_RETRY_SECONDS = int(env("IAP_MAIL_RETRY_SECONDS", "60"))
# A worker holds an e-mail this long while sending it (another takes it over after that).
IAP_MAIL_LEASE_SECONDS = int(env("IAP_MAIL_LEASE_SECONDS", "600"))
# Deadlines: a semester's plans are due this many weeks after it starts; evaluations are due at
# its end; a claim undecided this many days is late.
IAP_PLAN_DUE_WEEKS = int(env("IAP_PLAN_DUE_WEEKS", "4"))
IAP_CLAIM_LATE_DAYS = int(env("IAP_CLAIM_LATE_DAYS", "10"))
