"""One `Settings` for the whole service, read from the environment.

Development (the default) works with nothing configured: SQLite under `var/` and an embedded Redis server.
Production refuses to start on unsafe defaults instead of silently running on them.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.cases.ladder import parse_ladder

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "development-only-secret"})
MiB = 1024 * 1024
MAX_DEFAULT_INTAKE = 8


class Settings(BaseSettings):
    """Service configuration; every field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    triage_env: Literal["development", "production"] = "development"
    # Development only: production refuses this placeholder (see _refuse_unsafe_production).
    secret_key: str = "development-only-secret"  # noqa: S105
    database_url: str | None = None
    redis_url: str | None = None
    var_dir: Path = Path("var")
    rules_dir: Path = Path("rules")
    home_region: str = Field(default="VN", min_length=2, max_length=2)

    max_body_bytes: int = Field(default=10 * MiB, gt=0)
    max_email_bytes: int = Field(default=10 * MiB, gt=0)
    max_batch_lines: int = Field(default=1000, ge=1, le=100_000)
    max_sms_chars: int = Field(default=5000, gt=0)
    db_pool_size: int = Field(default=10, gt=0)
    access_log: bool = True
    worker_fork: bool = False
    job_timeout_seconds: int = Field(default=30, ge=1, le=3600)
    reconcile_seconds: float = Field(default=5.0, gt=0, le=3600)
    # A critical case is POSTed here (signed with WEBHOOK_SECRET when set); unset means no notices.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    retention_days: int = Field(default=90, ge=1, le=36500)
    # "IP" or "IP:port" of a DNS resolver for the reverse-DNS, SPF and DMARC look-ups; unset means none.
    dns_resolver: str | None = None
    case_window_days: int = Field(default=30, ge=1, le=3650)
    # "REPORTS/HOURSh:LEVEL" steps: that many linked reports within that many hours open or lift a case.
    escalation_ladder: str = "5/24h:high,25/24h:critical"
    sla_hours: dict[str, float] = Field(default_factory=lambda: {"urgent": 2.0, "review": 8.0, "watch": 40.0})
    sla_timezone: str = "Asia/Ho_Chi_Minh"
    auth_cache_seconds: float = Field(default=5.0, ge=0)
    enable_bench_echo: bool = False
    # Processes that validate, analyse and store reports beside the API's event loop; 0 does it on the loop.
    # Unset: one per CPU beyond the API's own (see intake_processes).
    intake_workers: int | None = Field(default=None, ge=0, le=64)
    # An intake process that leaves a report unanswered this long is stuck, and is killed and started again.
    intake_timeout_seconds: float = Field(default=120.0, gt=0, le=3600)

    @field_validator("escalation_ladder")
    @classmethod
    def _valid_ladder(cls, value: str) -> str:
        parse_ladder(value)
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.triage_env != "production":
            return self
        problems = []
        if self.secret_key in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if not self.database_url:
            problems.append("DATABASE_URL must be set explicitly")
        if not self.redis_url:
            problems.append("REDIS_URL must be set explicitly")
        if problems:
            raise ValueError("unsafe production configuration: " + "; ".join(problems))
        return self

    @property
    def intake_processes(self) -> int:
        """INTAKE_WORKERS, or by default one per CPU (at least one, so that a big email never stalls the
        loop; at most eight, each holds the rules in RAM).

        One per CPU, the API's own included: under load the API's event loop keeps a third of a core busy, and
        an intake process spends part of each round waiting for its commit, when another can analyse. On 2
        cores, two intake processes against one (bench/ab_ingest.py): B/A 1.145 at 32 connections (B faster
        in 7 of 8 pairs) and 1.058 at 16 (6 of 6) on PostgreSQL, 1.100 at 32 on SQLite (5 of 6).
        """
        if self.intake_workers is not None:
            return self.intake_workers
        return max(1, min(MAX_DEFAULT_INTAKE, usable_cpus()))

    @property
    def effective_database_url(self) -> str:
        """The configured database, or SQLite under var/ in development."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.var_dir / 'triage.sqlite3').resolve()}"


CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The CPUs this process may use: its CPU set, and no more than a container's CPU quota allows.

    `docker run --cpus=2` or a Kubernetes CPU limit leaves every host CPU in the set and caps the time
    instead (cgroup v2's cpu.max, "QUOTA PERIOD"): counting the set would start an intake process per
    host CPU.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return cpus
    if quota == "max" or not quota.isdigit() or not period.isdigit() or int(period) == 0:
        return cpus
    return max(1, min(cpus, math.ceil(int(quota) / int(period))))


def normalise_database_url(url: str) -> str:
    """Point bare postgres URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
