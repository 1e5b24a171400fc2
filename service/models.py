"""Every mapped model, imported once so that the metadata (and Alembic) sees the whole schema."""

from service.audit.models import AuditEntry
from service.auth.models import ApiKey, Reporter, User
from service.campaigns.models import Campaign, CampaignIndicator, ReportIndicator
from service.cases.models import Case, CaseEvent
from service.dashboard.models import DashboardSession, LoginAttempt
from service.db import Base
from service.ingest.models import Report
from service.jobs.models import OutboxMessage

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignIndicator",
    "Case",
    "CaseEvent",
    "DashboardSession",
    "LoginAttempt",
    "OutboxMessage",
    "Report",
    "ReportIndicator",
    "Reporter",
    "User",
]
