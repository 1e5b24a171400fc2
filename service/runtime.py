"""Building the long-lived parts of a process from `Settings`: database, analyzer, Redis."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import yaml
from alembic import command
from alembic.config import Config

from service.analysis.pipeline import Analyzer
from service.cases.ladder import parse_ladder
from service.cases.sla import SlaPolicy
from service.cases.triage import TriagePolicy
from service.config import Settings
from service.db import Database
from service.jobs.redis_server import EmbeddedRedis
from service.parsing.email import EmailLimits
from service.parsing.ip_origin import IpOriginLookup
from service.scoring import RulesetHolder

MIGRATIONS = Path(__file__).parent / "migrations"
# Young objects collected every 5,000 allocations rather than 700: a request makes a few thousand short-lived
# objects, and at 700 the collector ran several times per request.
GC_THRESHOLDS = (5000, 20, 20)


def settle_heap() -> None:
    """Hide what start-up built from the garbage collector, once the process is ready to serve.

    The rules, lists and geo tables are hundreds of thousands of objects that live as long as the process.
    Every full collection walked them all: a pause of tens of milliseconds on the event loop, which was the
    API's p99 on PostgreSQL (87 ms before, 19 ms after, `bench/ingest.py`).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def migrate(database_url: str) -> None:
    """Bring the schema up to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")


def build_database(settings: Settings) -> Database:
    """The configured database (SQLite under var/ by default)."""
    return Database(settings.effective_database_url, pool_size=settings.db_pool_size)


def build_analyzer(settings: Settings) -> Analyzer:
    """Load the rules, lists and geo data once; refuses to start on an invalid ruleset."""
    rules = RulesetHolder()
    loaded = rules.reload(settings.rules_dir)
    if not loaded.ok:
        problems = "; ".join(str(issue) for issue in loaded.issues[:20])
        raise RuntimeError(f"the rules in {settings.rules_dir} are invalid: {problems}")
    ip_lookup = IpOriginLookup.load(lists_dir=settings.rules_dir / "lists", home_region=settings.home_region)
    limits = build_email_limits(settings)
    return Analyzer(home_region=settings.home_region, rules=rules, ip_lookup=ip_lookup, email_limits=limits)


def build_email_limits(settings: Settings) -> EmailLimits:
    """The bounds on parsing an email: the analysis's, and triage's when it reads a stored one again."""
    return EmailLimits(max_bytes=settings.max_email_bytes)


def build_sla_policy(settings: Settings) -> SlaPolicy:
    """Review deadlines per lane, from the settings."""
    return SlaPolicy(hours_by_lane=dict(settings.sla_hours), timezone=settings.sla_timezone)


def build_triage_policy(settings: Settings) -> TriagePolicy:
    """Correlation window, escalation ladder, lanes (from rules/scoring.yaml) and SLAs."""
    scoring = yaml.safe_load((settings.rules_dir / "scoring.yaml").read_text(encoding="utf-8")) or {}
    return TriagePolicy(
        window_days=settings.case_window_days,
        notify_critical=bool(settings.webhook_url),
        check_dns=bool(settings.dns_resolver),
        ladder=parse_ladder(settings.escalation_ladder),
        lanes=dict(scoring.get("lanes") or {}),
        sla=build_sla_policy(settings),
        hash_key=settings.secret_key.encode(),
        email_limits=build_email_limits(settings),
    )


def resolve_redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """REDIS_URL when set; otherwise an embedded server under var/, started now."""
    if settings.redis_url:
        return settings.redis_url, None
    embedded = EmbeddedRedis(settings.var_dir)
    url = embedded.start()
    # Child processes (the worker) find the same embedded server through the environment.
    os.environ["REDIS_URL"] = url
    return url, embedded
