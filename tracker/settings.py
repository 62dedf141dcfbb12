"""Settings for the policy-proposal tracker.

One module for every environment: the differences between a laptop, CI and
production are a handful of environment variables, all listed in
``.env.example``. Nothing here is a secret "just for dev": production reads
exactly this file.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Debug is off unless the environment turns it on (``make run`` does).
DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required when DJANGO_DEBUG is off; "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    # Only reachable with DEBUG on: a per-process random key, so no fixed dev
    # key exists that production could accidentally share.
    import secrets

    SECRET_KEY = secrets.token_urlsafe(50)

# How many reverse proxies stand in front of the app, each appending the
# address it saw to X-Forwarded-For (1 with the nginx of `make prod` and
# compose). One setting for every consumer: the API throttles and the
# sign-in lockout (tracker.throttling.client_ip) and gunicorn's
# forwarded_allow_ips (deploy/gunicorn.conf.py). 0: trust no forwarded header.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "knox",
    "corsheaders",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "proposals",
]

# Background work (webhook deliveries): Django's tasks framework (the
# django-tasks backport of Django 6.0's), stored in the database so the
# embedded SQLite default needs no extra server; `manage.py webhooks_worker`
# runs it. docs/CHANGES.md says how to switch to a Redis or Celery backend.
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
# Webhook targets in loopback, private, link-local, multicast or reserved
# ranges are refused (SSRF, OWASP) unless this is set (tests, local setups).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = os.environ.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "") == "1"
# Retries after a failed delivery: this many attempts in all, waiting
# WEBHOOKS_BACKOFF_SECONDS * 2**(attempt-1) between them (capped at a day).
WEBHOOKS_MAX_ATTEMPTS = int(os.environ.get("WEBHOOKS_MAX_ATTEMPTS", "8"))
WEBHOOKS_BACKOFF_SECONDS = float(os.environ.get("WEBHOOKS_BACKOFF_SECONDS", "30"))
WEBHOOKS_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TIMEOUT_SECONDS", "10"))
# The absolute base of the URLs in webhook payloads (the worker has no request to build them from).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CSP on the admin's and the browsable API's HTML.
    "tracker.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Inside CORS (errors keep its headers): no HTML error pages under /api/.
    "tracker.middleware.ApiProblemMiddleware",
    # Before anything that may wait (sessions, the database): keeps a thread for /healthz.
    "tracker.middleware.ConcurrencyGuardMiddleware",
    # Before CommonMiddleware, whose APPEND_SLASH would redirect API writes.
    "tracker.middleware.ApiOptionalSlashMiddleware",
    "tracker.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # No simple_history HistoryRequestMiddleware: proposals.services credits
    # the author of every history row explicitly (one mechanism).
    # Last, as django-axes requires: turns a locked-out login into a 429.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses to authenticate a locked-out username/IP at all.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# The benchmark mounts its baseline view through its own URLconf (bench/).
ROOT_URLCONF = os.environ.get("DJANGO_ROOT_URLCONF", "tracker.urls")
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project overrides of packaged templates (the offline API docs).
        "DIRS": [BASE_DIR / "tracker" / "templates"],
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

# DATABASE_URL picks the database; unset, an embedded SQLite file in the
# project folder, so a newcomer needs nothing else installed.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections pay off under gunicorn's long-lived threads;
        # the development server starts a thread per request, so each would
        # keep its own connection open (PostgreSQL runs out of slots).
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0" if DEBUG else "60")),
        # Re-checks a persistent connection before reuse, so a server that
        # restarted PostgreSQL recovers without restarting the app.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast instead of hanging a worker when the database is unreachable
    # or hung: connect_timeout bounds the whole connection handshake (libpq),
    # statement_timeout each statement on the server (a runaway query, a
    # lock wait). docs/OPERATIONS.md explains the choice of defaults.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["connect_timeout"] = int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "3"))
    _statement_ms = int(os.environ.get("DJANGO_DB_STATEMENT_TIMEOUT_MS", "10000"))
    if _statement_ms > 0:
        _pg_options["options"] = f"-c statement_timeout={_statement_ms}"

# One cache shared by every worker process: throttle counters and the
# export's concurrency slots must count the same for all of them. Redis in
# production (REDIS_URL; atomic counters, shared by every host). Without it,
# files in a local folder: shared by every process on this host, nothing to
# install or create, and no SQL added to requests (a database cache would
# put two queries on every request). docs/OPERATIONS.md has the trade-offs.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A hung Redis must not hang requests: throttles fail open (tracker/throttling.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "KEY_PREFIX": os.environ.get("DJANGO_CACHE_KEY_PREFIX", "tracker"),
        }
    }
else:
    CACHES = {
        "default": {
            # Django's file cache with exact counters across processes (tracker/cache.py).
            "BACKEND": "tracker.cache.LockedFileBasedCache",
            # In the project folder (git-ignored), so two checkouts on one
            # host never share throttle counters or export slots.
            "LOCATION": os.environ.get("DJANGO_CACHE_DIR", str(BASE_DIR / ".cache" / "django")),
            "KEY_PREFIX": os.environ.get("DJANGO_CACHE_KEY_PREFIX", "tracker"),
            # Culling (past MAX_ENTRIES) drops random entries, counters included: keep it rare.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# Requests one process runs at once (tracker.middleware.ConcurrencyGuardMiddleware):
# gunicorn's threads less two, kept for /healthz and for quick refusals. Past
# it, a request waits at most APP_QUEUE_WAIT_SECONDS (0.02) for a place (a
# burst of fast requests frees one in that time), then gets 503 + Retry-After.
APP_MAX_CONCURRENT_REQUESTS = int(
    os.environ.get("APP_MAX_CONCURRENT_REQUESTS", str(int(os.environ.get("GUNICORN_THREADS", "16")) - 2))
)
APP_QUEUE_WAIT_SECONDS = float(os.environ.get("APP_QUEUE_WAIT_SECONDS", "0.02"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes (the image uses the default).
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files served by WhiteNoise straight from gunicorn.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The API's request body cap (bytes); larger bodies get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DJANGO_MAX_BODY_BYTES", str(1024 * 1024)))

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header turns anonymous writes into 401s.
    # No BasicAuthentication: a password hash per request costs ~100s of ms.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "proposals.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Fixed windows on the shared cache, clients identified by tracker.throttling.client_ip.
    "DEFAULT_THROTTLE_CLASSES": [
        # The anon and user budgets in one cache round trip.
        "tracker.throttling.ClientRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "600/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "3000/minute"),
        # CSV exports, per client, on top of the above (each one reads every matching row).
        "export": os.environ.get("API_THROTTLE_EXPORT", "10/hour"),
        # Failed token authentications per address (then 429 for any token until the window ends).
        "auth_failure": os.environ.get("API_THROTTLE_AUTH_FAILURES", "20/minute"),
    },
    # Same count as gunicorn's and axes' trust: see TRUSTED_PROXY_COUNT.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_PERMISSION_CLASSES": [
        "proposals.api.permissions.ModelPermissionsOrReadOnly",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, with a bound on nesting depth (deep bodies were a 500).
        "proposals.api.parsers.JSONParser",
        # Form parsers keep the browsable API's HTML forms working.
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "proposals.api.filters.DjangoFilterBackend",
        "proposals.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "proposals.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "proposals.api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "proposals.api.errors.problem_exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Dates in bodies are YYYY-MM-DD only; Python would also take "20151215".
    "DATE_INPUT_FORMATS": ["%Y-%m-%d"],
    "ORDERING_PARAM": "ordering",
}

# Knox tokens: stored hashed, expiring, revocable (admin or `manage.py issue_token`).
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(days=int(os.environ.get("API_TOKEN_TTL_DAYS", "90"))),
    "AUTO_REFRESH": False,
}

# Browser clients on other origins (comma-separated, e.g. https://app.example.org).
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
# Clients must read ETag to send If-Match, and Retry-After to back off.
CORS_EXPOSE_HEADERS = ["ETag", "X-Proposal-ETag", "Retry-After", "Location"]
CORS_ALLOW_HEADERS = [*default_headers, "if-match", "if-none-match"]

# Login throttling (django-axes): after this many failed sign-ins for a
# username from one address, that pair is locked out for the cool-off time.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_HTTP_RESPONSE_CODE = 429
# The same client address as the API throttles: X-Forwarded-For trusted for
# exactly TRUSTED_PROXY_COUNT proxies, so a forged header can neither dodge
# the lockout nor lock a username out for everyone behind the proxy.
AXES_CLIENT_IP_CALLABLE = "tracker.throttling.client_ip"

# Concurrent CSV exports across all workers; one more gets 503 + Retry-After.
API_EXPORT_MAX_CONCURRENT = int(os.environ.get("API_EXPORT_MAX_CONCURRENT", "2"))
# Seconds an export slot is held at most, should a worker die mid-export.
API_EXPORT_SLOT_SECONDS = 600

# When true, reading the API also requires a signed-in user or a token.
API_READ_REQUIRES_AUTH = env_bool("API_READ_REQUIRES_AUTH", False)

SPECTACULAR_SETTINGS = {
    "TITLE": "Policy-proposal tracker API",
    "DESCRIPTION": (
        "Concrete policy proposals found in policy texts: who put each forward, at which "
        "venue, its status and how that changed over time. Every claim is backed by a "
        "verbatim quote located by character offsets in its source text.\n\n"
        "Quote offsets (`start`, `end`) count Unicode code points, as Python strings do: "
        "`text[start:end] == quote`. JavaScript, Java and C# strings count UTF-16 code units, in which "
        "a character above U+FFFF (most emoji) takes two, so every quote also carries `start_utf16` and "
        "`end_utf16`: `text.slice(start_utf16, end_utf16) === quote`.\n\n"
        "## Conventions\n\n"
        "* **Access.** Reading is public unless the deployment says otherwise. Writing needs an "
        "editor account: send `Authorization: Token <token>` or sign in. Staff issue a token to an editor's "
        "account with `manage.py issue_token USERNAME` (shown once; it expires after 90 days by default and "
        "is revoked in the admin). Each operation says who may call it and which errors it returns.\n"
        "* **No lost updates.** Reads return a strong `ETag`, which changes whenever any byte of the "
        "representation would: also when something it shows changes elsewhere (a renamed venue, actor, "
        "topic or source, a related proposal's status). `PUT`, `PATCH` and `DELETE` must send it back as "
        "`If-Match`: without it the answer is 428, with a stale one 412, and nothing changes. Adding a "
        "status event or a quote honours `If-Match` with the proposal's ETag when sent (412 when stale) "
        "and returns the proposal's new tag in `X-Proposal-ETag`. `If-None-Match` on a read gets 304 when "
        "nothing changed (weak comparison, so `W/` tags from compressing proxies match).\n"
        "* **Who changed what.** Histories show each change, its time, reason and the author's role; "
        "usernames are shown to editors only.\n"
        "* **Mirroring: snapshot, then follow the change feed.** `GET /api/v1/changes/` lists every create, "
        "update and delete (tombstones) of every record in one order (`seq`). Note the last `seq`, copy the "
        "lists, then follow the feed from that `seq` with `?after=`: for each change `GET` its `url` (or drop "
        "the record on a delete). Replaying from any point you stopped at ends with exactly the server's data.\n"
        "* **Webhooks.** Editors subscribe at `/api/v1/webhooks/` to have each change POSTed to them, signed per "
        "the Standard Webhooks specification; verify in Python with "
        "`standardwebhooks.webhooks.Webhook(secret).verify(body, headers)`.\n"
        "* **Atom feeds.** Status events and new quotes: `/feeds/proposals/{slug}.atom` (each proposal's "
        "`feed`), `/feeds/proposals.atom?<any q and filters of the proposal list>`, `/feeds/all.atom`.\n"
        "* **Citing a version.** Every proposal carries `permalink`, its version's permanent address "
        "(`/api/v1/proposals/{slug}/versions/{n}/`, the representation exactly as served then, cacheable for "
        "ever); `?as_of=<date-time>` serves the version current then; `/api/v1/proposals/{slug}/cite/"
        "?format=csl-json|bibtex|ris[&version=n]` gives a citation with its sources. See docs/CHANGES.md.\n"
        "* **Status.** A proposal's `status` is read-only: add a status event "
        "(`POST /api/v1/proposals/{slug}/events/`) to change it.\n"
        "* **Bodies.** JSON only (`Content-Type: application/json`); form-encoded and multipart bodies "
        "get 415. Unknown fields are refused with a 400 that names them; read-only "
        "fields echoed back from a read are ignored, so what you `GET` you can `PUT` back "
        "unchanged. Strings are stored exactly as sent (no trimming); a string field takes only a JSON "
        "string (a number or boolean there is a 400). Slugs are lowercase letters and digits in words "
        "joined by single hyphens. Dates are `YYYY-MM-DD`. Bodies over 1 MiB get 413; JSON nested "
        "deeper than 32 levels, 400.\n"
        "* **PUT and PATCH.** `PUT` requires the required fields and sets the fields sent; a writable field "
        "left out keeps its current value (it is not a full replacement). `PATCH` requires none. A list "
        "field that is sent replaces the whole list.\n"
        "* **Lists.** 50 a page (`page_size` up to 200). `count` is exact up to 10,000 "
        "(`count_capped` says when it stops there). To walk or sync everything, send `cursor=` "
        "(empty) and follow `next`: proposals by `updated_at`, oldest first, at the same cost "
        "however deep; combine with `updated_since`. A malformed query parameter is a 400 naming it; an empty "
        "one (`status=`, as HTML forms send) means no filter.\n"
        "* **URLs.** Every path works with or without its trailing slash, for every method: the API "
        "never redirects (a redirected write would be re-sent as a `GET` and lost).\n"
        "* **Errors.** Every 4xx and 5xx is RFC 9457 problem details "
        "(`application/problem+json`), unknown URLs and crashes included; validation errors list each "
        "field at fault in `errors`.\n"
        "* **Limits.** Too many requests get 429 with `Retry-After`; so do repeated failed tokens "
        "from one address, for a while whatever the token. CSV exports have a stricter limit of "
        "their own, and while the server's few export slots are busy an export gets 503 with "
        "`Retry-After`. While the database is unavailable, 503 with `Retry-After`.\n"
        "* **Tokens.** Revoke the token you are using with `POST /api/v1/auth/logout/`, or all of "
        "your tokens with `POST /api/v1/auth/logout-all/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so generated clients get
    # accurate types for what they send and what they receive.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Bodies are documented as JSON only (the conventions above). The form
    # parsers serve the browsable API's HTML forms and stay undocumented.
    "PARSER_WHITELIST": ["proposals.api.parsers.JSONParser"],
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "proposals.models.Status",
        "DatePrecisionEnum": "proposals.models.DatePrecision",
        "ActorKindEnum": "proposals.models.ActorKind",
        "VenueKindEnum": "proposals.models.VenueKind",
        "ProponentRoleEnum": "proposals.models.ProponentRole",
        "RelationTypeEnum": "proposals.models.RelationType",
        "AuthorRoleEnum": "proposals.changes.feed.AUTHOR_ROLES",
        "ResourceTypeEnum": "proposals.changes.feed.RESOURCE_TYPES",
    },
    "TAGS": [
        {"name": "proposals", "description": "Policy proposals, their quotes and status timelines."},
        {"name": "actors", "description": "People, organisations, states and bodies."},
        {"name": "venues", "description": "Summits, standing bodies, channels, frameworks, publications."},
        {"name": "sources", "description": "The texts that evidence quotes point into."},
        {"name": "topics", "description": "Policy areas."},
        {"name": "auth", "description": "Revoking your own API tokens."},
    ],
}

# Security headers; the HTTPS-only ones switch on with DJANGO_SECURE (see .env.example).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_SECURE", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # In-cluster probes speak plain HTTP to the pod: a 301 would fail them.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
if os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER"):
    # e.g. "HTTP_X_FORWARDED_PROTO,https" when behind a TLS-terminating proxy.
    SECURE_PROXY_SSL_HEADER = tuple(os.environ["DJANGO_SECURE_PROXY_SSL_HEADER"].split(",", 1))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
