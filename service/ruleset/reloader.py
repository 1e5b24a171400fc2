"""Hot reload of the rules folder on three triggers: the API, SIGHUP, and a change on disk.

Every trigger goes through `RulesetHolder.reload`, which validates the whole new set (its tests included)
before one atomic swap; a broken commit leaves the old set scoring and its errors on `GET /v1/rules`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from service.scoring import ReloadResult, RulesetHolder

log = logging.getLogger(__name__)
MAX_WATCHED_FILES = 20_000


def folder_signature(rules_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of the files under `rules_dir`: cheap to poll, changes with any edit."""
    entries = []
    for path in sorted(rules_dir.rglob("*"))[:MAX_WATCHED_FILES]:
        if path.is_file() and not path.name.startswith("."):
            stat = path.stat()
            entries.append((str(path.relative_to(rules_dir)), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


class RulesReloader:
    """Reloads `rules_dir` into `holder` when asked, on SIGHUP, or when the folder changes."""

    def __init__(
        self,
        holder: RulesetHolder,
        rules_dir: Path,
        *,
        poll_seconds: float = 2.0,
        followers: Sequence[Callable[[ReloadResult], None]] = (),
    ) -> None:
        self.holder = holder
        self.rules_dir = rules_dir
        self.poll_seconds = poll_seconds
        # Called after every successful swap, on the reloading thread: the intake processes reload then.
        self.followers = list(followers)
        self._stop = threading.Event()
        self._signature = folder_signature(rules_dir)
        self._hup_pending = False

    def reload(self, trigger: str) -> ReloadResult:
        """Validate and swap in the folder's rules now; logs the outcome either way."""
        self._signature = folder_signature(self.rules_dir)
        result = self.holder.reload(self.rules_dir)
        if result.ok:
            log.info("rules reloaded (%s): version %s", trigger, result.version)
            for follow in self.followers:
                follow(result)
        else:
            errors = "; ".join(str(issue) for issue in result.issues[:10])
            log.error("rules reload (%s) refused, still on %s: %s", trigger, result.version, errors)
        return result

    def start(self) -> None:
        """Watch the folder in a daemon thread, and reload on SIGHUP when on the main thread."""
        threading.Thread(target=self._watch, daemon=True, name="rules-watcher").start()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, self._on_sighup)

    def _on_sighup(self, *_: object) -> None:
        # Only a flag: a handler that takes a lock (starting a thread, setting an Event) can deadlock against
        # the code it interrupted. The watcher thread sees the flag within one poll.
        self._hup_pending = True

    def stop(self) -> None:
        self._stop.set()

    def check_for_changes(self) -> None:
        """Reload if SIGHUP asked for it, or if any file under the folder changed since the last load."""
        if self._hup_pending:
            self._hup_pending = False
            self.reload("SIGHUP")
            return
        try:
            if folder_signature(self.rules_dir) != self._signature:
                self.reload("file change")
        except OSError:
            log.warning("cannot read %s; keeping the active rules", self.rules_dir, exc_info=True)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.check_for_changes()
