"""The embedded default: one process, SQLite, SMS and email to a local log, keys generated locally."""
SESSION_COOKIE_SECURE = False  # served over plain http://127.0.0.1 in development
GENERATE_MISSING_SECRETS = True
