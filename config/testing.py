"""Test overrides: cheap password hashing, fixed throwaway keys, CSRF left on (tests send tokens)."""
TESTING = True
SESSION_COOKIE_SECURE = False
ARGON2_TIME_COST = 1
ARGON2_MEMORY_COST = 8
ARGON2_PARALLELISM = 1
SECRET_KEY = "test-secret-key-not-for-production"
ENCRYPTION_KEYS = "ktest1:" + "A" * 42 + "Q="  # 32 zero-ish bytes; tests only
BLIND_INDEX_KEY = "B" * 42 + "Q="
RATELIMIT_ENABLED = False  # limits have their own tests, which switch this back on
