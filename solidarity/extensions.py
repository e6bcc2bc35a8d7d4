"""Flask extensions, created unbound here and bound in create_app(); the only place they are made."""
from __future__ import annotations

from flask import current_app
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names let Alembic alter and drop constraints on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# In the app rather than only in a proxy, so `flask serve` (the embedded default) compresses too.
compress = Compress()


def settings() -> dict:
    """Read-only view of the running app's configuration for domain policies (help types, limits).

    Domain code calls this instead of importing Flask, so a service stays testable with any config.
    """
    return current_app.config


def keyring():
    return current_app.extensions["solidarity.keyring"]


def hooks(name: str) -> list:
    """What a higher layer installed (create_app) for a lower one to call at one moment, e.g.
    "incident_ended": the incidents service stops check-ins without importing escalation."""
    return current_app.extensions.get(f"solidarity.hooks.{name}", [])
