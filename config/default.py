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
# Password recovery ("Forgot password?"): the emailed link works once and for this long...
PASSWORD_RESET_MAX_AGE_SECONDS = 30 * 60
# ...and one account gets at most this many reset emails in the window, whoever asks, so nobody can
# flood a person's inbox. Past it the page answers the same and nothing is sent (audited).
PASSWORD_RESET_PER_ACCOUNT = 3
PASSWORD_RESET_WINDOW_SECONDS = 3600

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
# "Forgot password?" requests per client address (the per-account cap is PASSWORD_RESET_PER_ACCOUNT).
PASSWORD_RESET_RATE_LIMIT_ADDRESS = "10 per hour"
# Abuse limits: one compromised account or stolen phone must not flood the network. A request over a
# limit gets 429 with a message and writes nothing. Incident reports through the web form and the
# API, per person and per organisation (all its people together; web and API count together). Only
# reports that pass their checks count, so a form sent back for a mistake uses up nothing; a refused
# report comes back filled in, with the wait in words and EMERGENCY_CONTACT:
INTAKE_RATE_LIMIT_ACCOUNT = "10 per hour"
INTAKE_RATE_LIMIT_ORGANISATION = "30 per hour"
# Every SMS to our number (reports, answers, check-ins), per sender number. Only answered requests
# with a valid Twilio signature count (not forgeries, not our own 500s), so a forger cannot use up
# a real member's allowance.
SMS_RATE_LIMIT_PHONE = "30 per hour"
# Only commands spend it (answers, reports, check-ins, a wrong PIN too). Text we cannot read as a
# command, and HELP, get the usage reply from this looser allowance instead, so a mistyped report
# does not use up the allowance the correct one needs. The "too many messages" replies draw on it
# too; past it nothing gets a reply at all, so a flood cannot run up the bill for replies.
SMS_UNREAD_RATE_LIMIT_PHONE = "60 per hour"
# Twilio webhooks without a valid signature are refused without any write (no audit row, no limit
# spent); they are logged at most once per this many seconds per source address, with a count.
WEBHOOK_REFUSAL_LOG_SECONDS = 300
# Proving a phone number (members/phones.py): a number is trusted only once the code sent to it by
# SMS comes back. Codes are valid this long, for this many wrong tries, and at most this many are
# sent per person and per number within an hour (counted in the database, so every process agrees).
PHONE_CODE_MINUTES = 15
PHONE_CODE_ATTEMPTS = 5
PHONE_CODES_PER_HOUR = 3
# Fan-out: requests for help (match_request SMS and emails) sent for one reporting organisation's
# incidents within the window. Past it a new report is refused (429; by SMS: "not filed") and
# escalation waves wait until the window has room, so a coordinator can look first.
FANOUT_MAX_MESSAGES = 300
FANOUT_WINDOW_SECONDS = 3600
# The case conversation (incidents/messages.py): posts per person within the window, by web, API
# and SMS together (progress reports and contact requests count too). Over it: 429, nothing posted.
MESSAGE_RATE_LIMIT_COUNT = 30
MESSAGE_RATE_LIMIT_SECONDS = 600

# -- Whom to call when the service cannot help --------------------------------------------------------
# The network's emergency number (coordinators, day and night), e.g. "+254 700 000 000". Shown on the
# report form, on error pages, in the SMS HELP reply and whenever a limit refuses a report, so a
# person who cannot file right now knows whom to call. In SMS only digits, + and spaces are kept.
# Empty: pages say "call your coordinator" and SMS replies name no number.
EMERGENCY_CONTACT = ""

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
# pool_pre_ping: a pooled connection is checked before use, so one the database dropped (a restart,
# a failover, an idle timeout) is replaced instead of failing the request that drew it.
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
# JSON bodies nested deeper are refused (400) before they are parsed: our deepest document (a play
# version's steps and checklists) needs 4 levels, and the parser recurses on each one.
JSON_MAX_DEPTH = 20

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
# On SIGINT or SIGTERM `worker`, `scheduler` and `serve` finish the row or job in hand and exit; one
# still running after this many seconds is abandoned and the process exits anyway (a send left
# half-done is recovered as ambiguous when its lease runs out, then sent by the other channel).
# Keep it under your supervisor's kill timeout (systemd TimeoutStopSec, Kubernetes' 30 s grace).
SHUTDOWN_GRACE_SECONDS = 4.0
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
# Each inbound SMS is recorded by its Twilio MessageSid with the reply we gave (encrypted), so that
# Twilio's retry of a webhook is answered alike and acted on once. Deleted after this many hours
# (Twilio retries within seconds; the margin covers a long outage on its side).
INBOUND_SMS_KEEP_HOURS = 48
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

# -- Operations: logs, metrics (README "Running it for real") ------------------------------------
# `text` for people at a terminal (development); `json` for a log collector: one object a line with
# time, level, logger, message and, for requests, request_id, route, status, duration_ms, user_id.
# Every field is redacted (phone numbers, emails, tokens) either way.
LOG_FORMAT = "text"
LOG_LEVEL = "INFO"
# Prometheus metrics. The web app serves GET /metrics only while this is set, and only to a scraper
# sending `Authorization: Bearer <token>` (Prometheus: `authorization: {credentials: ...}`). Unset:
# the path does not exist. Make it with `flask --app wsgi keys generate --blind-index`.
METRICS_TOKEN = None  # secret
# The worker and the scheduler serve their own metrics on these ports (0: off) at METRICS_ADDRESS;
# keep that a loopback or private address: these ports have no token.
WORKER_METRICS_PORT = 0
SCHEDULER_METRICS_PORT = 0
METRICS_ADDRESS = "127.0.0.1"
# How many web processes serve this database in all (every machine's gunicorn workers added up);
# gunicorn's WEB_CONCURRENCY is read too. Above 1, `flask --app wsgi check` insists on a shared
# rate-limit store (RATELIMIT_STORAGE_URI), since memory:// would give each process its own counts.
WEB_PROCESSES = 1

# -- Health (solidarity/health.py): GET /healthz and GET /readyz for load balancers -------------
# /readyz answers 503 when one of these is exceeded (0 or None switches that check off). A worker
# beats at the start of a round, at most every 5 s (a busy round lasts a batch of provider calls:
# allow for NOTIFY_BATCH_SIZE slow ones); the active scheduler every third of a tick.
READY_WORKER_HEARTBEAT_MAX_SECONDS = 120
READY_SCHEDULER_HEARTBEAT_MAX_SECONDS = 60
# The oldest message due and still queued: older means the workers are down or cannot keep up.
READY_OUTBOX_MAX_AGE_SECONDS = 300
