"""Shared fixtures: the rule folders under tests/files/scoring and loaded rulesets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.scoring import Ruleset, load_ruleset

FILES = Path(__file__).resolve().parents[2] / "files" / "scoring"
REPO_RULES = Path(__file__).resolve().parents[3] / "rules"


@pytest.fixture(scope="session")
def good_ruleset() -> Ruleset:
    return load_ruleset(FILES / "good")


@pytest.fixture(scope="session")
def starter_pack() -> Ruleset:
    return load_ruleset(REPO_RULES)


@pytest.fixture
def good_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(FILES / "good", target)
    return target
