"""Imports every model module so that metadata (create_all, Alembic autogenerate) sees every table."""
from solidarity import audit, fields, liveness  # noqa: F401
from solidarity.escalation import models as escalation  # noqa: F401
from solidarity.incidents import models as incidents  # noqa: F401
from solidarity.matching import models as matching  # noqa: F401
from solidarity.members import models as members  # noqa: F401
from solidarity.notify import models as notify  # noqa: F401
from solidarity.offers import models as offers  # noqa: F401
from solidarity.playbook import models as playbook  # noqa: F401
