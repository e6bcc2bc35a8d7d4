"""Entry point for gunicorn and `flask --app wsgi ...`."""
import sys

import click

from solidarity import ConfigError, create_app, logs, unconfigured_app

try:
    app = create_app()
except ConfigError as exc:
    # One clear line, not a traceback. Under `flask`, the commands that help fix it still run.
    print(f"error: {exc}", file=sys.stderr)
    if click.get_current_context(silent=True) is None:
        sys.exit(3)  # gunicorn: the worker fails to boot and the master stops with this line above
    try:
        app = unconfigured_app()
    except ConfigError:
        sys.exit(2)  # not even the settings load (SOLIDARITY_ENV): the line above says why
else:
    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
