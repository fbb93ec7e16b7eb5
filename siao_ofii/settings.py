"""Settings, read from the environment only (django-environ).

Embedded default (no variable set, DEBUG=true): SQLite in ./var, Celery tasks run in-process.
Production: DEBUG unset/false, and SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL,
EMAIL_URL, ARCHIVE_ENCRYPTION_KEY given by the environment.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from siao_ofii.healthcheck import DEFAULT_BEAT_HEARTBEAT

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "dev-only-insecure-secret-key-never-use-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY doit être défini dans l'environnement (DEBUG est désactivé).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Public base URL used in e-mails (links only, never a password).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "siao_ofii.apps.CoreConfig",
    "siao_ofii.admin_site.SiaoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "siao_ofii.staticfiles.SiaoStaticFilesConfig",  # django.contrib.staticfiles, leaner collectstatic
    "django_otp",
    "siao_ofii.admin_labels.OtpTotpConfig",  # django_otp.plugins.otp_totp, French names
    "siao_ofii.admin_labels.AxesConfig",  # axes
    "siao_ofii.admin_labels.PlanningConfig",  # django_celery_beat
    "dsfr",
    "siao_ofii.audit",
    "siao_ofii.privatefiles",
    "referentiel",
    "exchanges",
    "meetings",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "siao_ofii.api",
]

OIDC_ENABLED = env.bool("OIDC_ENABLED", default=False)
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The idle expiry, refreshed at most once a minute (no write on every GET, issue 15).
    "siao_ofii.middleware.IdleSessionRefreshMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Journals every 403 answer (issue 10, point 8).
    "siao_ofii.audit.middleware.RefusalAuditMiddleware",
    "siao_ofii.errors.FriendlyErrorsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "referentiel.middleware.HabilitationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "siao_ofii.middleware.AbsoluteSessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "siao_ofii.middleware.SecurityHeadersMiddleware",
    # Axes must be last so that it sees the authentication result.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "siao_ofii.urls"
WSGI_APPLICATION = "siao_ofii.wsgi.application"

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
                "siao_ofii.context_processors.site",
            ],
        },
    },
]

if "DATABASE_URL" not in env:
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Persistent connections (issue 15, goal 3), rather than a new PostgreSQL connection (TCP,
# authentication, a new server process) for every request. Each gunicorn thread keeps its
# connection up to CONN_MAX_AGE seconds. CONN_HEALTH_CHECKS=true would detect a connection the
# server dropped (a PostgreSQL restart) before reusing it, at the price of one more round trip
# (SELECT 1) on every request, as costly as a page's query: off by default, a dropped connection
# then fails one request of each thread and is replaced at once (Django closes it on the error).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=False))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Embedded default: archives are built by a background thread of the web process
    # (siao_ofii.background) while agents go on using the site. The WAL journal lets readers
    # and the single writer work at once; transactions take the write lock when they begin
    # (IMMEDIATE), so that one that has read never fails to become a writer because another
    # committed in between; a writer waits up to 20 s for another one instead of failing at
    # once with "database is locked" (Django's documented remedy).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "referentiel.Agent"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading a session's agent with their valid habilitations in one
    # query (issue 15, goal 3).
    "referentiel.backends.AgentBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions: idle expiry (the server-side expiry is pushed back at most once a minute by
# siao_ofii.middleware.IdleSessionRefreshMiddleware, so that a GET writes nothing), closed
# with the browser.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
CSRF_FAILURE_VIEW = "siao_ofii.errors.csrf_failure"
SESSION_SAVE_EVERY_REQUEST = False
# And re-authentication at least every SESSION_ABSOLUTE_HOURS, however active the session
# (siao_ofii.middleware.AbsoluteSessionLifetimeMiddleware).
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Login lockout (django-axes): 5 failures per account and IP, 30 minutes: the agent who
# mistypes is stopped early, from their own address only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Per account, whatever the address (a guesser rotating addresses): not a second axes lock,
# which anyone knowing an agent's e-mail could use to lock the agent out for good, but a
# growing delay between attempts once the account has failed LOGIN_ACCOUNT_FREE_FAILURES
# times in 24 h: 1 min, then 2, 4, 8… up to LOGIN_ACCOUNT_MAX_DELAY_MINUTES. A guesser gets
# a few dozen tries a day; the agent gets in between two tries, or at once after
# « Mot de passe oublié » (which lifts the delay). See referentiel/login_throttle.py.
LOGIN_ACCOUNT_FREE_FAILURES = env.int("LOGIN_ACCOUNT_FREE_FAILURES", default=10)
LOGIN_ACCOUNT_MAX_DELAY_MINUTES = env.int("LOGIN_ACCOUNT_MAX_DELAY_MINUTES", default=60)
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# Number of trusted reverse proxies in front of the application: the client address is then
# read from X-Forwarded-For (for the lockout and the audit log), never trusted otherwise.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
AXES_VERBOSE = False

# Second factor for administrators and OFII headquarters (django-otp, TOTP).
OTP_TOTP_ISSUER = "SIAO-OFII"
# DT agents too: they download archives and reveal their passwords.
OTP_REQUIRED_ROLES = ["ADMIN", "SIEGE", "DT"]
OTP_VERIFY_URL = "/connexion/second-facteur/"
# No administrator reads an agent's TOTP secret (issue 10, point 5): django-otp's admin hides the
# key and refuses its QR-code views; referentiel.admin also forbids adding or changing devices.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "fr"
# The interface is French. The notice handed to the persons (instruction II.A.6) is translated
# through Django's catalogue (locale/<code>/LC_MESSAGES/django.po, compiled .mo committed):
# add a language here and a catalogue there (see README, « Notice d’information »).
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# No Subresource Integrity on the DSFR files: django-dsfr's hashes are those of its source
# files, and the manifest storage rewrites the url() references inside the style sheets at
# collectstatic, so the browser blocks the collected files ("Failed to find a valid digest").
# SRI guards against a third-party CDN changing a file; ours are same-origin, served from our
# own STATIC_ROOT over HTTPS with the page itself, so it would add nothing.
DSFR_USE_INTEGRITY_CHECKSUMS = False
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "siao_ofii.staticstorage.ManifestStaticFilesStorage"  # WhiteNoise's, URLs memoised
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Nominative files (uploaded lists waiting for processing, built archives) live outside any
# URL space; only views that check the perimeter and write the audit log serve them. Web,
# workers and beat may run on different machines sharing only PostgreSQL and Redis, so these
# files go to STORAGES["private"] (siao_ofii/privatefiles), chosen by PRIVATE_STORAGE:
# - "database": in PostgreSQL (1 MiB chunks). The default whenever DATABASE_URL is PostgreSQL:
#   every node reaches the files with nothing more to run or mount, and the database backup
#   covers them with the rows that reference them (an archive and its Extract row are even
#   committed together). Monthly volumes are small (a few MB per département and month).
# - "filesystem": under PRIVATE_STORAGE_ROOT, one machine (or a disk every node mounts); the
#   embedded default with SQLite (make demo).
# Uploaded lists are Fernet-encrypted before they are stored, archives are AES-256 ZIPs.
PRIVATE_STORAGE_ROOT = env.path("PRIVATE_STORAGE_ROOT", default=VAR_DIR / "private")
_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
PRIVATE_STORAGE = env.str("PRIVATE_STORAGE", default="database" if _POSTGRES else "filesystem")
_PRIVATE_BACKENDS = {
    "database": {"BACKEND": "siao_ofii.privatefiles.storage.DatabaseStorage"},
    "filesystem": {"BACKEND": "siao_ofii.privatefiles.storage.PrivateFileSystemStorage"},
}
# - "s3" (optional, `pip install '.[s3]'`): an S3-compatible object store, PRIVATE_S3_* below.
if PRIVATE_STORAGE == "s3":
    _PRIVATE_BACKENDS["s3"] = {
        "BACKEND": "siao_ofii.privatefiles.s3.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": env.str("PRIVATE_S3_BUCKET"),
            "endpoint_url": env.str("PRIVATE_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("PRIVATE_S3_REGION", default="") or None,
            "access_key": env.str("PRIVATE_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("PRIVATE_S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("PRIVATE_S3_PREFIX", default=""),
        },
    }
if PRIVATE_STORAGE not in _PRIVATE_BACKENDS:
    raise ImproperlyConfigured(
        f"PRIVATE_STORAGE={PRIVATE_STORAGE!r} : valeurs possibles « database », « filesystem » ou « s3 »."
    )
STORAGES["private"] = _PRIVATE_BACKENDS[PRIVATE_STORAGE]

# E-mail: console by default.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":  # noqa: F821
    EMAIL_BACKEND = "siao_ofii.mail.StderrConsoleBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ne-pas-repondre@siao-ofii.example")

# Celery: eager in-process when no Redis is configured (embedded default).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# In-process (eager), the archive after « Valider » runs in a background thread of the web
# process, never inside the request (siao_ofii.background); the test settings turn it off.
TASKS_IN_BACKGROUND = env.bool("TASKS_IN_BACKGROUND", default=CELERY_TASK_ALWAYS_EAGER)
# Queue of the tasks this process sends (tests/workers.py gives its worker a private queue, so
# that the tasks the worker chains — archive after processing, e-mail after archive — stay there).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest archive build or file validation.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3 * 3600)}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's scheduler plus a heartbeat file for the health check (siao_ofii/beat.py).
CELERY_BEAT_SCHEDULER = "siao_ofii.beat:HeartbeatScheduler"
CELERY_BEAT_HEARTBEAT_FILE = env.str("CELERY_BEAT_HEARTBEAT_FILE", default=DEFAULT_BEAT_HEARTBEAT)

# The Django cache. The API rate limit counts in it (siao_ofii/api/throttling.py), so it must be
# one for every web process (gunicorn workers, several machines), never Django's default
# per-process memory, where each process kept its own count (issue 15): Redis when REDIS_URL is
# set (production: the worker needs it anyway), else files under var/cache, which the processes
# of the embedded default (one machine) share. Files, not the database: a GET writes nothing
# to the database (issue 15, goal 3).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "siao-ofii"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(env.path("CACHE_DIR", default=VAR_DIR / "cache"))}}
# Sessions read from that cache when it is Redis (issue 15, goal 3): a request reads its session
# from Redis, not from PostgreSQL; every write still goes to both (cached_db), so a logout
# (which deletes the cache entry, then the row) or a session's expiry holds in every process at
# the next request; a Redis outage falls back to the database (siao_ofii/sessions.py). Not with
# the file cache: each machine would keep its own copy.
SESSION_ENGINE = "siao_ofii.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"

# Limits on uploaded lists.
# Archive passwords shown per agent and per archive in any hour (exchanges.extracts.delivery.reveal_refusal).
PASSWORD_REVEALS_PER_USER_HOUR = env.int("PASSWORD_REVEALS_PER_USER_HOUR", default=30)
PASSWORD_REVEALS_PER_ARCHIVE_HOUR = env.int("PASSWORD_REVEALS_PER_ARCHIVE_HOUR", default=5)
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
UPLOAD_MAX_ROWS = env.int("UPLOAD_MAX_ROWS", default=200_000)
# A list has about ten columns; wider files are refused before they are read (a sheet with a
# cell at XFD1048576 would make the XLSX reader allocate the whole rectangle: 512 GB).
UPLOAD_MAX_COLUMNS = env.int("UPLOAD_MAX_COLUMNS", default=100)
UPLOAD_MAX_CELLS = env.int("UPLOAD_MAX_CELLS", default=6_000_000)  # rows × columns (≈ 200 MB in the reader)

# System-to-system API (issue 14, siao_ofii.api): bearer tokens only (no session, hence no
# CSRF surface), JSON only, French problem+json errors, a rate limit per client (Django cache).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="120/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["siao_ofii.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["siao_ofii.api.throttling.ClientRateThrottle"],
    "EXCEPTION_HANDLER": "siao_ofii.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API SIAO ↔ OFII (article L.744-6 du CESEDA)",
    "DESCRIPTION": "Échanges de système à système entre les SI des SIAO et de l’OFII : liste mensuelle, "
                   "archives chiffrées, flux retour. Guide des intégrateurs : /api/v1/doc-integrateurs/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PUBLIC": True,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "siao_ofii.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=str(Path(str(PRIVATE_STORAGE_ROOT)) / "tmp"))
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Retention of archives and nominative rows (CNIL social-sector framework); an
# administrator may change it in the platform settings.
DEFAULT_RETENTION_MONTHS = env.int("RETENTION_MONTHS", default=24)

# Demo accounts (public password) only in DEBUG, or on an instance explicitly made for demos.
ALLOW_DEMO_ACCOUNTS = env.bool("ALLOW_DEMO_ACCOUNTS", default=False)

# Key that encrypts archive passwords at rest (Fernet). Required in production.
ARCHIVE_ENCRYPTION_KEY = env.str("ARCHIVE_ENCRYPTION_KEY", default="")

# OpenID Connect (ProConnect), off unless configured. Agents are matched by e-mail,
# never created, and never given a habilitation by the identity provider.
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("referentiel.oidc.AgentOIDCBackend")
    OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT")
    OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
    OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email given_name usual_name idp_id")
    # ProConnect sends no ``email_verified``: the identity providers whose addresses are trusted
    # (their ``idp_id``, comma-separated). See referentiel/oidc.py.
    OIDC_TRUSTED_IDP_IDS = tuple(env.list("OIDC_TRUSTED_IDP_IDS", default=[]))
    OIDC_CREATE_USER = False
    OIDC_LOGIN_LABEL = env.str("OIDC_LOGIN_LABEL", default="S’identifier avec ProConnect")

# Production hardening: on as soon as DEBUG is off.
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # X-Forwarded-Proto is believed only behind a trusted reverse proxy (which overwrites it and
    # is the only way in): without one, any client could send it to dodge the HTTPS redirect.
    if TRUSTED_PROXY_COUNT:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health probes speak plain HTTP to the application server (siao_ofii/health.py).
    SECURE_REDIRECT_EXEMPT = [r"^sante/$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if not ARCHIVE_ENCRYPTION_KEY:
        raise ImproperlyConfigured("ARCHIVE_ENCRYPTION_KEY doit être défini dans l'environnement.")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
