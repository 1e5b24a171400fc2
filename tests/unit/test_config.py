from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.config import Settings, normalise_database_url, usable_cpus


def test_development_defaults_need_nothing() -> None:
    settings = Settings(_env_file=None)
    assert settings.triage_env == "development"
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("var/triage.sqlite3")
    assert settings.home_region == "VN"


@pytest.mark.parametrize("secret", ["development-only-secret", "change-me", "short"])
def test_production_refuses_a_placeholder_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            triage_env="production",
            secret_key=secret,
            database_url="postgresql://db/x",
            redis_url="redis://r:6379/0",
        )


def test_production_requires_explicit_database_and_redis() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL") as excinfo:
        Settings(triage_env="production", secret_key="k" * 40)
    assert "REDIS_URL" in str(excinfo.value)


def test_production_accepts_a_real_configuration() -> None:
    settings = Settings(
        triage_env="production",
        secret_key="k" * 40,
        database_url="postgresql://db/x",
        redis_url="redis://r:6379/0",
    )
    assert settings.effective_database_url == "postgresql+psycopg://db/x"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("HOME_REGION", "GB")
    settings = Settings()
    assert (settings.max_body_bytes, settings.home_region) == (2048, "GB")


def test_postgres_urls_use_psycopg() -> None:
    assert normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_intake_processes_default_to_one_per_cpu_and_follow_an_explicit_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INTAKE_WORKERS", raising=False)
    cpus = usable_cpus()
    assert Settings(_env_file=None).intake_processes == max(1, min(8, cpus))
    assert Settings(intake_workers=0).intake_processes == 0
    monkeypatch.setenv("INTAKE_WORKERS", "3")
    assert Settings().intake_processes == 3
    monkeypatch.setenv("INTAKE_WORKERS", "-1")
    with pytest.raises(ValidationError):
        Settings()


def test_usable_cpus_honour_a_container_cpu_quota(tmp_path: Path) -> None:
    everything = usable_cpus(tmp_path / "absent")
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    assert usable_cpus(cpu_max) == everything
    cpu_max.write_text("150000 100000\n")  # --cpus=1.5: two processes' worth, at most
    assert usable_cpus(cpu_max) == min(everything, 2)
    cpu_max.write_text("50000 100000\n")
    assert usable_cpus(cpu_max) == 1
    cpu_max.write_text("garbage\n")
    assert usable_cpus(cpu_max) == everything
