"""Every setting Solidarity reads, with a safe embedded default and the reason for it.

Loaded first; then config/<SOLIDARITY_ENV>.py, then the instance file (instance/solidarity.cfg,
outside the repository), then SOLIDARITY_* environment variables (SOLIDARITY_DATABASE_URL sets
DATABASE_URL). Values from the environment are parsed as JSON when they look like JSON.
"""
from datetime import timedelta

# -- Where the service lives ------------------------------------------------------------------
# Public base URL: signed links in emails and the Twilio webhook signature are computed against it.
PUBLIC_URL = "http://127.0.0.1:5000"
# Empty means SQLite in the instance folder (file, WAL, foreign keys on). For scale-out use
# postgresql+psycopg://user@host/dbname.
DATABASE_URL = ""

# -- Secrets: never in the repository ----------------------------------------------------------
# In development they are generated into instance/solidarity.cfg on first run; in production a
# missing one stops start-up.
SECRET_KEY = None  # signs the session cookie and email links
ENCRYPTION_KEYS = None  # "kid:base64key[,kid:base64key...]", newest first; first wraps, all unwrap
BLIND_INDEX_KEY = None  # base64; keys the lookup digests of phone and email and the audit chain

# -- Sessions and sign-in ----------------------------------------------------------------------
SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
PERMANENT_SESSION_LIFETIME = SESSION_ABSOLUTE_TIMEOUT
SESSION_COOKIE_NAME = "solidarity_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # Lax, not Strict: links from alert emails must arrive signed in
SESSION_COOKIE_SECURE = True  # turned off only by config/development.py and testing.py
# Argon2id costs (RFC 9106 second recommendation: 64 MiB, 3 passes).
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST = 65536
ARGON2_PARALLELISM = 4

# -- Rate limits (Flask-Limiter syntax); storage shared by every process in production ----------
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True
LOGIN_RATE_LIMIT = "10 per minute"
APPLY_RATE_LIMIT = "5 per hour"

# -- The domain ---------------------------------------------------------------------------------
HELP_TYPES = ["legal", "communications", "diplomatic", "digital_security", "emergency_funds", "relocation"]
EXTRA_HELP_TYPES: list[str] = []  # appended to HELP_TYPES, e.g. ["psychosocial"]
LANGUAGES = ["en", "fr", "es", "ar", "ru", "sw", "pt"]  # interface and message languages shipped

# -- OpenAPI (flask-smorest) ---------------------------------------------------------------------
API_TITLE = "Solidarity API"
API_VERSION = "v1"
OPENAPI_VERSION = "3.0.3"
OPENAPI_URL_PREFIX = "/api/v1"
OPENAPI_JSON_PATH = "openapi.json"

# -- Web ------------------------------------------------------------------------------------------
WTF_CSRF_TIME_LIMIT = 3600
MAX_CONTENT_LENGTH = 256 * 1024  # nothing we accept is larger; refuse big bodies early
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
