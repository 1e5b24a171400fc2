"""The ruleset version: the git commit of the rules folder when it is clean in a repository, else a hash."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

GIT_TIMEOUT_S = 5


def _git(rules_dir: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(rules_dir), *args],  # noqa: S607 - git from PATH, as operators expect
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def content_hash(rules_dir: Path) -> str:
    """sha256 over every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    files = sorted(p for p in rules_dir.rglob("*") if p.is_file() and ".git" not in p.parts)
    for path in files:
        relative = path.relative_to(rules_dir).as_posix().encode("utf-8")
        digest.update(len(relative).to_bytes(4, "big") + relative)
        data = path.read_bytes()
        digest.update(len(data).to_bytes(8, "big") + data)
    return f"sha256:{digest.hexdigest()}"


def tree_fingerprint(rules_dir: Path) -> str:
    """A cheap change detector for a file watcher: sha256 over each file's path, size and mtime (no reads)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in rules_dir.rglob("*") if p.is_file() and ".git" not in p.parts):
        stat = path.stat()
        digest.update(
            f"{path.relative_to(rules_dir).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()


def ruleset_version(rules_dir: Path) -> str:
    """The last commit touching `rules_dir` if it is in git with no uncommitted change there, else a hash."""
    commit = _git(rules_dir, "log", "-1", "--format=%H", "--", ".")
    if commit:
        status = _git(rules_dir, "status", "--porcelain", "--untracked-files=all", "--", ".")
        if status == "":
            return commit
    return content_hash(rules_dir)
