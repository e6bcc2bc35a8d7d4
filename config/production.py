"""Production: every secret must come from the environment or the instance file."""
GENERATE_MISSING_SECRETS = False
PREFERRED_URL_SCHEME = "https"
