"""The shape the product brief requires: compose topology, top-level folders, a pure core."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from tests.conftest import REPO

FORBIDDEN_IN_CORE = ("fastapi", "starlette", "sqlalchemy", "redis", "rq", "alembic", "service.db")


def test_compose_file_parses_and_names_the_topology() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api", "worker", "redis", "postgres"} <= services.keys()
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command
    assert "--appendfsync everysec" in redis_command
    assert "--maxmemory-policy noeviction" in redis_command
    # `--scale worker=N` needs a worker with no fixed name or published port.
    assert "container_name" not in services["worker"]
    assert "ports" not in services["worker"]
    assert services["worker"]["command"][:2] == ["triage", "worker"]
    assert services["api"]["environment"]["DATABASE_URL"].startswith("postgresql")


def test_required_top_level_layout() -> None:
    for name in (
        "pyproject.toml",
        "service",
        "workers",
        "rules",
        "tests",
        "docker-compose.yml",
        "Dockerfile",
        "README.md",
        "rules/scoring.yaml",
        ".ci/run",
    ):
        assert (REPO / name).exists(), name


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_no_io_frameworks() -> None:
    offenders = []
    for package in ("parsing", "scoring", "analysis"):
        for path in (REPO / "service" / package).rglob("*.py"):
            for module in imported_modules(path):
                if any(module == name or module.startswith(name + ".") for name in FORBIDDEN_IN_CORE):
                    offenders.append(f"{path.relative_to(REPO)} imports {module}")
    assert offenders == []


def test_service_never_imports_workers() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "service").rglob("*.py")
        if any(module.split(".")[0] == "workers" for module in imported_modules(path))
    ]
    assert offenders == []
