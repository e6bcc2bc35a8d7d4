"""Entry point for gunicorn and `flask --app wsgi ...`."""
from solidarity import create_app

app = create_app()
