"""Every setting Solidarity reads, with a safe embedded default and the reason for it.

Loaded first; then config/<SOLIDARITY_ENV>.py, then the instance file (instance/solidarity.cfg,
outside the repository), then SOLIDARITY_* environment variables (SOLIDARITY_DATABASE_URL sets
DATABASE_URL). Values from the environment are parsed as JSON when they look like JSON.
"""
from datetime import timedelta

# -- Where the service lives ------------------------------------------------------------------
# Public base URL: signed links in emails and the Twilio webhook signature are computed against it.
PUBLIC_URL = "http://127.0.0.1:5000"
# Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host/-Port (nginx, a load
# balancer: 1 each). 0 trusts none of these headers, so a client cannot forge its address (rate
# limits) or the scheme. Never more than really sit in front: each hop trusted is one a client can forge.
PROXY_FIX_HOPS = 0
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
# memory:// counts per process: with several gunicorn workers or machines set a shared store, e.g.
# SOLIDARITY_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (needs the `redis` extra).
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True
# Sign-in attempts (password and code steps) per client address...
LOGIN_RATE_LIMIT = "10 per minute"
# ...and per account, whatever the address: slows a botnet guessing one person's password. Kept
# loose enough that someone hammering a coordinator's account cannot lock them out for long.
LOGIN_ACCOUNT_RATE_LIMIT = "20 per hour"
APPLY_RATE_LIMIT = "5 per hour"
# Abuse limits: one compromised account or stolen phone must not flood the network. A request over a
# limit gets 429 with a message and writes nothing. Incident reports through the web form and the
# API, per person and per organisation (all its people together; web and API count together):
INTAKE_RATE_LIMIT_ACCOUNT = "10 per hour"
INTAKE_RATE_LIMIT_ORGANISATION = "30 per hour"
# Every SMS to our number (reports, answers, check-ins), per sender number. Only requests with a
# valid Twilio signature count, so a forger cannot use up a real member's allowance.
SMS_RATE_LIMIT_PHONE = "30 per hour"
# Fan-out: requests for help (match_request SMS and emails) sent for one reporting organisation's
# incidents within the window. Past it a new report is refused (429; by SMS: "not filed") and
# escalation waves wait until the window has room, so a coordinator can look first.
FANOUT_MAX_MESSAGES = 300
FANOUT_WINDOW_SECONDS = 3600
# The case conversation (incidents/messages.py): posts per person within the window, by web, API
# and SMS together (progress reports and contact requests count too). Over it: 429, nothing posted.
MESSAGE_RATE_LIMIT_COUNT = 30
MESSAGE_RATE_LIMIT_SECONDS = 600

# -- The domain ---------------------------------------------------------------------------------
# "New message on case K7QF" is sent to a person at most once per this many seconds per case: the
# first post of a burst is told at once, the rest once when the window ends (one notice for all).
MESSAGE_NOTIFY_BATCH_SECONDS = 300
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

# -- Notifications: outbox dispatcher, channels, answer links (solidarity/notify) ------------------
# `log` writes what would be sent to NOTIFY_LOG_FILE in the instance folder: nothing leaves the machine.
SMS_BACKEND = "log"  # log | twilio
EMAIL_BACKEND = "log"  # log | smtp
NOTIFY_LOG_FILE = "outbox.log"
# Worker (`flask --app wsgi worker`): idle poll, rows claimed per round trip, and the two leases.
# A claimed row not started within the claim lease goes back to the pool (nothing was sent); a row
# still "sending" after the send lease is failed as ambiguous and reaches the person by the other
# channel instead of being resent. The send lease must exceed the slowest provider call
# (TWILIO_TIMEOUT, or SMTP_TIMEOUT for each of connect, STARTTLS, login and send).
NOTIFY_POLL_INTERVAL = 0.5  # seconds; half of it is the mean added latency of an alert
NOTIFY_BATCH_SIZE = 20
NOTIFY_CLAIM_LEASE_SECONDS = 60
NOTIFY_SEND_LEASE_SECONDS = 120
# Attempts per channel before giving up on it and falling back to the other one. SMS gives up
# sooner: an alert that is minutes late is better sent by email now.
NOTIFY_MAX_ATTEMPTS = {"sms": 4, "email": 6}
# Retry delay after attempt n: uniform in [0, min(CAP, BASE * 2**(n-1))] seconds ("full jitter"),
# so a provider outage does not end in every worker retrying in step.
NOTIFY_BACKOFF_BASE_SECONDS = 2.0
NOTIFY_BACKOFF_CAP_SECONDS = 300.0
# Twilio (SMS_BACKEND=twilio). The auth token also verifies inbound webhooks, whichever backend sends.
TWILIO_ACCOUNT_SID = ""
TWILIO_AUTH_TOKEN = ""  # secret
TWILIO_FROM = ""  # our number in E.164, or a messaging service's sender
TWILIO_API_BASE = ""  # empty: the SDK's https://api.twilio.com; set for a fake or staging API in tests
TWILIO_TIMEOUT = 10.0  # seconds per API call; a read timeout is an ambiguous outcome, never resent by SMS
TWILIO_URGENT_VALIDITY = 600  # seconds an urgent alert may wait in Twilio's queue before it is dropped (then email)
# SMTP (EMAIL_BACKEND=smtp).
SMTP_HOST = "localhost"
SMTP_PORT = 587
SMTP_USERNAME = ""
SMTP_PASSWORD = ""  # secret
SMTP_STARTTLS = True
SMTP_FROM = "Solidarity <alerts@localhost>"
SMTP_TIMEOUT = 15.0
# Email answer links (accept / decline): signed with SECRET_KEY, single use, valid this long.
ANSWER_LINK_MAX_AGE_SECONDS = 3 * 24 * 3600
# Severity of incidents opened by SMS (`RAID`, `HELP LEGAL`): 3 (urgent) unless the reporter edits it.
SMS_INTAKE_SEVERITY = 3

# -- Matching and escalation waves (solidarity/matching) -----------------------------------------
# An offer not confirmed (created, edited or re-confirmed) within this many days is no longer matched:
# a stale directory entry would send a threatened organisation to someone who cannot help any more.
OFFER_CONFIRM_DAYS = 90
# Reliability (accept rate, median time to answer) counts the requests of this many past days, so an
# organisation's record follows its present team rather than its history.
MATCH_HISTORY_DAYS = 365
# Waves per severity (1 watch .. 4 life or liberty at risk): how many organisations each wave asks
# per need, how long to wait for an acceptance before the next wave, and how many waves before the
# coordinators are alerted. "interval" is a timedelta, or seconds when set from the environment, e.g.
# SOLIDARITY_ESCALATION_POLICY='{"4": {"wave_size": 3, "interval": 5, "max_waves": 2}, ...}' (every
# severity must be given: the variable replaces the whole table).
ESCALATION_POLICY = {
    4: {"wave_size": 3, "interval": timedelta(minutes=10), "max_waves": 3},
    3: {"wave_size": 3, "interval": timedelta(hours=1), "max_waves": 3},
    2: {"wave_size": 3, "interval": timedelta(hours=6), "max_waves": 3},
    1: {"wave_size": 3, "interval": timedelta(hours=24), "max_waves": 3},
}

# -- Escalation clock, check-ins, directory freshness, retention (solidarity/escalation, scheduler) --
# `flask --app wsgi scheduler` wakes this often to perform the steps that fell due (next waves,
# check-in reminders and alarms). Deadlines live in the database; this only bounds how late a step
# can be, so keep it well under the shortest wave interval.
ESCALATION_TICK_SECONDS = 15
# After a check-in reminder, how long the organisation has to answer `OK <ref>` before its chosen
# responders and the coordinators are alerted. An organisation may choose its own (5..1440).
CHECKIN_GRACE_MINUTES = 60
# Incidents closed or withdrawn longer than this have their summary, details and notes erased
# (data key destroyed and ciphertext nulled); the non-identifying fields stay for the indicators.
RETENTION_DAYS = 180
# Offers are matched for OFFER_CONFIRM_DAYS after their last confirmation; their organisation's
# admins are reminded this many days before that.
OFFER_REMINDER_DAYS_BEFORE = 14
