"""Settings of Relais, read from the environment.

Without any variable set, Relais runs on the embedded default: a SQLite file and the
in-memory channel layer (one process). Production sets DATABASE_URL (PostgreSQL, read through a
connection pool per process: DATABASE_POOL_*), REDIS_URL (channels_redis, shared by several daphne
processes), SECRET_KEY and ALLOWED_HOSTS.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="relais-insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "channels",
    "network",
    "partners",
    "referrals",
    "messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages: French unless the language switch chose otherwise (see network/language.py).
    "network.language.FrenchFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every response (network/security.py).
    "network.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "network.urls"
# Django's form renderer, with the choice widgets written in Python (network/widgets.py).
FORM_RENDERER = "network.widgets.Renderer"
ASGI_APPLICATION = "network.asgi.application"

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
                # The acting organisation (switcher, menu) in every page.
                "partners.acting.organisation_context",
                # The header's unread notifications count.
                "messaging.views.unread_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Several writers (daphne threads, tests with threads) wait for the lock instead of failing:
    # a write transaction takes SQLite's write lock when it begins (IMMEDIATE), so a second writer
    # waits up to ``timeout`` seconds for the first to commit, then reads what it wrote (the
    # loser of a race gets the 409 conflict). A deferred transaction took the lock at its first
    # write, too late to wait for it: "database is locked", a 500.
    _options.setdefault("timeout", 20)
    _options.setdefault("transaction_mode", "IMMEDIATE")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # The lists' queries are short. JIT compiling took longer than running them; and planning a
    # select_related join of ten tables in every join order took longer than running it, where the
    # order Django writes (the listed table first, then each relation) is the right one.
    _options.setdefault("options", "-c jit=off -c join_collapse_limit=1")
    # Parameters are bound on the server, so psycopg prepares a statement the n-th time a connection
    # runs it and PostgreSQL plans it once (Django's pool keeps the connections, and their prepared
    # statements, between requests). A transaction pooler such as PgBouncer needs
    # DATABASE_PREPARE_THRESHOLD=0, which prepares nothing. docs/decisions.md, "Prepared statements".
    _options.setdefault("server_side_binding", True)
    _threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    _options.setdefault("prepare_threshold", _threshold or None)
    if env.bool("DATABASE_POOL", default=True):
        # Each daphne process borrows from a bounded pool: a burst of requests waits for a connection
        # (up to DATABASE_POOL_TIMEOUT seconds) instead of opening one per thread until PostgreSQL's
        # max_connections refuses them. Size it so that processes × max size < max_connections.
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
        _options.setdefault(
            "pool",
            {
                "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
                "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
                "timeout": env.float("DATABASE_POOL_TIMEOUT", default=30.0),
            },
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# A burst of events to one group must queue, not be dropped (the in-memory layer's own default is 100).
CHANNEL_CAPACITY = env.int("CHANNEL_CAPACITY", default=5000)
# Seconds a Redis read may take: above channels_redis's 5-second blocking read, so an idle socket
# is never mistaken for a dead server.
REDIS_SOCKET_TIMEOUT = env.int("REDIS_SOCKET_TIMEOUT", default=30)
# Redis connections one process's channel layer may hold at once. Every socket that opens or
# closes joins or leaves its groups, one connection each while it waits for Redis: 200 sockets
# closing together needed 200, and redis-py 8 caps a pool at 100 by default and refuses the
# rest ("Too many connections", a 500 on the next socket). Several processes × this stays
# under Redis's maxclients (10,000 by default).
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=1000)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # channels_redis waits 5 s on a blocking read for each socket's messages; redis-py 8
                # times out socket reads after 5 s by default, which closed idle sockets with 1011.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "max_connections": REDIS_MAX_CONNECTIONS,
                    }
                ],
                "capacity": CHANNEL_CAPACITY,
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": CHANNEL_CAPACITY}}
    }

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row, anonymous visitors see nothing

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# WhiteNoise serves static files from the daphne processes themselves; finders let tests and
# development work without collectstatic.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Relais <relais@localhost>")
# The file-based backend (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend) writes
# each e-mail as a file in this folder: the browser tests read the signed links a server sent.
if env.str("EMAIL_FILE_PATH", default=""):
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")

# Signed links (referrals/links.py, DESIGN section 11): a partner without an account answers a
# referral through a link e-mailed to its contact address, valid this many days. Link pages are
# limited per client address: LINK_REQUESTS_PER_ADDRESS requests within LINK_WINDOW_SECONDS, after
# which they answer 429 until the window ends (counts in the cache, as sign-in failures).
REFERRAL_LINK_MAX_AGE_DAYS = env.int("REFERRAL_LINK_MAX_AGE_DAYS", default=8)
LINK_REQUESTS_PER_ADDRESS = env.int("LINK_REQUESTS_PER_ADDRESS", default=120)
LINK_WINDOW_SECONDS = env.int("LINK_WINDOW_SECONDS", default=10 * 60)

# Members and invitations (partners/invitations.py): an invitation to join an
# organisation is valid this many days; resending it renews that time. Password-reset requests
# (e-mails sent) are limited per client address as the signed links' pages are.
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=14)
PASSWORD_RESETS_PER_ADDRESS = env.int("PASSWORD_RESETS_PER_ADDRESS", default=10)
PASSWORD_RESET_WINDOW_SECONDS = env.int("PASSWORD_RESET_WINDOW_SECONDS", default=60 * 60)

# Sign-in attempts (partners/signin.py): failures allowed per username and per client address
# within the window, after which every attempt waits for the window's end. TRUSTED_PROXIES is the
# number of reverse proxies in front of Relais (none by default: REMOTE_ADDR is the client); the
# client's address is then read from the right of X-Forwarded-For, never from what it wrote itself.
SIGNIN_FAILURES_PER_USERNAME = env.int("SIGNIN_FAILURES_PER_USERNAME", default=5)
SIGNIN_FAILURES_PER_ADDRESS = env.int("SIGNIN_FAILURES_PER_ADDRESS", default=20)
SIGNIN_LOCKOUT_SECONDS = env.int("SIGNIN_LOCKOUT_SECONDS", default=15 * 60)
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
if TRUSTED_PROXIES:
    # The proxy in front says whether the browser came in over HTTPS (it must overwrite the header).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The cache holds sign-in counts, throttles and the dashboard's figures. Several daphne processes
# must share it: CACHE_URL names a Redis database for it (not the channel layer's: clearing a
# cache empties its whole database). Without it, each process has its own memory cache.
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}

# HTTP API conventions: network/api_access.py (parser, pagination, throttle), network/errors.py,
# and the OpenAPI schema of network/api_schema.py.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=256 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["network.api_access.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "network.api_access.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "network.api_access.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["network.api_access.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "network.api_schema.ApiSchema",
    "DEFAULT_THROTTLE_RATES": {"auth_token": env.str("AUTH_TOKEN_THROTTLE_RATE", default="10/minute")},
    "EXCEPTION_HANDLER": "network.errors.api_exception_handler",
    # The token endpoint's throttle tells clients apart by address: behind TRUSTED_PROXIES only.
    "NUM_PROXIES": TRUSTED_PROXIES,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Relais API",
    "DESCRIPTION": "Réseau d'orientation d'un CitésLab et de ses partenaires emploi et création.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served by the project itself (drf-spectacular-sidecar, no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # <id:…> in a path (network/converters.py): a positive 64-bit integer.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "referrals.models.Referral.Status",
        "DeclineReasonEnum": "referrals.models.Referral.DeclineReason",
        "OutcomeEnum": "referrals.models.Referral.Outcome",
        "CancelReasonEnum": "referrals.models.Referral.CancelReason",
        "OrganisationKindEnum": "partners.models.Organisation.Kind",
        "PartnerKindEnum": "partners.models.PARTNER_KIND_CHOICES",
        "ActivityKindEnum": "referrals.models.Activity.Kind",
        "MembershipRoleEnum": "partners.models.Membership.Role",
        "ServiceCategoryEnum": "partners.models.Service.Category",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Real time and notifications (messaging).
# The address of the site in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
