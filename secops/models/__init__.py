"""All tables. Importing this package registers every model on ``SQLModel.metadata`` (alembic reads it).

One module per domain noun; feature packages add theirs to the import list below.
"""

from secops.models import (  # noqa: F401  (feature tables)
    compliance,
    incident,
    netscan,
    schedule,
)
from secops.models.agency import Agency
from secops.models.audit import AuditEvent
from secops.models.host import Host
from secops.models.scope import Scope
from secops.models.system import System, SystemComponent

__all__ = ["Agency", "AuditEvent", "Host", "Scope", "System", "SystemComponent"]
