"""Counters and histograms updated where the work happens; read by `/metrics`.

Labels carry channels, levels, queue and rule ids only: never message text, numbers or addresses.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REPORTS = Counter("triage_reports_total", "Reports stored, by channel and level", ["channel", "level"],
                  registry=REGISTRY)  # fmt: skip
REJECTED = Counter("triage_reports_rejected_total", "Report requests refused, by HTTP status", ["status"],
                   registry=REGISTRY)  # fmt: skip
ANALYSIS_SECONDS = Histogram("triage_analysis_seconds", "Parse and scoring time per report, by channel",
                             ["channel"], buckets=LATENCY_BUCKETS, registry=REGISTRY)  # fmt: skip
PARSE_SECONDS = Histogram("triage_parse_seconds", "Parse time per report (message, origin, entities)",
                          ["channel"], buckets=LATENCY_BUCKETS, registry=REGISTRY)  # fmt: skip
SCORING_SECONDS = Histogram("triage_scoring_seconds", "Rule scoring time per report, by channel",
                            ["channel"], buckets=LATENCY_BUCKETS, registry=REGISTRY)  # fmt: skip
STORE_SECONDS = Histogram("triage_store_seconds", "Time from analysis done to the report committed",
                          buckets=LATENCY_BUCKETS, registry=REGISTRY)  # fmt: skip
WRITER_BATCH = Histogram("triage_writer_batch_reports", "Reports per group commit",
                         buckets=(1, 2, 5, 10, 20, 50, 100, 200), registry=REGISTRY)  # fmt: skip
INTAKE_RESTARTS = Counter("triage_intake_restarts_total", "Intake processes found dead and started again",
                          registry=REGISTRY)  # fmt: skip
