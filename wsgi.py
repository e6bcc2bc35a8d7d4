"""Entry point for gunicorn and `flask --app wsgi ...`."""
from solidarity import create_app, logs

app = create_app()
logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
