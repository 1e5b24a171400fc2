"""Every mapped model, imported once so that the metadata (and Alembic) sees the whole schema."""

from service.auth.models import ApiKey, Reporter, User
from service.cases.models import Case
from service.db import Base
from service.ingest.models import Report
from service.jobs.models import OutboxMessage

__all__ = ["ApiKey", "Base", "Case", "OutboxMessage", "Report", "Reporter", "User"]
