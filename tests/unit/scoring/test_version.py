import shutil
import subprocess
from pathlib import Path

import pytest

from service.scoring import ruleset_version
from service.scoring.version import content_hash

GIT = shutil.which("git")


def test_content_hash_changes_with_content_and_names(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x", "utf-8")
    first = content_hash(tmp_path)
    assert first.startswith("sha256:")
    assert ruleset_version(tmp_path) == first  # not a git repository
    (tmp_path / "a.yaml").write_text("y", "utf-8")
    second = content_hash(tmp_path)
    (tmp_path / "a.yaml").rename(tmp_path / "b.yaml")
    assert len({first, second, content_hash(tmp_path)}) == 3


@pytest.mark.skipif(GIT is None, reason="git not installed")
def test_clean_git_folder_is_its_commit_and_dirty_is_a_hash(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(tmp_path), "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("x", "utf-8")
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "rules")
    commit = git("rev-parse", "HEAD")
    assert ruleset_version(rules) == commit
    (tmp_path / "elsewhere.txt").write_text("outside rules/", "utf-8")
    assert ruleset_version(rules) == commit
    (rules / "a.yaml").write_text("changed", "utf-8")
    assert ruleset_version(rules) == content_hash(rules)


def test_tree_fingerprint_changes_when_a_file_changes(tmp_path: Path) -> None:
    from service.scoring import tree_fingerprint

    (tmp_path / "a.yaml").write_text("x", "utf-8")
    first = tree_fingerprint(tmp_path)
    assert tree_fingerprint(tmp_path) == first
    (tmp_path / "a.yaml").write_text("xy", "utf-8")
    assert tree_fingerprint(tmp_path) != first
